import { performance } from 'node:perf_hooks';

// `performance.now()` counts from each thread's own `timeOrigin`, so a worker's
// reading and the main thread's are comparable only after adding the origin.
const origin = performance.timeOrigin;

/** Seconds since the Unix epoch, sub-microsecond resolution, comparable across threads. */
export function nowSeconds(): number {
  return (origin + performance.now()) / 1000;
}
