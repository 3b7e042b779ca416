// Runs a batch of items through one stage function and records each item's
// outcome and timing. Used inside worker threads and, for `thread: false`
// stages, on the main thread, so both behave alike.

import { nowSeconds } from '../timing/clock.js';
import { missingVariable } from './function-source.js';
import { Outcome } from './protocol.js';
import type { BatchReply } from './protocol.js';

export type StageFn = (data: unknown, context: unknown) => unknown;

export interface BatchRunnerOptions {
  fn: StageFn;
  context: unknown;
  /** The function was rebuilt from source text, so a ReferenceError means a closure. */
  fromSource: boolean;
  /** How a thrown value is stored in the reply (flattened when it must cross threads). */
  storeError: (error: unknown) => unknown;
}

/**
 * Runs a batch. `timed`: some item records per-item timing, so each item's
 * start and end are read; otherwise only the batch's own start and end are,
 * in the first start and last end (they size the next batch).
 */
export type BatchRunner = (inputs: readonly unknown[], timed: boolean) => Promise<BatchReply>;

export function createBatchRunner(options: BatchRunnerOptions): BatchRunner {
  const { fn, context, fromSource, storeError } = options;
  // One clock read per item boundary: an item starts when the one before it
  // ended (the loop between them is a few nanoseconds), which halves the
  // reads. A clock read costs more than a light function's whole call.
  return async function runBatch(inputs, timed) {
    const count = inputs.length;
    const reply: BatchReply = {
      kinds: new Uint8Array(count),
      values: new Array<unknown>(count),
      times: new Float64Array(count * 2),
    };
    const times = reply.times;
    const start = nowSeconds();
    let boundary = start;
    for (let i = 0; i < count; i++) {
      if (timed) times[2 * i] = boundary;
      try {
        const result = fn(inputs[i], context);
        // Await only what is async, so a batch of sync calls stays one tight loop.
        if (isThenable(result) || isGenerator(result)) await settleAsync(reply, i, result);
        else settle(reply, i, result);
      } catch (error) {
        reply.kinds[i] = Outcome.Error;
        reply.values[i] = storeError(error);
        const variable = fromSource ? missingVariable(error) : undefined;
        if (variable !== undefined) reply.closureVariable = variable;
      }
      if (timed) {
        boundary = nowSeconds();
        times[2 * i + 1] = boundary;
      }
    }
    if (!timed && count > 0) {
      times[0] = start;
      times[2 * count - 1] = nowSeconds();
    }
    return reply;
  };
}

/** What a call's result makes, awaited: a value, a drop, or the values a generator yielded. */
export async function resultOf(result: unknown): Promise<{ kind: number; value: unknown }> {
  const value = isThenable(result) ? await result : result;
  if (value === null || value === undefined) return { kind: Outcome.Drop, value: undefined };
  if (isGenerator(value)) return { kind: Outcome.Many, value: await drain(value) };
  return { kind: Outcome.Value, value };
}

function settle(reply: BatchReply, i: number, value: unknown): void {
  if (value === null || value === undefined) {
    reply.kinds[i] = Outcome.Drop;
  } else {
    reply.kinds[i] = Outcome.Value;
    reply.values[i] = value;
  }
}

async function settleAsync(reply: BatchReply, i: number, result: unknown): Promise<void> {
  const value = isThenable(result) ? await result : result;
  if (isGenerator(value)) {
    reply.kinds[i] = Outcome.Many;
    reply.values[i] = await drain(value);
  } else {
    settle(reply, i, value);
  }
}

// A yielded null or undefined is dropped, as a returned one is: pushed on, it
// would end the stream.
async function drain(source: Iterable<unknown> | AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of source) if (value !== null && value !== undefined) out.push(value);
  return out;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

// Only real generators fan out: an array or a Map returned by a stage is one
// value, as it would be from any function.
export function isGenerator(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return tag === 'Generator' || tag === 'AsyncGenerator';
}
