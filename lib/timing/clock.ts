import { performance } from 'node:perf_hooks';

// Every thread of a process shares one `timeOrigin`, and `performance.now()`
// counts from it on the process's monotonic clock (measured on Node 20 to 26:
// a worker started 10 s after its host reads the very same origin). The same
// sum in every thread, rounded the same way, keeps cross-thread readings in
// their real order even where a double in seconds resolves only 0.24 us. Do not
// correct a worker's reading by anything it measured itself (a sampled offset
// carries its own error, larger than that resolution).
const origin = performance.timeOrigin;

/** Seconds since the Unix epoch, sub-microsecond resolution, comparable across threads. */
export function nowSeconds(): number {
  return (origin + performance.now()) / 1000;
}
