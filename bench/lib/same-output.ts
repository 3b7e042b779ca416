// The bench's one correctness gate: every runner must produce what the
// reference runner produced, item for item, in order. A runner that ran fewer
// items (node-map on big scenarios) is compared with the same prefix.

import { isDeepStrictEqual } from 'node:util';

export class OutputMismatch extends Error {
  override name = 'OutputMismatch';
}

export function assertSameOutput(scenario: string, runner: string, expected: readonly unknown[], actual: readonly unknown[], items = expected.length): void {
  if (actual.length !== items) {
    throw new OutputMismatch(`${scenario}: ${runner} produced ${actual.length} items, expected ${items}`);
  }
  for (let i = 0; i < items; i++) {
    if (!isDeepStrictEqual(actual[i], expected[i])) {
      throw new OutputMismatch(
        `${scenario}: ${runner} differs at item ${i}: expected ${preview(expected[i])}, got ${preview(actual[i])}`,
      );
    }
  }
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
