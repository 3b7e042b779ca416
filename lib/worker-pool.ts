// The worker threads of one stage and the batches in flight on them.

import { StageError } from './errors.js';
import type { Executor, RunResult } from './executor.js';
import { Outcome } from './protocol.js';
import type { SerializedError, WorkerInit } from './protocol.js';
import { deserializeError, serializeError } from './serialized-error.js';
import { restoreReplyBuffers, transferablesOf } from './transfer.js';
import { WorkerThread } from './worker-thread.js';
import type { WorkerThreadOptions } from './worker-thread.js';

// Two batches in flight per worker hide the round trip: the worker starts the
// next batch while the reply to the last one is crossing back. More would only
// grow batches that wait, and threads.js adds a listener per call in flight.
const MAX_IN_FLIGHT = 2;

// Batches aim at about a millisecond of work: long enough to amortise a
// crossing (tens of microseconds), short enough to keep `concurrency` workers
// evenly loaded and latency low. Before the first reply we know nothing.
const TARGET_BATCH_SECONDS = 0.001;
const FIRST_BATCH_LIMIT = 16;
const MAX_BATCH = 4096;

interface Slot {
  thread: Promise<WorkerThread> | undefined;
  inFlight: number;
}

export interface WorkerPoolOptions extends WorkerThreadOptions {
  stage: string;
  /** What the stage runs, for LOAD_FAILED messages. */
  target: string;
  init: WorkerInit;
  concurrency: number;
}

export class WorkerPool implements Executor {
  private readonly slots: Slot[];
  private nextBatchId = 1;
  private secondsPerItem = 0;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.concurrency }, () => ({ thread: undefined, inFlight: 0 }));
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.threadOf(slot)));
  }

  hasRoom(): boolean {
    return this.slots.some((slot) => slot.inFlight < MAX_IN_FLIGHT);
  }

  batchLimit(): number {
    if (this.secondsPerItem === 0) return FIRST_BATCH_LIMIT;
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(TARGET_BATCH_SECONDS / this.secondsPerItem)));
  }

  async run(inputs: unknown[]): Promise<RunResult> {
    const slot = this.leastBusy();
    slot.inFlight++;
    try {
      return await this.runOn(slot, inputs);
    } finally {
      slot.inFlight--;
    }
  }

  causeOf(stored: unknown): unknown {
    return deserializeError(stored as SerializedError);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => {
      const thread = await slot.thread?.catch(() => undefined);
      await thread?.terminate();
    }));
  }

  private leastBusy(): Slot {
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.inFlight < best.inFlight) best = slot;
    return best;
  }

  private async runOn(slot: Slot, inputs: unknown[]): Promise<RunResult> {
    const thread = await this.threadOf(slot);
    const batchId = this.nextBatchId++;
    try {
      const moving = this.options.init.transfer;
      const reply = await thread.run(batchId, inputs, moving ? transferablesOf(inputs) : undefined);
      if (moving) restoreReplyBuffers(reply.kinds, reply.values);
      this.learn(reply.times);
      return reply;
    } catch (error) {
      if (!isDataCloneError(error)) throw error;
      // Either the reply failed to clone (the worker still has it) or the
      // inputs did (the worker never saw the batch).
      return (await thread.salvage(batchId)) ?? (await this.runCloneable(slot, inputs, error));
    }
  }

  /** Runs the inputs that can be cloned; the others fail alone, as DATA_CLONE. */
  private async runCloneable(slot: Slot, inputs: unknown[], original: unknown): Promise<RunResult> {
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
    const inner = sendable.length > 0 ? await this.runOn(slot, sendable) : undefined;
    return mergeReplies(inputs.length, positions, inner, failures);
  }

  private threadOf(slot: Slot): Promise<WorkerThread> {
    const current = slot.thread;
    if (current === undefined) return (slot.thread = this.spawn());
    // A thread that died is replaced before its slot's next batch.
    return current.then((thread) => (thread.exited ? (slot.thread = this.spawn()) : thread));
  }

  private async spawn(): Promise<WorkerThread> {
    const { stage, target, init, resourceLimits } = this.options;
    let thread: WorkerThread;
    try {
      thread = await WorkerThread.spawn({ resourceLimits });
    } catch (error) {
      throw StageError.loadFailed(stage, 'a worker thread', error);
    }
    const reply = await thread.init(init).catch((error: unknown) => ({ error: serializeError(error) }));
    if (reply !== undefined || this.closed) await thread.terminate();
    if (reply !== undefined) throw StageError.loadFailed(stage, target, deserializeError(reply.error));
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
    if (inner.uncloneable !== undefined) merged.uncloneable = inner.uncloneable.map((k) => positions[k]!);
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
