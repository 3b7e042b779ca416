// A batch with an item v8.serialize cannot take (a function, a symbol…): the
// others run, and each such item fails alone with DATA_CLONE, as on threads.

import { serialize } from 'node:v8';
import type { RunResult } from '../executor.js';
import { Outcome } from '../protocol.js';
import { serializeError } from '../serialized-error.js';

export async function runSendable(inputs: unknown[], run: (sendable: unknown[]) => Promise<RunResult>): Promise<RunResult> {
  const positions: number[] = [];
  const failures: Array<[number, unknown]> = [];
  inputs.forEach((input, i) => {
    try {
      serialize(input);
      positions.push(i);
    } catch (error) {
      failures.push([i, error]);
    }
  });
  if (failures.length === 0) throw new Error('runSendable() called with a batch that serializes');
  const merged: RunResult = {
    kinds: new Uint8Array(inputs.length),
    values: new Array<unknown>(inputs.length),
    times: new Float64Array(inputs.length * 2),
    uncloneableInputs: failures.map(([i]) => i),
  };
  if (positions.length > 0) {
    const inner = await run(positions.map((at) => inputs[at]));
    positions.forEach((at, k) => {
      merged.kinds[at] = inner.kinds[k]!;
      merged.values[at] = inner.values[k];
      merged.times[2 * at] = inner.times[2 * k]!;
      merged.times[2 * at + 1] = inner.times[2 * k + 1]!;
    });
    if (inner.uncloneable !== undefined) merged.uncloneable = inner.uncloneable.map((k) => positions[k]!);
  }
  for (const [at, error] of failures) {
    merged.kinds[at] = Outcome.Error;
    merged.values[at] = serializeError(error);
  }
  return merged;
}
