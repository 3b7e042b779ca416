// Moves items from a source through a chain of Transforms into an array, the
// same way for every runner, so the only difference measured is the chain.

import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function runThrough<T>(source: Iterable<unknown> | AsyncIterable<unknown>, chain: readonly Duplex[]): Promise<T[]> {
  const out: T[] = [];
  const sink = new Writable({
    objectMode: true,
    write(chunk: T, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(source), ...chain, sink]);
  return out;
}
