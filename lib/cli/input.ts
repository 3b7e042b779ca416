// Where items come from and where results go, by the --input, --format and
// --output options. Parsing is the library's jsonLines()/jsonArray(), and
// stream-chain's line splitter for plain lines: no parser of our own.
// Files are checked or opened before any stage starts, so that a bad path
// fails at once (exit code 1, naming the option).

import { constants, createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asStream } from 'stream-chain';
import verifier from 'stream-json/utils/verifier.js';
import gen from 'stream-chain/gen.js';
import { fixUtf8Stream } from 'stream-chain/utils/fixUtf8Stream.js';
import { lines } from 'stream-chain/utils/lines.js';
import { jsonArray } from '../json/json-array.js';
import { jsonLines } from '../json/json-lines.js';
import type { InputFormat } from './args.js';
import { fileFailure } from './program.js';

/** Fails with a CliFailure when --input names a file that cannot be read. */
export async function checkInput(path: string): Promise<void> {
  if (path === '-') return;
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw fileFailure(`--input ${path}`, 'read', error);
  }
}

// Files are read and written in 1 MB chunks rather than Node's 64 KB / 16 KB:
// each chunk is a round trip to libuv's thread pool, and with per-line writes
// a small buffer meant a write per few lines (measured on 50 MB of JSON
// Lines: the main thread busy 39% of the run, waiting on file I/O).
const FILE_CHUNK = 1024 * 1024;

export function openInput(path: string, stdin: Readable): Readable {
  return path === '-' ? stdin : createReadStream(path, { highWaterMark: FILE_CHUNK });
}

/**
 * Where the first syntax error of a JSON file is, `line L, column C (byte B)`,
 * found by reading it again with stream-json's verifier once the run has
 * failed (the parser itself does not track positions; see json-array.ts).
 * Undefined when the verifier finds nothing (a valid document that is not
 * an array) or the file cannot be read again.
 */
export async function locateJsonError(path: string): Promise<string | undefined> {
  const discard = new Writable({ objectMode: true, write: (_chunk, _encoding, callback) => callback() });
  try {
    await pipeline(createReadStream(path), verifier.asStream(), discard);
    return undefined;
  } catch (error) {
    const { line, pos, offset } = error as Partial<verifier.VerifierError>;
    return typeof line === 'number' && typeof pos === 'number' ? `line ${line}, column ${pos} (byte ${offset})` : undefined;
  }
}

/** Opens (creates or truncates) a file to write, or gives `stdout` for `-`; a CliFailure names `option`. */
export async function openOutput(option: string, path: string, stdout: Writable): Promise<Writable> {
  if (path === '-') return stdout;
  try {
    return (await open(path, 'w')).createWriteStream({ highWaterMark: FILE_CHUNK });
  } catch (error) {
    throw fileFailure(`${option} ${path}`, 'write', error);
  }
}

/** Bytes in, items out, for one --format. */
export function parserFor(format: InputFormat): Duplex {
  switch (format) {
    case 'jsonl':
      return jsonLines();
    case 'json':
      return jsonArray();
    case 'lines':
      return asStream(gen(fixUtf8Stream(), lines()), { writableObjectMode: false, readableObjectMode: true });
  }
}
