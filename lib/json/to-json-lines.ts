// Items in, JSON Lines text out. stream-chain's JSONL stringer writes the
// separator *before* each value, so a line is only finished when the next
// item arrives: a live reader (a socket answering line by line) would always
// be one line behind. Serializing is one JSON.stringify per item, so this
// small Transform ends each line as it writes it instead.

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { resolveJsonStreamOptions } from './json-stream-options.js';

/** Options of {@link toJsonLines}. */
export interface ToJsonLinesOptions {
  /** Queue bound of the item (writable) side, in items. @default 64 */
  highWaterMark?: number;
}

const KNOWN = ['highWaterMark'] as const;

/** An item that toJsonLines cannot write; `index` counts the items it was given, from 0. */
export class JsonValueError extends TypeError {
  override name = 'JsonValueError';
  constructor(readonly index: number, readonly problem: string, cause?: unknown) {
    super(`toJsonLines: item ${index} ${problem}`, cause === undefined ? undefined : { cause });
  }
}

class JsonLinesWriter extends Transform {
  private written = 0;

  constructor(highWaterMark: number) {
    super({ writableObjectMode: true, writableHighWaterMark: highWaterMark });
  }

  override _transform(item: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = this.written++;
    let text: string | undefined;
    try {
      text = JSON.stringify(item);
    } catch (error) {
      callback(new JsonValueError(index, `cannot be written as JSON: ${(error as Error).message}`, error));
      return;
    }
    // JSON.stringify gives undefined (not an error) for a function or a symbol.
    if (text === undefined) {
      callback(new JsonValueError(index, `has no JSON form, got a ${typeof item}`));
      return;
    }
    callback(null, text + '\n');
  }
}

/**
 * A Transform that takes items (object mode) and gives newline-delimited JSON
 * text: one `JSON.stringify(item)` line per item, each ending in `\n` as soon
 * as it is written. An item with no JSON form (a function, a BigInt, a cycle)
 * fails the stream with a TypeError naming the item's index.
 *
 * @example
 * ```js
 * await pipeline(Readable.from([{ id: 1 }, { id: 2 }]), toJsonLines(), process.stdout);
 * // {"id":1}
 * // {"id":2}
 * ```
 *
 * @param options - see {@link ToJsonLinesOptions}
 * @returns the Transform: items in, JSON Lines text out
 * @throws TypeError for a bad or unknown option
 */
export function toJsonLines(options?: ToJsonLinesOptions): Transform {
  const { highWaterMark } = resolveJsonStreamOptions(options, KNOWN);
  return new JsonLinesWriter(highWaterMark);
}
