// Where items come from and where results go, by the --input, --format and
// --output options. Parsing is the library's jsonLines()/jsonArray(), and
// stream-chain's line splitter for plain lines: no parser of our own.
// Files are checked or opened before any stage starts, so that a bad path
// fails at once (exit code 1, naming the option).

import { constants, createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
import type { Duplex, Readable, Writable } from 'node:stream';
import { asStream } from 'stream-chain';
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

export function openInput(path: string, stdin: Readable): Readable {
  return path === '-' ? stdin : createReadStream(path);
}

/** Opens (creates or truncates) a file to write, or gives `stdout` for `-`; a CliFailure names `option`. */
export async function openOutput(option: string, path: string, stdout: Writable): Promise<Writable> {
  if (path === '-') return stdout;
  try {
    return (await open(path, 'w')).createWriteStream();
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
