// Runs a batch through a fused chain of stage functions inside one worker:
// one crossing pair per item instead of one per stage. Records what each step
// did (see ChainTrace) so the main side can count, time and apply error
// policies exactly as if the stages had run apart.

import { nowSeconds } from './clock.js';
import { missingVariable } from './function-source.js';
import { Outcome } from './protocol.js';
import type { BatchReply, ChainError } from './protocol.js';
import { resultOf } from './batch-runner.js';
import type { StageFn } from './batch-runner.js';
import { serializeError } from './serialized-error.js';

export interface ChainStep {
  fn: StageFn;
  context: unknown;
  emitErrors: boolean;
  fromSource: boolean;
}

/** Growable columns of a ChainTrace, one row per record. */
class Records {
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

export function createChainRunner(steps: ChainStep[]): (inputs: readonly unknown[]) => Promise<BatchReply> {
  const last = steps.length - 1;

  async function visit(records: Records, k: number, data: unknown): Promise<string | undefined> {
    const step = steps[k]!;
    const start = nowSeconds();
    let outcome: { kind: number; value: unknown };
    try {
      outcome = await resultOf(step.fn(data, step.context));
    } catch (error) {
      const failure: ChainError = { error: serializeError(error), data };
      records.add(k, Outcome.Error, start, nowSeconds(), failure);
      // An emitted error travels on as the item; later steps pass it through.
      if (step.emitErrors) for (let j = k + 1; j <= last; j++) records.add(j, Outcome.PassThrough, 0, 0, undefined);
      return step.fromSource ? missingVariable(error) : undefined;
    }
    const end = nowSeconds();
    const { kind, value } = outcome;
    if (kind === Outcome.Drop || k === last) {
      records.add(k, kind, start, end, value);
      return undefined;
    }
    if (kind === Outcome.Value) {
      records.add(k, kind, start, end, undefined);
      return visit(records, k + 1, value);
    }
    const yielded = value as unknown[];
    records.add(k, kind, start, end, yielded.length);
    let closure: string | undefined;
    for (const each of yielded) closure = (await visit(records, k + 1, each)) ?? closure;
    return closure;
  }

  return async function runChain(inputs) {
    const count = inputs.length;
    const records = new Records();
    const counts = new Uint32Array(count);
    const spans = new Float64Array(count * 2);
    let closureVariable: string | undefined;
    for (let i = 0; i < count; i++) {
      const first = records.length;
      closureVariable = (await visit(records, 0, inputs[i])) ?? closureVariable;
      counts[i] = records.length - first;
      // The plain reply's times span the chain, for batch sizing.
      spans[2 * i] = records.times[2 * first]!;
      spans[2 * i + 1] = nowSeconds();
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
