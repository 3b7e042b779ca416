import type { BatchReply } from './protocol.js';

/** A batch's outcome as the stage sees it. */
export interface RunResult extends BatchReply {
  /** Items that could not be cloned to the worker; their outcome is an error. */
  uncloneableInputs?: number[];
}

/**
 * Where a stage's function runs: a pool of worker threads, or the main thread
 * for `thread: false`. The stage decides what to send and when; the executor
 * only runs batches.
 */
export interface Executor {
  /** Gets ready to run (spawns workers); rejects with a StageError. */
  start(): Promise<void>;
  /**
   * Whether a batch sent now would start without waiting behind another;
   * `alone`: on a worker with nothing else in flight.
   */
  hasRoom(alone?: boolean): boolean;
  /** How many items to put in the next batch. */
  batchLimit(): number;
  /**
   * Runs a batch; rejects with WorkerExit when a thread dies, StageError when
   * fatal. `alone`: nothing else runs on its worker meanwhile, so that if the
   * worker dies, this batch is the cause.
   */
  run(inputs: unknown[], alone?: boolean): Promise<RunResult>;
  /** Turns an error stored in a reply back into the value to report as `cause`. */
  causeOf(stored: unknown): unknown;
  /** Stops every thread; safe to call more than once. */
  close(): Promise<void>;
}
