// The few SVG shapes the run report draws, written by hand (no chart
// library, nothing fetched): text escaped for HTML, a palette, axes, a line
// chart over time buckets and a bar chart of shares. Numbers are rounded to
// one decimal of a pixel: a report's size is mostly its coordinates.

/** Text made safe inside HTML and SVG, attributes included. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Distinct for up to ten stages, readable on white (Tableau 10).
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Milliseconds (or any figure) with about three significant digits. */
export function fmt(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A short label for an axis tick: 1.2k, 35, 0.25. */
export function shortNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  if (abs >= 10 || abs === 0) return value.toFixed(0);
  return value.toFixed(abs >= 1 ? 1 : 2);
}

/** A round step near a fifth of `max`, for axis ticks. */
function niceStep(max: number): number {
  if (!(max > 0)) return 1;
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= rough)!;
  return step * power;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const CHART: Frame = { width: 560, height: 210, left: 48, right: 12, top: 22, bottom: 28 };

/** The y axis with ticks up to `max`, and its grid; returns the drawing and the rounded top. */
export function yAxis(frame: Frame, max: number, unit: string): { svg: string; top: number } {
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const inner = frame.height - frame.top - frame.bottom;
  let svg = '';
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = frame.top + inner - (v / top) * inner;
    svg += `<line class="grid" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${px(y)}" y2="${px(y)}"/>` +
      `<text class="tick" x="${frame.left - 4}" y="${px(y + 3)}" text-anchor="end">${shortNumber(v)}</text>`;
  }
  svg += `<text class="unit" x="4" y="12">${escapeHtml(unit)}</text>`;
  return { svg, top };
}

/** The x axis of seconds from 0 to `seconds`. */
export function timeAxis(frame: Frame, seconds: number): string {
  const step = niceStep(seconds);
  const inner = frame.width - frame.left - frame.right;
  const y = frame.height - frame.bottom;
  let svg = `<line class="axis" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${y}" y2="${y}"/>`;
  for (let t = 0; t <= seconds + step / 100 && seconds > 0; t += step) {
    const x = frame.left + (t / seconds) * inner;
    svg += `<text class="tick" x="${px(x)}" y="${y + 14}" text-anchor="middle">${shortNumber(t)}s</text>`;
  }
  return svg;
}

export interface LineSeries {
  name: string;
  colour: string;
  /** One value per bucket; NaN leaves a gap. */
  values: number[];
}

/** A line chart of values per time bucket, one line per series, with a legend. */
export function lineChart(title: string, unit: string, series: readonly LineSeries[], bucketSeconds: number): string {
  const frame = CHART;
  const count = Math.max(1, ...series.map((s) => s.values.length));
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v))));
  const { svg: axis, top } = yAxis(frame, max, unit);
  const innerW = frame.width - frame.left - frame.right;
  const innerH = frame.height - frame.top - frame.bottom;
  const x = (b: number): number => frame.left + ((b + 0.5) / count) * innerW;
  const y = (v: number): number => frame.top + innerH - (v / top) * innerH;
  const lines = series.map((s) => {
    const runs: string[][] = [[]];
    s.values.forEach((v, b) => {
      if (Number.isFinite(v)) runs[runs.length - 1]!.push(`${px(x(b))},${px(y(v))}`);
      else if (runs[runs.length - 1]!.length > 0) runs.push([]);
    });
    return runs.filter((r) => r.length > 0).map((r) => r.length === 1
      ? `<circle cx="${r[0]!.split(',')[0]}" cy="${r[0]!.split(',')[1]}" r="2" fill="${s.colour}"/>`
      : `<polyline fill="none" stroke="${s.colour}" stroke-width="1.8" points="${r.join(' ')}"/>`).join('');
  }).join('');
  return figure(title, `<svg viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img">` +
    `<title>${escapeHtml(title)}</title>${axis}${timeAxis(frame, count * bucketSeconds)}${lines}</svg>`, legend(series));
}

export function legend(entries: ReadonlyArray<{ name: string; colour: string }>): string {
  return `<div class="legend">${entries.map((e) => `<span><i style="background:${e.colour}"></i>${escapeHtml(e.name)}</span>`).join('')}</div>`;
}

export function figure(title: string, svg: string, extra = ''): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>${svg}${extra}</figure>`;
}

/** Horizontal bars of shares (0 to 1) with their labels: a latency histogram. */
export function shareBars(title: string, bars: ReadonlyArray<{ label: string; share: number }>, colour: string): string {
  const rowH = 16;
  const labelW = 130;
  const barW = 180;
  const height = Math.max(1, bars.length) * rowH + 4;
  const width = labelW + barW + 44;
  const rows = bars.map((b, i) => {
    const y = 2 + i * rowH;
    return `<text class="tick" x="${labelW - 6}" y="${y + 11}" text-anchor="end">${escapeHtml(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 2}" width="${px(Math.max(0.5, b.share * barW))}" height="${rowH - 4}" fill="${colour}"/>` +
      `<text class="tick" x="${px(labelW + b.share * barW + 4)}" y="${y + 11}">${Math.round(b.share * 100)}%</text>`;
  }).join('');
  return figure(title, `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escapeHtml(title)}</title>${rows}</svg>`);
}
