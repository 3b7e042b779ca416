// Bytes of one top-level JSON array in, one item per element out. stream-json
// tokenizes and assembles; stream-chain's asStream turns that generator chain
// into a Duplex whose push backpressure reaches the parser (a slow reader
// stops the parsing, so memory holds about one element plus the queues).

import type { Duplex } from 'node:stream';
import { asStream } from 'stream-chain';
import gen from 'stream-chain/gen.js';
import { parser } from 'stream-json';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { resolveJsonStreamOptions } from './json-stream-options.js';

/** Options of {@link jsonArray}. */
export interface JsonArrayOptions {
  /** Queue bound of the item (readable) side, in items. @default 64 */
  highWaterMark?: number;
}

const KNOWN = ['highWaterMark'] as const;

function valueOf(entry: { key: number; value: unknown }): unknown {
  return entry.value;
}

/**
 * A Duplex that takes the bytes (Buffer or string chunks) of a JSON document
 * whose top level is an array and gives each element as one item, in order,
 * without holding the whole array: arrays far larger than memory stream
 * through. A document that is not an array, or not valid JSON, destroys the
 * stream with stream-json's error (it names what was expected).
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
 */
export function jsonArray(options?: JsonArrayOptions): Duplex {
  const { highWaterMark } = resolveJsonStreamOptions(options, KNOWN);
  // Packed values only: the streamer reads packed tokens, and not emitting the
  // streamed chunk tokens as well halves the token count.
  const steps = gen(parser({ streamValues: false }), streamArray(), valueOf);
  return asStream(steps, { writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: highWaterMark });
}
