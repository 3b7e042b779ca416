// Anchor `node-map`: what a Node user assembles by hand today, one
// `Readable.prototype.map(fn, { concurrency })` per stage over a pool's call
// (piscina unless told). One pool of `threads` threads serves every stage;
// each map keeps two tasks per thread in flight, as our stages keep two
// batches per worker. `runBatched` is the same with the items cut into
// arrays of `batchSize` on the user's side, one call per array per stage:
// the best a user of a per-call pool can assemble.

import { Readable } from 'node:stream';
import type { WorkName } from '../lib/work-module.js';
import { openPool } from './pools.js';
import type { PoolCalls, PoolKind } from './pools.js';
import type { BatchTask } from './batch-call.js';

export class NodeMapAnchor {
  private readonly pool: PoolCalls;
  private readonly concurrency: number;

  constructor(threads: number, kind: PoolKind = 'piscina') {
    this.pool = openPool(kind, threads);
    this.concurrency = threads * 2;
  }

  async run<T>(source: Iterable<unknown> | AsyncIterable<unknown>, names: readonly WorkName[]): Promise<T[]> {
    return (await this.through(Readable.from(source), names).toArray()) as T[];
  }

  /** The stages as maps over `source`: a Readable of the results, in order. */
  through(source: Readable, names: readonly WorkName[]): Readable {
    let stream = source;
    for (const name of names) {
      stream = stream.map((item: unknown) => this.pool.call(name, item), { concurrency: this.concurrency });
    }
    return stream;
  }

  async runBatched<T>(source: Iterable<unknown>, names: readonly WorkName[], batchSize: number): Promise<T[]> {
    let stream: Readable = Readable.from(batches(source, batchSize));
    for (const name of names) {
      stream = stream.map((items: unknown[]) => this.pool.call('batch', { name, items } satisfies BatchTask), { concurrency: this.concurrency });
    }
    const out: unknown[] = [];
    for await (const results of stream) for (const result of results as unknown[]) out.push(result);
    return out as T[];
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function* batches(source: Iterable<unknown>, size: number): Generator<unknown[]> {
  let current: unknown[] = [];
  for (const item of source) {
    current.push(item);
    if (current.length === size) {
      yield current;
      current = [];
    }
  }
  if (current.length > 0) yield current;
}
