import type { ResourceLimits } from 'node:worker_threads';
import { checkKnownKeys, checkObject } from '../checks.js';

// Some `resourceLimits` values take down the whole process rather than the
// worker, so they never reach `new Worker()`. Measured on Node 20.20, 22.23,
// 24.22 and 26.12, with a worker that evaluates `1`:
// - maxOldGenerationSizeMb 2 or less: on 22 and later, V8 aborts the process
//   ("Fatal JavaScript out of memory: GC during deserialization", exit 133);
//   2.5 survives, and so does any value on 20. Our worker needs 6 to 8 MB to
//   start, so the floor of 4 still fails cleanly (LOAD_FAILED), on every line.
// - stackSizeMb 0.2: the process dies on every line (exit 6, 7, 10, or a
//   segfault on 22); 0.3 survives. The floor is 0.5.
// maxYoungGenerationSizeMb and codeRangeSizeMb harmed no host down to 0.
const FLOORS: Readonly<Record<keyof ResourceLimits, number>> = {
  maxYoungGenerationSizeMb: 0,
  maxOldGenerationSizeMb: 4,
  codeRangeSizeMb: 0,
  stackSizeMb: 0.5,
};

const KNOWN = Object.keys(FLOORS) as (keyof ResourceLimits)[];

/** Checks a worker's `resourceLimits`: known keys, finite numbers, none under the floor that crashes the host. */
export function checkResourceLimits(name: string, value: unknown): ResourceLimits {
  const limits = checkObject(name, value);
  checkKnownKeys(name, limits, KNOWN);
  for (const key of KNOWN) {
    const limit = limits[key];
    if (limit === undefined) continue;
    const floor = FLOORS[key];
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < floor) {
      const why = floor > 0 ? ` (less would crash the whole process, not just the worker, on some Node lines)` : '';
      throw new TypeError(`${name}.${key} must be a finite number >= ${floor}${why}, got ${typeof limit === 'number' ? limit : typeof limit}`);
    }
  }
  return { ...limits };
}
