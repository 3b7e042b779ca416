// The worker pools people use, reached the same way: `call(name, item)` runs
// one export of bench/work.ts on one item (or, with `batch`, on an array) in
// the pool's threads. piscina and tinypool load piscina-worker.js (named
// exports picked by `name`); workerpool loads workerpool-worker.js (methods
// registered with `workerpool.worker`).

import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';

const PISCINA_WORKER = new URL('./piscina-worker.js', import.meta.url).href;
const WORKERPOOL_WORKER = new URL('./workerpool-worker.js', import.meta.url);

export type PoolKind = 'piscina' | 'tinypool' | 'workerpool';

export interface PoolCalls {
  readonly kind: PoolKind;
  call(name: string, payload: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export function openPool(kind: PoolKind, threads: number): PoolCalls {
  if (kind === 'piscina') {
    const pool = new Piscina({ filename: PISCINA_WORKER, minThreads: threads, maxThreads: threads });
    return { kind, call: (name, payload) => pool.run(payload, { name }) as Promise<unknown>, close: () => pool.close() };
  }
  if (kind === 'tinypool') {
    const pool = new Tinypool({ filename: PISCINA_WORKER, minThreads: threads, maxThreads: threads });
    return { kind, call: (name, payload) => pool.run(payload, { name }) as Promise<unknown>, close: () => pool.destroy() };
  }
  const pool = workerpool.pool(WORKERPOOL_WORKER.pathname, { workerType: 'thread', minWorkers: threads, maxWorkers: threads });
  return {
    kind,
    call: (name, payload) => pool.exec(name, [payload]),
    close: async () => { await pool.terminate(); },
  };
}
