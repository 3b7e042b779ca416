// lib/json/: streaming JSON in and out (JSON Lines and JSON arrays in,
// JSON Lines out) for stages fed from files, sockets and HTTP bodies. It
// imports only checks.ts and its libraries; nothing of stages or pipelines.
//
// Bytes of JSON Lines in, one item per line out. stream-chain (stream-json's
// own dependency, to which stream-json 3 has moved its JSONL support and whose
// JSONL parser stream-json now only re-exports, deprecated) does the work:
// fixUtf8Stream joins multi-byte characters split across chunks, lines()
// splits on \n and \r\n, jsonlParser parses each line. We only count lines, so
// that a bad one can be named by its number, which jsonlParser does not track.

import type { Duplex } from 'node:stream';
import { checkChoice, resolveJsonStreamOptions } from './json-stream-options.js';
import { streamLibs } from './stream-libs.js';

/** Options of {@link jsonLines}. */
export interface JsonLinesOptions {
  /**
   * What a line that is not valid JSON does: `'fail'` destroys the stream with
   * a {@link JsonLineError} naming the line; `'skip'` drops it and counts it in
   * `invalidLines`.
   * @default 'fail'
   */
  onInvalid?: 'fail' | 'skip';
  /** Queue bound of the item (readable) side, in items. @default 64 */
  highWaterMark?: number;
}

/** The Duplex made by {@link jsonLines}. */
export interface JsonLinesStream extends Duplex {
  /** Lines dropped so far because they were not valid JSON (`onInvalid: 'skip'`). */
  readonly invalidLines: number;
}

/** A line of JSON Lines input that is not valid JSON; `cause` is JSON.parse's error. */
export class JsonLineError extends SyntaxError {
  /** `'JsonLineError'`. */
  override name = 'JsonLineError';
  /** `'ERR_INVALID_JSON_LINE'`. */
  readonly code = 'ERR_INVALID_JSON_LINE';
  /** The line's number, from 1, counting blank lines. */
  readonly lineNumber: number;

  /** @internal Made by jsonLines(). */
  constructor(lineNumber: number, cause: unknown) {
    super(`jsonLines: line ${lineNumber} is not valid JSON: ${(cause as Error).message}`, { cause });
    this.lineNumber = lineNumber;
  }
}

const KNOWN = ['onInvalid', 'highWaterMark'] as const;
const NOT_BLANK = /\S/;

function valueOf(entry: { key: number; value: unknown }): unknown {
  return entry.value;
}

/**
 * A Duplex that takes the bytes (Buffer or string chunks) of JSON Lines text
 * and gives the value of each line as one item. Blank lines are ignored; a
 * line holding `null` is dropped (an object-mode Node stream cannot carry
 * `null`). A line that is not valid JSON fails the stream with an error naming
 * its number once the lines before it have been read, or with
 * `onInvalid: 'skip'` is dropped and counted.
 *
 * @example
 * ```js
 * const lines = jsonLines({ onInvalid: 'skip' });
 * await pipeline(createReadStream('events.jsonl'), lines, stage(score), toJsonLines(), createWriteStream('scored.jsonl'));
 * console.log(`${lines.invalidLines} bad lines skipped`);
 * ```
 *
 * @param options - see {@link JsonLinesOptions}
 * @returns the Duplex: bytes in, values out; it counts skipped lines in `invalidLines`
 * @throws TypeError for a bad or unknown option; the stream fails with a
 *   {@link JsonLineError} for a bad line unless `onInvalid: 'skip'`
 */
export function jsonLines(options?: JsonLinesOptions): JsonLinesStream {
  const { given, highWaterMark } = resolveJsonStreamOptions(options, KNOWN);
  const policy = given.onInvalid === undefined ? 'fail' : checkChoice('options.onInvalid', given.onInvalid, ['fail', 'skip'] as const);
  const { asStream, gen, none, fixUtf8Stream, lines, jsonlParser } = streamLibs();
  let lineNumber = 0;
  let invalidLines = 0;
  let failed = false;
  // stream-chain runs each line through every later step before lines()
  // yields the next one, so `lineNumber` is the failing line's own number.
  const countLine = (line: string): string | symbol => {
    if (failed) return none; // nothing after a bad line goes on
    lineNumber++;
    return NOT_BLANK.test(line) ? line : none;
  };
  const onBadLine = (error: Error): undefined => {
    if (policy === 'fail') {
      failed = true;
      failOnceRead(stream, new JsonLineError(lineNumber, error));
    } else {
      invalidLines++;
    }
    return undefined; // jsonlParser drops a line whose indicator is undefined
  };
  const steps = gen(fixUtf8Stream(), lines(), countLine, jsonlParser({ errorIndicator: onBadLine }), valueOf);
  const stream: Duplex = asStream(steps, { writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: highWaterMark });
  return Object.defineProperty(stream, 'invalidLines', { get: () => invalidLines, enumerable: true }) as JsonLinesStream;
}

/**
 * Fails the stream once the lines before the bad one have been read. Throwing
 * in the chain would destroy it at once, and a destroyed stream drops what is
 * still in its buffer: a server answering line by line lost a different share
 * of the good lines' results on each run. Only a failed stream pays for the
 * wrapped read().
 */
function failOnceRead(stream: Duplex, error: JsonLineError): void {
  if (stream.readableLength === 0) {
    stream.destroy(error);
    return;
  }
  const read = stream.read.bind(stream);
  stream.read = function readThenFail(this: Duplex, size?: number): unknown {
    const chunk: unknown = read(size);
    // Synchronously, so that a stream whose input has ended emits 'error', not 'end'.
    if (this.readableLength === 0 && !this.destroyed) this.destroy(error);
    return chunk;
  };
}
