// Anchor `inline`: the same functions in plain object-mode Transforms on the
// main thread. No crossing at all: the ceiling for light work, the floor for
// CPU-bound work.

import { Transform } from 'node:stream';
import * as work from '../work.js';
import type { WorkName } from '../lib/work-module.js';

export function inlineStage(name: WorkName): Transform {
  const fn = work[name] as (item: unknown) => unknown;
  return new Transform({
    objectMode: true,
    transform(chunk: unknown, _encoding, callback) {
      callback(null, fn(chunk));
    },
  });
}

export function inlineStages(names: readonly WorkName[]): Transform[] {
  return names.map(inlineStage);
}
