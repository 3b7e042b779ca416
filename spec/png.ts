// A PNG decoder just big enough to look at a screenshot: 8-bit RGB or RGBA,
// not interlaced (what Chromium writes). Chunks are read, the IDAT data
// inflated with node:zlib and each scanline's filter undone (PNG spec §9).

import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel, rows top to bottom. */
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(file: Buffer): Image {
  if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < file.length;) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const body = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(body);
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) unfilter(raw, y, stride, channels, rows);
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    pixels[i * 4] = rows[i * channels]!;
    pixels[i * 4 + 1] = rows[i * channels + 1]!;
    pixels[i * 4 + 2] = rows[i * channels + 2]!;
    pixels[i * 4 + 3] = channels === 4 ? rows[i * channels + 3]! : 255;
  }
  return { width, height, pixels };
}

function unfilter(raw: Buffer, y: number, stride: number, bpp: number, out: Uint8Array): void {
  const filter = raw[y * (stride + 1)]!;
  const src = y * (stride + 1) + 1;
  const row = y * stride;
  const prior = row - stride;
  for (let x = 0; x < stride; x++) {
    const a = x >= bpp ? out[row + x - bpp]! : 0;
    const b = y > 0 ? out[prior + x]! : 0;
    const c = x >= bpp && y > 0 ? out[prior + x - bpp]! : 0;
    let predictor = 0;
    if (filter === 1) predictor = a;
    else if (filter === 2) predictor = b;
    else if (filter === 3) predictor = (a + b) >> 1;
    else if (filter === 4) predictor = paeth(a, b, c);
    out[row + x] = (raw[src + x]! + predictor) & 0xff;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Distinct colours among the pixels of rows [fromRow, toRow), and the share that differ from the top-left pixel (the background). */
export function colourFigures(image: Image, fromRow = 0, toRow = image.height): { distinct: number; notBackground: number } {
  const { width, pixels } = image;
  const background = (pixels[0]! << 16) | (pixels[1]! << 8) | pixels[2]!;
  const seen = new Set<number>();
  let other = 0;
  for (let i = fromRow * width; i < toRow * width; i++) {
    const rgb = (pixels[i * 4]! << 16) | (pixels[i * 4 + 1]! << 8) | pixels[i * 4 + 2]!;
    seen.add(rgb);
    if (rgb !== background) other++;
  }
  return { distinct: seen.size, notBackground: other / Math.max(1, (toRow - fromRow) * width) };
}

/** Pixels of exactly `rgb` (0xRRGGBB) among rows [fromRow, toRow). */
export function pixelsOf(image: Image, rgb: number, fromRow = 0, toRow = image.height): number {
  let count = 0;
  for (let i = fromRow * image.width; i < toRow * image.width; i++) {
    if (((image.pixels[i * 4]! << 16) | (image.pixels[i * 4 + 1]! << 8) | image.pixels[i * 4 + 2]!) === rgb) count++;
  }
  return count;
}
