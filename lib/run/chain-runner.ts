// Runs a batch through a fused chain of stage functions inside one worker:
// one crossing pair per item instead of one per stage. Records what each step
// did (see ChainTrace) so the main side can count, time and apply error
// policies exactly as if the stages had run apart.

import { nowSeconds } from '../timing/clock.js';
import { missingVariable } from './function-source.js';
import { Outcome } from './protocol.js';
import type { BatchReply, ChainError } from './protocol.js';
import { isGenerator, resultOf } from './batch-runner.js';
import type { StageFn } from './batch-runner.js';
import { serializeError } from './serialized-error.js';

export interface ChainStep {
  fn: StageFn;
  context: unknown;
  emitErrors: boolean;
  fromSource: boolean;
}

/** Growable columns of a ChainTrace, one row per record, for one batch. */
class Records {
  /** Some item of the batch records per-item timing: only then is the clock read per step. */
  constructor(readonly timed: boolean) {}

  /** The time now when the batch is timed, else 0 (nothing reads it). */
  now(): number {
    return this.timed ? nowSeconds() : 0;
  }

  readonly steps: number[] = [];
  readonly kinds: number[] = [];
  readonly times: number[] = [];
  readonly values: unknown[] = [];

  get length(): number {
    return this.steps.length;
  }

  add(step: number, kind: number, start: number, end: number, value: unknown): void {
    this.steps.push(step);
    this.kinds.push(kind);
    this.times.push(start, end);
    this.values.push(value);
  }
}

function isPlain(result: unknown): boolean {
  if (result === null || typeof result !== 'object') return true;
  return typeof (result as { then?: unknown }).then !== 'function' && !isGenerator(result);
}

/** A name a source function could not find, if any; a promise only when a step was async. */
type Visit = string | undefined | Promise<string | undefined>;

function isPromise(value: Visit): value is Promise<string | undefined> {
  return typeof value === 'object';
}

export function createChainRunner(steps: ChainStep[]): (inputs: readonly unknown[], timed: boolean) => Promise<BatchReply> {
  const last = steps.length - 1;

  // Runs step k on one value and the rest of the chain on what it gives,
  // synchronously as long as every step is: an await per step would cost
  // more than light work itself. `start` is the end of what ran just before
  // (one clock read per step boundary, not two).
  function visit(records: Records, k: number, data: unknown, start: number): Visit {
    const step = steps[k]!;
    let result: unknown;
    try {
      result = step.fn(data, step.context);
    } catch (error) {
      return failed(records, k, start, error, data);
    }
    // A plain result passes as kind and value, with no outcome object per step.
    if (isPlain(result)) return after(records, k, start, result === null || result === undefined ? Outcome.Drop : Outcome.Value, result ?? undefined);
    return resultOf(result).then(
      (outcome) => after(records, k, start, outcome.kind, outcome.value),
      (error: unknown) => failed(records, k, start, error, data),
    );
  }

  function failed(records: Records, k: number, start: number, error: unknown, data: unknown): string | undefined {
    const step = steps[k]!;
    const failure: ChainError = { error: serializeError(error), data };
    records.add(k, Outcome.Error, start, records.now(), failure);
    // An emitted error travels on as the item; later steps pass it through.
    if (step.emitErrors) for (let j = k + 1; j <= last; j++) records.add(j, Outcome.PassThrough, 0, 0, undefined);
    return step.fromSource ? missingVariable(error) : undefined;
  }

  function after(records: Records, k: number, start: number, kind: number, value: unknown): Visit {
    const end = records.now();
    if (kind === Outcome.Drop || k === last) {
      records.add(k, kind, start, end, value);
      return undefined;
    }
    if (kind === Outcome.Value) {
      records.add(k, kind, start, end, undefined);
      return visit(records, k + 1, value, end);
    }
    const yielded = value as unknown[];
    records.add(k, kind, start, end, yielded.length);
    return visitEach(records, k + 1, yielded, 0, undefined);
  }

  // The outputs of a fan-out, one after another: records stay depth-first.
  function visitEach(records: Records, k: number, values: unknown[], from: number, closure: string | undefined): Visit {
    for (let j = from; j < values.length; j++) {
      const visited = visit(records, k, values[j], records.now());
      if (isPromise(visited)) return visited.then((found) => visitEach(records, k, values, j + 1, found ?? closure));
      closure = visited ?? closure;
    }
    return closure;
  }

  return async function runChain(inputs, timed) {
    const count = inputs.length;
    const records = new Records(timed);
    const counts = new Uint32Array(count);
    // The plain reply's times span the chain per item when timed; else only
    // the batch's start and end, for batch sizing.
    const spans = new Float64Array(count * 2);
    const batchStart = nowSeconds();
    let boundary = batchStart;
    let closureVariable: string | undefined;
    for (let i = 0; i < count; i++) {
      const first = records.length;
      const visited = visit(records, 0, inputs[i], boundary);
      closureVariable = (isPromise(visited) ? await visited : visited) ?? closureVariable;
      counts[i] = records.length - first;
      if (timed) {
        // Every record ends with a clock read; the item's last is the latest.
        spans[2 * i] = boundary;
        boundary = maxEnd(records.times, 2 * first);
        spans[2 * i + 1] = boundary;
      }
    }
    if (!timed && count > 0) {
      spans[0] = batchStart;
      spans[2 * count - 1] = nowSeconds();
    }
    const reply: BatchReply = {
      kinds: new Uint8Array(count).fill(Outcome.Chain),
      values: new Array<unknown>(count),
      times: spans,
      chain: {
        counts,
        steps: Uint8Array.from(records.steps),
        kinds: Uint8Array.from(records.kinds),
        times: Float64Array.from(records.times),
        values: records.values,
      },
    };
    if (closureVariable !== undefined) reply.closureVariable = closureVariable;
    return reply;
  };
}

/** The latest end time among records from `from` (an index into the times column) on. */
function maxEnd(times: readonly number[], from: number): number {
  let latest = 0;
  for (let at = from + 1; at < times.length; at += 2) if (times[at]! > latest) latest = times[at]!;
  return latest;
}
