// lib/run/: where a stage's function runs. This folder owns the Executor
// seam below and what implements it: a stage on a shared thread pool
// (pool-executor.ts on thread-pool.ts, pool-thread.ts, worker-thread.ts, the
// worker entry worker.ts and its runtime; worker-pool.ts is the public
// createWorkerPool and the default pool), the inline
// executor for `thread: false`, the batch and chain runners both sides share,
// the message shapes (protocol.ts), moved buffers and serialised errors.
// It may import timing/ (the clock) and the top-level errors.ts and checks.ts;
// it knows nothing of stages, streams or pipelines. threads.js is reached
// through worker-thread.ts alone.

import type { BatchReply } from './protocol.js';

/** A batch's outcome as the stage sees it. */
export interface RunResult extends BatchReply {
  /** Items that could not be cloned to the worker; their outcome is an error. */
  uncloneableInputs?: number[];
}

/**
 * Where a stage's function runs: a pool of worker threads, the main thread
 * for `thread: false`, or (through a transport) processes elsewhere. The
 * stage decides what to send and when, keeps order, applies `onError` and
 * `retries`, and stamps timing; an executor only runs batches. A new executor
 * is one new folder here and one constructor choice in `stage/stage-plan.ts`.
 *
 * What the stage relies on:
 * - `start()` is called once before the first `run()` (and may be called
 *   early by `Stage.start()`); it rejects with a StageError `LOAD_FAILED`
 *   (or a transport's own code) carrying the real cause. `close()` during a
 *   pending `start()` must make it settle at once.
 * - `hasRoom(alone)` and `batchLimit()` are asked before every `run()`; the
 *   stage never calls `run()` without room, and never sends more items than
 *   `batchLimit()`. Room is how the executor bounds what is in flight.
 * - `run(inputs, alone, timed)` resolves with one outcome per input, in input
 *   order, with each item's computation start and end in `times` (seconds
 *   since the epoch, `timeOrigin + now()` of the clock that ran it) when
 *   `timed`; untimed, only the batch's span (first start, last end). It rejects:
 *   - with a {@link WorkerExit} when whatever ran the batch died: the stage
 *     re-runs each item alone (`alone: true`) and, past `retries` deaths while
 *     alone, fails it with `WORKER_DIED`;
 *   - with a {@link BatchTimeout} when a batch of one outran `timeout`;
 *   - with a StageError when the stage cannot go on (it is destroyed with it).
 *   When it moved items' bytes away (`transfer`), it puts them back into the
 *   `inputs` array, in place, for every item of a batch that did not run to
 *   the end and every item that failed: the caller reads its items back there.
 * - `causeOf(stored)` turns an error stored in a reply back into a value for
 *   a StageError's `cause`.
 * - `close()` stops everything the executor started; safe to call more than
 *   once and at any time, including while starting or running.
 */
export interface Executor {
  /** Gets ready to run (spawns workers); rejects with a StageError. */
  start(): Promise<void>;
  /**
   * After `start()`: readies the rest of what it may run on (the other
   * threads), in the background. `Stage.start()` asks; a stage started by
   * its first item does not, and the executor does it once that item's batch
   * is answered, so that the first result does not share the cores with
   * threads starting up.
   */
  warmUp?(): void;
  /**
   * Whether a batch sent now would start without waiting behind another;
   * `alone`: on a worker with nothing else in flight.
   */
  hasRoom(alone?: boolean): boolean;
  /**
   * Asks to be called when room that `hasRoom()` refused has opened because
   * of someone else (a shared pool's other stages); room opened by this
   * executor's own batches needs no call: their replies are the cue.
   */
  onRoom?(listener: () => void): void;
  /** How many items to put in the next batch. */
  batchLimit(): number;
  /**
   * How many pending items are worth waiting for while a batch of the stage
   * is in flight, rather than sending fewer on their own: items known to be
   * so cheap that a crossing's fixed cost outweighs them. 1 (or absent):
   * send at once. The wait ends at the in-flight batch's reply at the latest.
   */
  coalesceLimit?(): number;
  /**
   * Runs a batch; rejects with WorkerExit when a thread dies, BatchTimeout
   * past the time limit, StageError when fatal. `alone`: nothing else runs on
   * its worker meanwhile, so that if the worker dies, this batch is the cause.
   */
  run(inputs: unknown[], alone?: boolean, timed?: boolean): Promise<RunResult>;
  /**
   * How many batches' worth of threads ran this stage's work at once, when
   * only the executor knows (worker processes elsewhere); the run report
   * divides busy time by it. Local executors leave it out: their stage's
   * settings say.
   */
  parallelism?(): number;
  /** Turns an error stored in a reply back into the value to report as `cause`. */
  causeOf(stored: unknown): unknown;
  /** Stops every thread; safe to call more than once. */
  close(): Promise<void>;
}

/** Why whatever ran a batch went away while it was in flight. */
export class WorkerExit extends Error {
  constructor(readonly exitCode: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : `worker thread exited with code ${exitCode}`, { cause });
    this.name = 'WorkerExit';
  }
}

/** A batch outran `options.timeout`; whatever ran it has been stopped. */
export class BatchTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`batch ran longer than ${timeoutMs} ms`);
    this.name = 'BatchTimeout';
  }
}
