// --format jsonl as text: each line crosses to the stages as a string and
// the stages run with `json: true`, so parsing and stringifying happen in the
// workers instead of twice on the main thread (see run/json-text.ts). Blank
// lines are skipped, and their numbers kept, so that an item's number can be
// told as the line it came from when it is not valid JSON.

import type { Duplex } from 'node:stream';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { asStream } from 'stream-chain';
import { none } from 'stream-chain/defs.js';
import gen from 'stream-chain/gen.js';
import { fixUtf8Stream } from 'stream-chain/utils/fixUtf8Stream.js';
import { lines } from 'stream-chain/utils/lines.js';

const NOT_BLANK = /\S/;

/** Bytes in, one string per non-blank line out; `lineOf(seq)` is the line number (from 1) of item `seq` (from 0). */
export interface JsonTextLines {
  stream: Duplex;
  readonly lineOf: (seq: number) => number;
}

export function jsonTextLines(): JsonTextLines {
  // Line numbers of blank lines, ascending: usually none, so this stays small.
  const blanks: number[] = [];
  let lineNumber = 0;
  const keepLine = (line: string): string | typeof none => {
    lineNumber++;
    if (NOT_BLANK.test(line)) return line;
    blanks.push(lineNumber);
    return none;
  };
  const stream: Duplex = asStream(gen(fixUtf8Stream(), lines(), keepLine), { writableObjectMode: false, readableObjectMode: true });
  return {
    stream,
    lineOf: (seq) => {
      let line = seq + 1;
      for (const blank of blanks) {
        if (blank > line) break;
        line++;
      }
      return line;
    },
  };
}

/** Strings in (the JSON text a `json: true` stage gives), lines out. */
export function textLinesOut(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(text: string, _encoding: BufferEncoding, callback: TransformCallback) {
      callback(null, text + '\n');
    },
  });
}
