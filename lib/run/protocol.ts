// Message shapes shared by the main side and the worker entry. Both sides
// import this file and nothing else of each other.

import type { MessagePort } from 'node:worker_threads';

/** How the worker finds the function of one step. */
export type StepSpec =
  | { kind: 'module'; url: string; exportName: string | undefined; name: string }
  | { kind: 'source'; source: string; name: string };

/** One stage function as the worker runs it. */
export interface WorkerStep {
  spec: StepSpec;
  context: unknown;
  /** The stage's onError is 'emit': in a fused chain, its errors travel on as items. */
  emitErrors: boolean;
}

/**
 * What a thread needs to run one stage (a program): sent with the first batch
 * of it that a thread runs, and kept there. More than one step means a fused
 * chain: every item runs through all of them in one call.
 */
export interface WorkerInit {
  steps: WorkerStep[];
  /** Move owned binary data instead of copying it, and restore Buffers (see transfer.ts). */
  transfer: boolean;
  /** Items and results are JSON text: parsed before the first step, stringified after the last (see json-text.ts). */
  json: boolean;
}

/** Why a program could not be loaded: which step, and the error. */
export interface LoadFailure {
  error: SerializedError;
  step: number;
}

/** Outcome of one item, in `BatchReply.kinds`. */
export const Outcome = {
  /** `values[i]` is the single result. */
  Value: 0,
  /** The function returned null or undefined: the item is dropped. */
  Drop: 1,
  /** The function returned a generator: `values[i]` is the array it yielded. */
  Many: 2,
  /** The function threw: `values[i]` is a {@link SerializedError}. */
  Error: 3,
  /** The item went through an error emitted upstream in a fused chain, untouched. */
  PassThrough: 4,
  /** A fused chain ran: the item's records are in `BatchReply.chain`. */
  Chain: 6,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * The answer to one batch. Three flat arrays rather than one object per item:
 * structured clone cost grows with the number of objects, not only bytes.
 */
export interface BatchReply {
  kinds: Uint8Array;
  values: unknown[];
  /**
   * Start and end of each item's computation, seconds since the epoch, two
   * per item, when the batch was timed (an item starts at the end of the one
   * before it: one clock read per boundary). Untimed, only the first start
   * and the last end are set: the batch's span.
   */
  times: Float64Array;
  /** Set when a source-text function hit a ReferenceError: the name it could not find. */
  closureVariable?: string;
  /** Items (records, for a chain) whose results could not be cloned back: they are errors now. */
  uncloneable?: number[];
  /** Set for a fused chain: what happened to each item at each step. */
  chain?: ChainTrace;
  /**
   * The `worker_threads` threadId of the worker that ran the batch, once per
   * batch (traces put each item on the thread that ran it); absent when the
   * batch ran on the main thread (`thread: false`).
   */
  threadId?: number;
}

/**
 * What a fused chain did, as records in depth-first order: each input's
 * first step, then what its result did at the next step, and so on; a
 * fan-out's outputs each take their turn. Intermediate results stay in the
 * worker; only what leaves the chain, and what errors carry, comes back.
 */
export interface ChainTrace {
  /** Records per input item. */
  counts: Uint32Array;
  /** Per record: the step index. */
  steps: Uint8Array;
  /** Per record: an Outcome. */
  kinds: Uint8Array;
  /** Per record: computation start and end, seconds since the epoch. */
  times: Float64Array;
  /**
   * Per record: the value (last step's Value), the yielded values (last step's
   * Many), the number yielded (an earlier step's Many), or a ChainError.
   */
  values: unknown[];
}

/** A step's error inside a chain, with the data it failed on (for onError handlers). */
export interface ChainError {
  error: SerializedError;
  data: unknown;
}

/** An error flattened to plain data, keeping what structured clone would drop. */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: unknown;
  /** Set when the thrown value was not an Error: a clone-safe rendering of it. */
  thrown?: unknown;
}

/**
 * Methods the worker entry exposes through threads.js: only `init`, which
 * hands the worker the port that batches travel on (see worker-thread.ts).
 */
export interface WorkerApi {
  init(batches: MessagePort): Promise<void>;
}

/** A batch sent to the worker on its batch port. */
export interface BatchRequest {
  id: number;
  /** Which program runs it: a number the pool gave it. */
  program: number;
  /** The program itself, the first time this thread runs it (or after it failed to load). */
  load?: WorkerInit;
  inputs: unknown[];
  /** Some item records per-item timing: read the clock per item (per step in a chain), else per batch only. */
  timed: boolean;
}

/** Tells a thread to drop a program nobody uses any more. */
export interface ForgetRequest {
  forget: number;
}

/**
 * The worker's answer on the batch port: the reply, why the batch could not
 * run at all, or why its program could not be loaded (nothing ran).
 */
export type BatchAnswer =
  | { id: number; reply: BatchReply }
  | { id: number; error: SerializedError }
  | { id: number; loadFailed: LoadFailure };

/** Posted by the worker on its own port just before it exits on a fatal error. */
export const FATAL_MESSAGE = '@@async-task-pipeline/fatal';
export interface FatalMessage {
  [FATAL_MESSAGE]: SerializedError;
}
