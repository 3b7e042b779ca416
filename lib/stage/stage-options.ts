import { Writable } from 'node:stream';
import type { ResourceLimits } from 'node:worker_threads';
import {
  checkAbortSignal, checkBoolean, checkCloneable, checkInteger, checkKnownKeys, checkObject, checkOneOf, checkPositive, checkString,
} from '../checks.js';
import type { StageError } from '../errors.js';
import { isTransport } from '../run/transport.js';
import { checkResourceLimits } from '../run/resource-limits.js';
import { innerPool } from '../run/worker-pool.js';
import type { WorkerPool } from '../run/worker-pool.js';
import type { Transport } from '../run/transport.js';

/**
 * What a stage does with an item whose function failed.
 * - `'fail'`: destroy the stage (and its pipeline) with the StageError.
 * - `'skip'`: drop the item and count it as skipped.
 * - `'emit'`: pass the StageError downstream in the item's place; later stages pass it through.
 * - a function: called with the error and the item's data; the item is dropped.
 *   If it returns a promise, nothing later leaves the stage until it settles;
 *   a throw or a rejection fails the stage (`ON_ERROR_FAILED`, with it as `cause`).
 * - a Writable (a dead-letter stream): receives `{ error, item }` per failed
 *   item, `item` being its data; the item is dropped. Its backpressure holds
 *   the stage's output, the stage ends only once its letters are written, and
 *   a stream that fails, is destroyed or has ended fails the stage
 *   (`ON_ERROR_FAILED`). The stream is not ended.
 */
export type ErrorPolicy = 'fail' | 'skip' | 'emit' | ((error: StageError, data: unknown) => unknown) | Writable;

/** Options of {@link stage}. Each is checked on entry; a bad one throws a TypeError naming it. */
export interface StageOptions {
  /** Name in errors and reports. @default the function's or export's name */
  name?: string;
  /**
   * The most threads of its pool this stage's batches use at once (calls in
   * flight when `thread: false`). @default every thread of the pool: the
   * stage that limits a pipeline gets the threads the others leave idle (1 with `thread: false`)
   */
  concurrency?: number;
  /**
   * The pool of worker threads to run on, made by `createWorkerPool()` and
   * shared with other stages. Not with `resourceLimits` (a stage with its own
   * limits gets threads of its own) or `thread: false`.
   * @default the process-wide pool ({@link defaultWorkerPool})
   */
  pool?: WorkerPool;
  /** The most items the stage holds at once, and the queue bound on each side. @default 64 */
  highWaterMark?: number;
  /** Emit results in input order; false emits them as they complete. @default true */
  ordered?: boolean;
  /** A structured-cloneable value passed to the function as its second argument. */
  context?: unknown;
  /** Run in worker threads; false runs the function on the main thread (closures allowed). @default true */
  thread?: boolean;
  /** Aborting it destroys the stage with an AbortError. */
  signal?: AbortSignal;
  /** What to do with an item whose function failed. @default 'fail' */
  onError?: ErrorPolicy;
  /**
   * When a worker dies, the items it had are run again one at a time on a
   * fresh worker to find the one that killed it; that item is run again this
   * many more times before it fails alone with WORKER_DIED. @default 1
   */
  retries?: number;
  /**
   * Milliseconds one item may run; past it the worker is terminated and
   * replaced and the item fails with TIMEOUT. Items then cross one at a time,
   * so that the limit applies to each. @default no limit
   */
  timeout?: number;
  /**
   * Memory limits for each worker thread, as in `new Worker(…, { resourceLimits })`.
   * A worker that exceeds them fails its items with `WORKER_DIED`. Values that
   * would crash the whole process on some Node line are refused with a
   * `TypeError`: `maxOldGenerationSizeMb` under 4 and `stackSizeMb` under 0.5.
   */
  resourceLimits?: ResourceLimits;
  /**
   * Move binary data to and from the worker instead of copying it: a Buffer or
   * typed array that owns its whole ArrayBuffer, as the item or as a property of
   * it, is transferred (the sender's copy becomes empty) and arrives as a Buffer.
   * Pooled slices (small `Buffer.from()` results) are copied.
   * @default false
   */
  transfer?: boolean;
  /**
   * Run the stage's batches on worker processes elsewhere, through this
   * transport (`redisTransport()` from `async-task-pipeline/redis`). Module
   * stages only. The workers decide their threads, so `concurrency`,
   * `thread`, `timeout`, `resourceLimits`, `transfer`, `context` and `json` do not
   * apply; order, `onError`, `retries`, counts and timing are as on threads.
   * @default none: the stage runs on this process's threads
   */
  transport?: Transport;
  /**
   * Items are JSON text, and so are results. Each string is parsed where the
   * function runs (in the worker), the function gets the value, and what it
   * returns (each value it yields) goes on as `JSON.stringify` text. Records
   * that arrive as JSON then cross as strings (one copy) instead of being
   * parsed and cloned on the main thread; adjacent `json: true` stages fused
   * by createPipeline parse once before the first and stringify once after
   * the last. JSON `null` is dropped, as a null result is. An item that is not
   * a string of valid JSON fails like a throwing function (FUNCTION_FAILED),
   * its `cause` a `JsonInputError` with code `ERR_INVALID_JSON`; a result that
   * JSON cannot hold (a BigInt, a cycle) fails with a `JsonOutputError`, code
   * `ERR_JSON_RESULT`. Parsing counts in the item's computation time. Not
   * with `transport` (the worker processes do not parse).
   * @default false
   * @example
   * ```js
   * // lines of JSON text in, lines of JSON text out; the parsing is in the workers
   * stage({ module: './score.js', export: 'score' }, { json: true, concurrency: 2 })
   * ```
   */
  json?: boolean;
}

export interface ResolvedStageOptions {
  name: string | undefined;
  concurrency: number;
  highWaterMark: number;
  ordered: boolean;
  context: unknown;
  thread: boolean;
  signal: AbortSignal | undefined;
  onError: ErrorPolicy;
  retries: number;
  timeout: number | undefined;
  resourceLimits: ResourceLimits | undefined;
  pool: WorkerPool | undefined;
  transfer: boolean;
  transport: Transport | undefined;
  json: boolean;
}

/** The default queue bound: large enough for batches that amortise a crossing. */
export const DEFAULT_HIGH_WATER_MARK = 64;

const KNOWN = [
  'name', 'concurrency', 'highWaterMark', 'ordered', 'context', 'thread', 'signal', 'onError', 'retries', 'timeout',
  'resourceLimits', 'pool', 'transfer', 'transport', 'json',
] as const;

// What the worker processes decide, or what cannot be given to them.
const LOCAL_ONLY = ['concurrency', 'thread', 'timeout', 'resourceLimits', 'pool', 'transfer', 'context', 'json'] as const;

export function resolveStageOptions(options: unknown): ResolvedStageOptions {
  const given = options === undefined ? {} : checkObject('options', options);
  checkKnownKeys('options', given, KNOWN);
  const { name, concurrency, highWaterMark, ordered, context, thread, signal, onError, retries, timeout, resourceLimits, pool, transfer, json } = given;
  const transport = given.transport === undefined ? undefined : checkTransport(given);
  const runsInThread = thread === undefined ? true : checkBoolean('options.thread', thread);
  if (!runsInThread && timeout !== undefined) {
    throw new TypeError('options.timeout needs thread: true: a function on the main thread cannot be stopped');
  }
  return {
    name: name === undefined ? undefined : checkString('options.name', name),
    concurrency: concurrency === undefined ? (runsInThread ? Infinity : 1) : checkInteger('options.concurrency', concurrency, 1),
    highWaterMark: highWaterMark === undefined ? DEFAULT_HIGH_WATER_MARK : checkInteger('options.highWaterMark', highWaterMark, 1),
    ordered: ordered === undefined ? true : checkBoolean('options.ordered', ordered),
    // Only a context that must cross to a worker needs to be cloneable.
    context: runsInThread && context !== undefined ? checkCloneable('options.context', context) : context,
    thread: runsInThread,
    signal: signal === undefined ? undefined : checkAbortSignal('options.signal', signal),
    onError: checkPolicy(onError),
    retries: retries === undefined ? 1 : checkInteger('options.retries', retries, 0),
    timeout: timeout === undefined ? undefined : checkPositive('options.timeout', timeout),
    resourceLimits: resourceLimits === undefined ? undefined : checkResourceLimits('options.resourceLimits', resourceLimits),
    pool: pool === undefined ? undefined : checkPool(pool, runsInThread, resourceLimits !== undefined),
    transfer: transfer === undefined ? false : checkBoolean('options.transfer', transfer),
    transport,
    json: json === undefined ? false : checkBoolean('options.json', json),
  };
}

function checkPool(pool: unknown, runsInThread: boolean, ownLimits: boolean): WorkerPool {
  innerPool('options.pool', pool);
  if (!runsInThread) throw new TypeError('options.pool needs thread: true: a stage with thread: false runs on the main thread');
  if (ownLimits) {
    throw new TypeError('options.pool and options.resourceLimits do not go together: give the limits to createWorkerPool({ resourceLimits }), or drop the pool for threads of the stage\'s own');
  }
  return pool as WorkerPool;
}

function checkTransport(given: Record<string, unknown>): Transport {
  const transport = given.transport;
  if (!isTransport(transport)) {
    throw new TypeError(
      `options.transport must be a transport made by redisTransport() from 'async-task-pipeline/redis', got ${typeof transport}`,
    );
  }
  for (const option of LOCAL_ONLY) {
    if (given[option] !== undefined) {
      throw new TypeError(`options.${option} does not apply with options.transport: the worker processes run the function (see their --concurrency)`);
    }
  }
  return transport;
}

function checkPolicy(value: unknown): ErrorPolicy {
  if (value === undefined) return 'fail';
  if (typeof value === 'function') return value as ErrorPolicy;
  if (value instanceof Writable) {
    // Checked again at each letter: it may end later.
    if (value.destroyed || value.writableEnded) {
      throw new TypeError(`options.onError is a dead-letter stream that has ${value.destroyed ? 'been destroyed' : 'ended'}; give one that is still writable`);
    }
    if (!value.writableObjectMode) {
      throw new TypeError('options.onError is a Writable not in object mode; a dead-letter stream receives { error, item } objects: give it objectMode: true');
    }
    return value;
  }
  return checkOneOf('options.onError', value, ['fail', 'skip', 'emit'] as const, 'a function or a Writable');
}
