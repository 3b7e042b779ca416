// The seam for stages whose batches run outside this process. A transport
// (made by `redisTransport()` from `async-task-pipeline/redis`) carries a
// factory for its Executor, so that the stage layer never imports a client
// library: users of local stages install nothing more.

import type { Executor } from './executor.js';

/** What a transport's executor is told about the stage it serves. */
export interface RemoteStage {
  /** The stage's name: workers meet the producer on it. */
  name: string;
  /** For messages: "export "x" of file:///…". */
  target: string;
  /** The most items the stage holds: the bound on items out at once. */
  highWaterMark: number;
}

const MAKE_EXECUTOR = Symbol.for('async-task-pipeline/transport');

/**
 * Where a stage with `options.transport` runs its batches. Opaque: made by a
 * transport's own factory, such as `redisTransport()`.
 */
export interface Transport {
  /** For messages: which transport, and where. */
  readonly description: string;
  /** @internal */
  readonly [MAKE_EXECUTOR]: (stage: RemoteStage) => Executor;
}

export function makeTransport(description: string, makeExecutor: (stage: RemoteStage) => Executor): Transport {
  return Object.freeze({ description, [MAKE_EXECUTOR]: makeExecutor });
}

export function isTransport(value: unknown): value is Transport {
  return value !== null && typeof value === 'object' && typeof (value as Partial<Transport>)[MAKE_EXECUTOR] === 'function';
}

export function transportExecutor(transport: Transport, stage: RemoteStage): Executor {
  return transport[MAKE_EXECUTOR](stage);
}
