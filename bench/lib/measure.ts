// Plain timing for scenario runs: warm-up runs, then the median of N runs.
// Each run gets a fresh trial from `prepare` (streams are single-use), and
// only `run` is timed: spawning workers and building data are not.

import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** One timed run: everything is built and started; `run` moves the items. */
export interface Trial<T> {
  run(): Promise<T>;
  close?(): Promise<void> | void;
}

export interface Measurement {
  medianMs: number;
  samplesMs: number[];
  itemsPerSecond: number;
}

export interface MeasureOptions<T> {
  items: number;
  warmups: number;
  runs: number;
  prepare: () => Promise<Trial<T>>;
  /** Called with every run's output (warm-ups too), outside the timed part; throws when it is wrong. */
  check: (output: T) => void;
}

// A full collection before every timed run, so that no run pays for the
// garbage of the one before it (in a group taking turns, runner B otherwise
// pays for runner A's 500,000 dead items) and every run starts from the same
// heap. Measured on fused timing on / off pairs, three processes of 8 rounds
// each way: the lowest per-round ratio was 0.57, 0.66, 0.79 without it and
// 0.81, 0.77, 0.80 with it (medians 0.85-0.90 and 0.89-0.91). The
// flag set at run time gives new contexts a `gc`, so the bench needs no
// node flag of its own.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Collects all garbage now; called after a trial is built and before its timed run. */
export function collectGarbage(): void {
  gc();
}

export async function measure<T>(options: MeasureOptions<T>): Promise<Measurement> {
  const samplesMs: number[] = [];
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const trial = await options.prepare();
    collectGarbage();
    const started = performance.now();
    let output: T;
    try {
      output = await trial.run();
    } finally {
      await trial.close?.();
    }
    const elapsed = performance.now() - started;
    options.check(output);
    if (i >= options.warmups) samplesMs.push(elapsed);
  }
  const medianMs = median(samplesMs);
  return { medianMs, samplesMs, itemsPerSecond: options.items / (medianMs / 1000) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0 to 100) of the values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
