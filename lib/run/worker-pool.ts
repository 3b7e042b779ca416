// The worker threads of one stage and the batches in flight on them.

import { StageError } from '../errors.js';
import { BatchTimeout } from './executor.js';
import type { Executor, RunResult } from './executor.js';
import { Outcome } from './protocol.js';
import type { SerializedError, WorkerInit } from './protocol.js';
import { deserializeError, serializeError } from './serialized-error.js';
import { KeptBytes, restoreReplyBuffers, transferablesOf } from './transfer.js';
import { WorkerThread } from './worker-thread.js';
import type { WorkerThreadOptions } from './worker-thread.js';

// Two batches in flight per worker hide the round trip: the worker starts the
// next batch while the reply to the last one is crossing back. More would only
// grow batches that wait, and threads.js adds a listener per call in flight.
const MAX_IN_FLIGHT = 2;

// Batches aim at about a millisecond of work: long enough to amortise a
// crossing (tens of microseconds), short enough to keep `concurrency` workers
// evenly loaded and latency low. Before the first reply we know nothing.
const TARGET_BATCH_SECONDS = 0.004;
const FIRST_BATCH_LIMIT = 16;
const MAX_BATCH = 4096;

interface Slot {
  thread: Promise<WorkerThread> | undefined;
  inFlight: number;
  /** Running a batch that must be alone on its worker. */
  alone: boolean;
}

export interface WorkerPoolOptions extends WorkerThreadOptions {
  /** The stage's name (for a fused chain, its members' names joined by '+'). */
  stage: string;
  /** Per-item time limit in ms: batches of one, one in flight per worker. */
  timeoutMs: number | undefined;
  /** Name and target (for LOAD_FAILED messages) of each step in `init.steps`. */
  steps: Array<{ name: string; target: string }>;
  init: WorkerInit;
  concurrency: number;
}

export class WorkerPool implements Executor {
  private readonly slots: Slot[];
  private secondsPerItem = 0;
  private closed = false;
  /** Every thread not yet exited, those still starting included: close() ends them all at once. */
  private readonly threads = new Set<WorkerThread>();
  private readonly maxInFlight: number;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.concurrency }, () => ({ thread: undefined, inFlight: 0, alone: false }));
    // Under a time limit a call must not wait behind another on its worker,
    // or the wait would count against it.
    this.maxInFlight = options.timeoutMs === undefined ? MAX_IN_FLIGHT : 1;
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.threadOf(slot)));
  }

  hasRoom(alone = false): boolean {
    return this.pick(alone) !== undefined;
  }

  batchLimit(): number {
    if (this.options.timeoutMs !== undefined) return 1;
    if (this.secondsPerItem === 0) return FIRST_BATCH_LIMIT;
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(TARGET_BATCH_SECONDS / this.secondsPerItem)));
  }

  async run(inputs: unknown[], alone = false, timed = true): Promise<RunResult> {
    const slot = this.pick(alone);
    if (slot === undefined) throw new Error('WorkerPool.run() called without room');
    slot.inFlight++;
    slot.alone = alone;
    try {
      return await this.runOn(slot, inputs, timed);
    } finally {
      slot.inFlight--;
      slot.alone = false;
    }
  }

  causeOf(stored: unknown): unknown {
    return deserializeError(stored as SerializedError);
  }

  // Threads still starting are terminated too, without waiting for their
  // load: a module whose top-level await never settles would otherwise hold
  // close(), and with it destroy() and abort, for ever. Their spawn() then
  // rejects at once, which settles a pending start().
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.threads].map((thread) => thread.terminate()));
  }

  /** The least busy slot that can take a batch now, if any. */
  private pick(alone: boolean): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      const open = alone ? slot.inFlight === 0 : !slot.alone && slot.inFlight < this.maxInFlight;
      if (open && (best === undefined || slot.inFlight < best.inFlight)) best = slot;
    }
    return best;
  }

  private async runOn(slot: Slot, inputs: unknown[], timed: boolean): Promise<RunResult> {
    const thread = await this.threadOf(slot);
    const moving = this.options.init.transfer;
    // Kept only while the batch is in flight (see transfer.ts).
    const kept = moving ? KeptBytes.of(inputs) : undefined;
    try {
      const call = thread.run(inputs, moving ? transferablesOf(inputs) : undefined, timed);
      const reply = await this.withinLimit(thread, call);
      // Copied or moved, a Buffer result arrives as a plain Uint8Array.
      restoreReplyBuffers(reply);
      // A failed item goes to onError as it was sent.
      kept?.putBack(inputs, (i) => reply.kinds[i] === Outcome.Error);
      this.learn(reply.times);
      return reply;
    } catch (error) {
      // Sent again, or reported, each item needs its bytes.
      kept?.putBack(inputs);
      // An input that cannot be cloned fails at once, before anything is sent.
      // (A result that cannot be cloned is the worker's to sort out: see
      // worker-runtime.ts.)
      if (!isDataCloneError(error)) throw error;
      return this.runCloneable(slot, inputs, error, timed);
    }
  }

  private async withinLimit<T>(thread: WorkerThread, call: Promise<T>): Promise<T> {
    const timeoutMs = this.options.timeoutMs;
    if (timeoutMs === undefined) return call;
    let timedOut = false;
    // The only way to stop a function that never returns is to end its
    // thread; the slot spawns a fresh one for its next batch.
    const timer = setTimeout(() => {
      timedOut = true;
      thread.terminate().catch(() => undefined);
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
  private async runCloneable(slot: Slot, inputs: unknown[], original: unknown, timed: boolean): Promise<RunResult> {
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
    const inner = sendable.length > 0 ? await this.runOn(slot, sendable, timed).finally(() => {
      // Moved bytes put back into `sendable` belong in the caller's inputs.
      positions.forEach((at, k) => { inputs[at] = sendable[k]; });
    }) : undefined;
    return mergeReplies(inputs.length, positions, inner, failures);
  }

  private threadOf(slot: Slot): Promise<WorkerThread> {
    const current = slot.thread;
    if (current === undefined) return (slot.thread = this.spawn());
    // A thread that died is replaced before its slot's next batch.
    return current.then((thread) => (thread.exited ? (slot.thread = this.spawn()) : thread));
  }

  private async spawn(): Promise<WorkerThread> {
    const { stage, steps, init, resourceLimits } = this.options;
    let thread: WorkerThread;
    try {
      thread = await WorkerThread.create({ resourceLimits });
      this.threads.add(thread);
      thread.onExit(() => this.threads.delete(thread));
      // close() may have run while threads.js was loading: this thread was not yet there to end.
      if (this.closed) await thread.terminate();
      await thread.handshake();
    } catch (error) {
      throw StageError.loadFailed(stage, 'a worker thread', error);
    }
    const reply = await thread.init(init).catch((error: unknown) => ({ error: serializeError(error), step: 0 }));
    if (reply !== undefined || this.closed) await thread.terminate();
    if (reply !== undefined) {
      const failed = steps[reply.step] ?? { name: stage, target: 'its function' };
      throw StageError.loadFailed(failed.name, failed.target, deserializeError(reply.error));
    }
    return thread;
  }

  // An average of the last few batches' time per item sizes the next batch.
  private learn(times: Float64Array): void {
    const count = times.length / 2;
    if (count === 0) return;
    const perItem = Math.max(1e-9, (times[times.length - 1]! - times[0]!) / count);
    this.secondsPerItem = this.secondsPerItem === 0 ? perItem : this.secondsPerItem * 0.75 + perItem * 0.25;
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
