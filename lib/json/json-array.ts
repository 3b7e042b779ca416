// Bytes of one top-level JSON array in, one item per element out. stream-json
// tokenizes and assembles; stream-chain's asStream turns that generator chain
// into a Duplex whose push backpressure reaches the parser (a slow reader
// stops the parsing, so memory holds about one element plus the queues).

import type { Duplex } from 'node:stream';
import type { jsonParser } from 'stream-json/parser.js';
import { resolveJsonStreamOptions } from './json-stream-options.js';
import { streamLibs } from './stream-libs.js';

/** Options of {@link jsonArray}. */
export interface JsonArrayOptions {
  /** Queue bound of the item (readable) side, in items. @default 64 */
  highWaterMark?: number;
}

const KNOWN = ['highWaterMark'] as const;

type TokenSource = ReturnType<typeof jsonParser>;

function valueOf(entry: { key: number; value: unknown }): unknown {
  return entry.value;
}

/**
 * A Duplex that takes the bytes (Buffer or string chunks) of a JSON document
 * whose top level is an array and gives each element as one item, in order,
 * without holding the whole array: arrays far larger than memory stream
 * through. A document that is not an array, or not valid JSON, destroys the
 * stream with stream-json's error (it names what was expected); a syntax
 * error's message says in which bytes of the input it was found.
 *
 * `null` elements are dropped: an object-mode Node stream cannot carry `null`
 * (it means end of stream).
 *
 * @example
 * ```js
 * import { createReadStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(createReadStream('records.json'), jsonArray(), stage(enrich), toJsonLines(), process.stdout);
 * ```
 *
 * @param options - see {@link JsonArrayOptions}
 * @returns the Duplex: bytes in, elements out
 * @throws TypeError for a bad or unknown option
 */
export function jsonArray(options?: JsonArrayOptions): Duplex {
  const { highWaterMark } = resolveJsonStreamOptions(options, KNOWN);
  const { asStream, gen, none, flushable, fixUtf8Stream, jsonParser: parser, streamArray } = streamLibs();
  // Where the chunk being parsed lies in the input, in bytes. Exact positions
  // would need stream-json's verifier beside the parser, about half as much
  // work again on every byte (measured: 16.7 MB in 1.7-2.7 s, 2.7-3.4 s with
  // it), for the rare failure: the command line finds the line and column in
  // a file after the fact instead (cli/input.ts).
  let start = 0;
  let end = 0;
  const countBytes = (chunk: Buffer | string): Buffer | string => {
    start = end;
    end += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return chunk;
  };
  // The parser is called with `none` at the end, though its type says text only.
  const locateErrors = (parse: TokenSource): TokenSource => flushable((text: string) => {
    try {
      return parse(text);
    } catch (error) {
      const atEnd = (text as unknown) === none;
      const where = atEnd ? `at the end of the input (byte ${end})` : `in bytes ${start} to ${end - 1} of the input`;
      throw new SyntaxError(`jsonArray: the input is not valid JSON, found ${where}: ${(error as Error).message}`, { cause: error });
    }
  });
  // Packed values only: the streamer reads packed tokens, and not emitting the
  // streamed chunk tokens as well halves the token count.
  const steps = gen(countBytes, fixUtf8Stream(), locateErrors(parser({ streamValues: false })), streamArray(), valueOf);
  return asStream(steps, { writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: highWaterMark });
}
