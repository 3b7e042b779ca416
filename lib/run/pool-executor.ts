// One stage's batches on a pool of worker threads shared with other stages
// (thread-pool.ts): room, batch size, time limits, items that cannot cross,
// and a load failure or a closed pool told as the stage's StageError.

import { StageError } from '../errors.js';
import { BatchTimeout, WorkerExit } from './executor.js';
import type { Executor, RunResult } from './executor.js';
import type { PoolThread } from './pool-thread.js';
import type { Program } from './program.js';
import { Outcome } from './protocol.js';
import type { SerializedError, WorkerInit } from './protocol.js';
import { deserializeError, serializeError } from './serialized-error.js';
import type { PoolClient, ThreadPool } from './thread-pool.js';
import { copiedToMove } from './copy-to-move.js';
import { KeptBytes, restoreReplyBuffers, transferablesOf } from './transfer.js';
import { ProgramLoadError } from './worker-thread.js';

// Batches aim at about 4 ms of work: long enough to amortise a crossing
// (tens of microseconds), short enough to keep threads evenly loaded, other
// stages' batches close behind, and latency low. Before any reply of the
// program we know nothing.
const TARGET_BATCH_SECONDS = 0.004;
const FIRST_BATCH_LIMIT = 16;
const MAX_BATCH = 4096;
// A batch's crossing costs tens of microseconds whatever its size: a
// postMessage that wakes a sleeping worker took 17-70 us of wall time per
// post in a live run (2 cores, Node 20), against 5 us for the same post with
// nobody to wake. Items waiting for company may so delay at most this much work.
const COALESCE_SECONDS = 0.00025;
// Items this cheap make batches of about TARGET_BATCH_SECONDS (one item
// when longer): a wait behind one is a few ms, shorter than a thread's load.
const SHORT_ITEM_SECONDS = 0.005;
// Items this cheap cost a worker less than the main thread spends sending
// them and taking their results (1-2 us an item): a second thread cannot
// make them go faster, and waking a sleeping one for every other batch made
// each post cost 40-45 us of main-thread time instead of 23-33 with the
// batches packed on one thread (3 fused tiny stages, 2 cores: 480k against
// 600k items/s). Their batches go to a thread that already has one in flight.
const PACK_ITEM_SECONDS = 0.000001;

// A closed stage's batch still running this long after it closed (a function
// that never returns, a load that never settles) ends its thread: the batch
// cannot be stopped otherwise, and it would hold a shared thread, and the
// process, for ever. Other stages' batches on that thread run again elsewhere.
const CLOSED_BATCH_GRACE_MS = 1000;

export interface PoolExecutorOptions {
  /** The stage's name (for a fused chain, its members' names joined by '+'). */
  stage: string;
  /** Per-item time limit in ms: batches of one, each alone on its thread. */
  timeoutMs: number | undefined;
  /** Name and target (for LOAD_FAILED messages) of each step in `init.steps`. */
  steps: Array<{ name: string; target: string }>;
  init: WorkerInit;
  /** The most threads of the pool its batches sit on at once. */
  concurrency: number;
  pool: ThreadPool;
  /** The pool is this stage's own (its `resourceLimits`): closed with it. */
  ownsPool: boolean;
}

export class PoolExecutor implements Executor, PoolClient {
  readonly name: string;
  readonly concurrency: number;
  readonly using = new Map<PoolThread, number>();
  private readonly pool: ThreadPool;
  private acquired: Program | undefined;
  private readonly exclusive: boolean;
  private closed = false;
  private roomListener: (() => void) | undefined;
  /** Settles a pending start() when the stage closes first. */
  private abandonStart: ((error: Error) => void) | undefined;
  private starting: Promise<void> | undefined;
  /** Whether the other threads were asked to warm up (see warmUp). */
  private warmedUp = false;

  constructor(private readonly options: PoolExecutorOptions) {
    this.name = options.stage;
    this.pool = options.pool;
    this.concurrency = Math.min(options.concurrency, this.pool.size);
    // Under a time limit an item must not wait behind another on its
    // thread, or the wait would count against it; and ending the thread
    // when it runs out must not end anyone else's batch.
    this.exclusive = options.timeoutMs !== undefined;
    if (this.pool.closed) throw StageError.poolClosed(this.name);
  }

  // Taken on first use, not when made: a stage fused into a chain never
  // uses its own, and would hold it in the pool's table for ever.
  private get program(): Program {
    this.acquired ??= this.pool.programs.acquire(this.options.init);
    return this.acquired;
  }

  /**
   * Loads the stage's program on one thread, so that a load failure shows
   * before any item is sent; at once when a thread has it already.
   */
  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  hasRoom(alone = false): boolean {
    return this.closed || this.pool.hasRoom(this, alone || this.exclusive);
  }

  onRoom(listener: () => void): void {
    this.roomListener = listener;
  }

  wake(): void {
    if (!this.closed) this.roomListener?.();
  }

  batchLimit(): number {
    if (this.exclusive) return 1;
    const perItem = this.program.secondsPerItem;
    if (perItem === 0) return FIRST_BATCH_LIMIT;
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(TARGET_BATCH_SECONDS / perItem)));
  }

  // Only once its items are known short: a first item might take seconds,
  // and while it is not known a batch spreads to a loading thread instead.
  loadedFirst(): number | undefined {
    const { id, secondsPerItem } = this.program;
    return secondsPerItem > 0 && secondsPerItem <= SHORT_ITEM_SECONDS ? id : undefined;
  }

  // Only once its items are known cheaper than their crossing: unknown
  // work spreads, so that a first item that takes seconds is not stacked on.
  packs(): boolean {
    const perItem = this.program.secondsPerItem;
    return !this.exclusive && perItem > 0 && perItem <= PACK_ITEM_SECONDS;
  }

  // Only once the program's time per item is known (a first item might take
  // seconds), and only while every thread the stage may use has a batch of
  // it: a thread it could still spread to takes the next items at once, so
  // that a slow item in flight never holds cheap ones back from an idle
  // thread. Packed work (packs()) coalesces even then: it stays on its thread.
  coalesceLimit(): number {
    const perItem = this.program.secondsPerItem;
    if (this.exclusive || perItem === 0 || (this.using.size < this.concurrency && !this.packs())) return 1;
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(COALESCE_SECONDS / perItem)));
  }

  async run(inputs: unknown[], alone = false, timed = true): Promise<RunResult> {
    if (this.closed) throw StageError.invalidState(this.name, `stage "${this.name}" ran a batch after it closed`);
    const single = alone || this.exclusive;
    const thread = this.pool.take(this, single);
    try {
      return await this.runOn(thread, inputs, timed);
    } finally {
      this.pool.give(thread, this, single);
    }
  }

  causeOf(stored: unknown): unknown {
    return deserializeError(stored as SerializedError);
  }

  // Threads are shared: closing a stage ends none of them (its own pool
  // aside). Its batches in flight finish, or end their thread past the grace.
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.leave(this);
    if (this.acquired !== undefined) this.pool.programs.release(this.acquired);
    // Made only when needed: an Error's stack costs about 10 us, a stage per request pays it.
    this.abandonStart?.(new Error(`stage "${this.name}" closed while starting`));
    if (this.options.ownsPool) {
      await this.pool.close();
      return;
    }
    for (const thread of this.using.keys()) {
      const timer = setTimeout(() => {
        if (this.using.has(thread)) void this.pool.terminate(thread);
      }, CLOSED_BATCH_GRACE_MS);
      // The batch keeps the process alive while it runs, not this timer.
      timer.unref();
    }
  }

  private async load(): Promise<void> {
    if (this.pool.hasLoaded(this.program)) return;
    await this.loadOnOne();
  }

  /**
   * Starts and loads the other threads the stage may use, in the background:
   * asked by Stage.start(), by the pool when known-short work waits for a
   * thread with the program (see ThreadPool.pick), and done once by the
   * first answered batch of a stage started by its first item (learn).
   */
  warmUp(): void {
    if (this.starting === undefined) return;
    this.warmedUp = true;
    this.warmOthers();
  }

  // Once the program loads, the other threads the stage may use start (if
  // the pool has not) and load it in the background: otherwise its second
  // batch waits for a thread's start, 40-80 ms, with ordered items behind it.
  // A failure here is nobody's: the batch that next meets the thread sees it.
  private warmOthers(): void {
    if (this.closed || this.exclusive) return;
    for (const thread of this.pool.threadsToWarm(this.program, this.concurrency)) {
      this.runOn(thread, [], false).finally(() => this.pool.warmed(thread)).catch(() => undefined);
    }
  }

  private async loadOnOne(): Promise<void> {
    const stopped = new Promise<never>((_, reject) => { this.abandonStart = reject; });
    stopped.catch(() => undefined);
    try {
      // A thread that dies under the empty batch (another stage's item killed
      // it) says nothing of this program: load it on another.
      for (let attempt = 1; ; attempt++) {
        const thread = this.pool.takeForLoad(this, this.program);
        // The thread stays taken until the load settles, even if the stage
        // closes first: close() ends a thread whose load outlives its grace.
        const running = this.runOn(thread, [], false).finally(() => this.pool.give(thread, this, false));
        // Abandoned by close(), its failure is nobody's to hear.
        running.catch(() => undefined);
        try {
          await Promise.race([running, stopped]);
          return;
        } catch (error) {
          if (!(error instanceof WorkerExit) || this.closed || attempt >= 3) throw error;
        }
      }
    } catch (error) {
      if (error instanceof WorkerExit) throw StageError.loadFailed(this.name, 'its function (the worker thread died while loading it)', error.cause ?? error);
      throw error;
    } finally {
      this.abandonStart = undefined;
    }
  }

  private async runOn(thread: PoolThread, inputs: unknown[], timed: boolean): Promise<RunResult> {
    const moving = this.options.init.transfer;
    // Kept only while the batch is in flight (see transfer.ts).
    const kept = moving ? KeptBytes.of(inputs) : undefined;
    try {
      // A time limit is the item's: a thread's start (40-80 ms cold, more
      // under load) and the program's load are not, so under one the thread
      // loads first, unlimited. (They counted before: an item of a stage with
      // `timeout: 100` on a cold thread failed the whole pipeline at times.)
      const limited = this.options.timeoutMs !== undefined && inputs.length > 0;
      if (limited && !thread.loaded.has(this.program.id)) await this.pool.send(thread, this, this.program, [], undefined, false);
      const copied = moving ? undefined : copiedToMove(inputs);
      const call = this.pool.send(thread, this, this.program, copied?.values ?? inputs, moving ? transferablesOf(inputs) : copied?.transfer, timed);
      const reply = limited ? await this.withinLimit(thread, call) : await call;
      // Copied or moved, a Buffer result arrives as a plain Uint8Array.
      restoreReplyBuffers(reply);
      // A failed item goes to onError as it was sent.
      kept?.putBack(inputs, (i) => reply.kinds[i] === Outcome.Error);
      this.learn(reply.times);
      return reply;
    } catch (error) {
      // Sent again, or reported, each item needs its bytes.
      kept?.putBack(inputs);
      if (error instanceof ProgramLoadError) throw this.loadFailed(error);
      if (error instanceof WorkerExit && this.closed) throw error;
      // An input that cannot be cloned fails at once, before anything is sent.
      // (A result that cannot be cloned is the worker's to sort out: see
      // worker-runtime.ts.)
      if (!isDataCloneError(error)) throw error;
      return this.runCloneable(thread, inputs, error, timed);
    }
  }

  private loadFailed(error: ProgramLoadError): StageError {
    const failed = this.options.steps[error.step] ?? { name: this.name, target: 'its function' };
    return StageError.loadFailed(failed.name, failed.target, error.cause);
  }

  private async withinLimit<T>(thread: PoolThread, call: Promise<T>): Promise<T> {
    const timeoutMs = this.options.timeoutMs;
    if (timeoutMs === undefined) return call;
    let timedOut = false;
    // The only way to stop a function that never returns is to end its
    // thread; the batch ran alone there, so nobody else's is lost.
    const timer = setTimeout(() => {
      timedOut = true;
      void this.pool.terminate(thread);
    }, timeoutMs);
    try {
      return await call;
    } catch (error) {
      // Terminating fails the call with a WorkerExit; the timeout is what happened.
      if (timedOut) throw new BatchTimeout(timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the inputs that can be cloned; the others fail alone, as DATA_CLONE. */
  private async runCloneable(thread: PoolThread, inputs: unknown[], original: unknown, timed: boolean): Promise<RunResult> {
    const sendable: unknown[] = [];
    const positions: number[] = [];
    const failures: Array<[number, unknown]> = [];
    inputs.forEach((input, i) => {
      try {
        structuredClone(input);
        sendable.push(input);
        positions.push(i);
      } catch (error) {
        failures.push([i, error]);
      }
    });
    if (failures.length === 0) throw original;
    const inner = sendable.length > 0 ? await this.runOn(thread, sendable, timed).finally(() => {
      // Moved bytes put back into `sendable` belong in the caller's inputs.
      positions.forEach((at, k) => { inputs[at] = sendable[k]; });
    }) : undefined;
    return mergeReplies(inputs.length, positions, inner, failures);
  }

  // An average of the last few batches' time per item sizes the next batch;
  // kept with the program, so that every stage of it shares what was learnt.
  private learn(times: Float64Array): void {
    const count = times.length / 2;
    if (count === 0) return;
    // Measured: 3 fused stages' first result in a fresh process took 10-20 ms
    // longer while a second thread started beside the first item's (2 cores).
    if (!this.warmedUp) this.warmUp();
    const perItem = Math.max(1e-9, (times[times.length - 1]! - times[0]!) / count);
    const program = this.program;
    program.secondsPerItem = program.secondsPerItem === 0 ? perItem : program.secondsPerItem * 0.75 + perItem * 0.25;
  }
}

function mergeReplies(
  count: number,
  positions: number[],
  inner: RunResult | undefined,
  failures: Array<[number, unknown]>,
): RunResult {
  const merged: RunResult = {
    kinds: new Uint8Array(count),
    values: new Array<unknown>(count),
    times: new Float64Array(count * 2),
    uncloneableInputs: failures.map(([i]) => i),
  };
  if (inner !== undefined) {
    positions.forEach((at, k) => {
      merged.kinds[at] = inner.kinds[k]!;
      merged.values[at] = inner.values[k];
      merged.times[2 * at] = inner.times[2 * k]!;
      merged.times[2 * at + 1] = inner.times[2 * k + 1]!;
    });
    if (inner.chain !== undefined) {
      // A chain's records stay as they are; failed inputs simply have none.
      const counts = new Uint32Array(count);
      positions.forEach((at, k) => { counts[at] = inner.chain!.counts[k]!; });
      merged.chain = { ...inner.chain, counts };
      if (inner.uncloneable !== undefined) merged.uncloneable = inner.uncloneable;
    } else if (inner.uncloneable !== undefined) {
      merged.uncloneable = inner.uncloneable.map((k) => positions[k]!);
    }
    if (inner.uncloneableInputs !== undefined) merged.uncloneableInputs!.push(...inner.uncloneableInputs.map((k) => positions[k]!));
    if (inner.closureVariable !== undefined) merged.closureVariable = inner.closureVariable;
  }
  for (const [at, error] of failures) {
    merged.kinds[at] = Outcome.Error;
    merged.values[at] = serializeError(error);
  }
  return merged;
}

function isDataCloneError(error: unknown): boolean {
  return error instanceof Error && error.name === 'DataCloneError';
}
