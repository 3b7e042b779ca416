// Where items come from and where results go, by the --input, --format and
// --output options. Parsing is the library's jsonLines()/jsonArray(), and
// stream-chain's line splitter for plain lines: no parser of our own.

import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Duplex, Readable, Writable } from 'node:stream';
import { asStream } from 'stream-chain';
import gen from 'stream-chain/gen.js';
import { fixUtf8Stream } from 'stream-chain/utils/fixUtf8Stream.js';
import { lines } from 'stream-chain/utils/lines.js';
import { jsonArray } from '../json/json-array.js';
import { jsonLines } from '../json/json-lines.js';
import type { InputFormat } from './args.js';
import { UsageError } from './usage.js';

/** Fails with a UsageError when --input names a file that cannot be read. */
export async function checkInput(path: string): Promise<void> {
  if (path === '-') return;
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(`--input ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

export function openInput(path: string, stdin: Readable): Readable {
  return path === '-' ? stdin : createReadStream(path);
}

export function openOutput(path: string, stdout: Writable): Writable {
  return path === '-' ? stdout : createWriteStream(path);
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
