// The public face of a thread pool: createWorkerPool(), the process-wide
// default pool every stage without `pool` runs on, and the option checks.

import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { checkInteger, checkKnownKeys, checkObject } from '../checks.js';
import { checkResourceLimits } from './resource-limits.js';
import { ThreadPool } from './thread-pool.js';
import type { WorkerPoolStats } from './thread-pool.js';

export type { WorkerPoolStats } from './thread-pool.js';

/** Options of {@link createWorkerPool}. Each is checked on entry; a bad one throws a TypeError naming it. */
export interface WorkerPoolOptions {
  /** The most worker threads the pool runs at once. @default os.availableParallelism() */
  threads?: number;
  /**
   * Milliseconds a thread lives without work before it ends (0: at once).
   * Idle threads never keep the process alive, whatever this is.
   * @default 10000: a server between bursts keeps its threads warm (a thread
   * costs 40-80 ms to start and about 10 MB while it lives), a process that
   * has finished its work gives the memory back soon after.
   */
  idleTimeout?: number;
  /** Memory limits of each thread, as in `new Worker(…, { resourceLimits })`; see StageOptions.resourceLimits. */
  resourceLimits?: ResourceLimits;
}

/**
 * Worker threads shared by every stage given it as `options.pool` (and, for
 * the default pool, by every stage given none). Any thread runs any stage:
 * a thread loads a stage's module the first time it runs a batch of it and
 * keeps it. Make one per process, or use the default.
 */
export interface WorkerPool {
  /** The most threads it runs at once. */
  readonly threads: number;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** What it is doing now, and the busy time of each stage (by name) so far. */
  readonly stats: WorkerPoolStats;
  /**
   * Ends every thread. Stages still using the pool fail with a StageError
   * `POOL_CLOSED`; stages made on it later throw it. Not needed for a
   * program to exit: idle threads never keep it alive.
   */
  close(): Promise<void>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

class PublicPool implements WorkerPool {
  constructor(readonly inner: ThreadPool) {}
  get threads(): number {
    return this.inner.size;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get stats(): WorkerPoolStats {
    return this.inner.stats;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Makes a pool of worker threads for stages to share (`stage(ref, { pool })`).
 * Threads start as work needs them, up to `threads`, and end after
 * `idleTimeout` without work.
 *
 * @param options - threads, idleTimeout, resourceLimits
 * @returns the pool
 * @throws TypeError when an option is not valid, naming it
 * @example
 * ```js
 * const pool = createWorkerPool({ threads: 4 });
 * const score = stage({ module: './score.js', export: 'score' }, { pool });
 * ```
 */
export function createWorkerPool(options?: WorkerPoolOptions): WorkerPool {
  return new PublicPool(threadPoolOf(options));
}

/** The pool of a stage with its own `resourceLimits`, closed with it. */
export function ownPool(threads: number, resourceLimits: ResourceLimits | undefined): ThreadPool {
  return new ThreadPool({ threads, idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS, resourceLimits });
}

let defaultPool: PublicPool | undefined;

/**
 * The process-wide pool that every stage without `options.pool` runs on,
 * made on first use with `os.availableParallelism()` threads. Closing it is
 * allowed: the next stage gets a fresh one.
 *
 * @returns the default pool
 */
export function defaultWorkerPool(): WorkerPool {
  if (defaultPool === undefined || defaultPool.closed) defaultPool = new PublicPool(threadPoolOf(undefined));
  return defaultPool;
}

/** The scheduler behind a public pool, or a TypeError when `value` is not one of ours. */
export function innerPool(name: string, value: unknown): ThreadPool {
  if (value instanceof PublicPool) return value.inner;
  throw new TypeError(`${name} must be a pool made by createWorkerPool(), got ${value === null ? 'null' : typeof value}`);
}

function threadPoolOf(options: unknown): ThreadPool {
  const given = options === undefined ? {} : checkObject('options', options);
  checkKnownKeys('options', given, ['threads', 'idleTimeout', 'resourceLimits']);
  const { threads, idleTimeout, resourceLimits } = given;
  return new ThreadPool({
    threads: threads === undefined ? availableParallelism() : checkInteger('options.threads', threads, 1),
    idleTimeoutMs: idleTimeout === undefined ? DEFAULT_IDLE_TIMEOUT_MS : checkInteger('options.idleTimeout', idleTimeout, 0),
    resourceLimits: resourceLimits === undefined ? undefined : checkResourceLimits('options.resourceLimits', resourceLimits),
  });
}
