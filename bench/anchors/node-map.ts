// Anchor `node-map`: what a Node user assembles by hand today, one
// `Readable.prototype.map(fn, { concurrency })` per stage over `piscina.run`.
// One pool of `threads` threads serves every stage; each map keeps two tasks
// per thread in flight, as our stages keep two batches per worker.

import { Readable } from 'node:stream';
import { Piscina } from 'piscina';
import type { WorkName } from '../lib/work-module.js';

const WORKER = new URL('./piscina-worker.js', import.meta.url).href;

export class NodeMapAnchor {
  private readonly pool: Piscina;
  private readonly concurrency: number;

  constructor(threads: number) {
    this.pool = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads });
    this.concurrency = threads * 2;
  }

  async run<T>(source: Iterable<unknown> | AsyncIterable<unknown>, names: readonly WorkName[]): Promise<T[]> {
    let stream: Readable = Readable.from(source);
    for (const name of names) {
      stream = stream.map((item: unknown) => this.pool.run(item, { name }) as Promise<unknown>, { concurrency: this.concurrency });
    }
    return (await stream.toArray()) as T[];
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
