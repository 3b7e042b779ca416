// Plain timing for scenario runs: warm-up runs, then the median of N runs.
// Each run gets a fresh trial from `prepare` (streams are single-use), and
// only `run` is timed: spawning workers and building data are not.

import { performance } from 'node:perf_hooks';

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

export async function measure<T>(options: MeasureOptions<T>): Promise<Measurement> {
  const samplesMs: number[] = [];
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const trial = await options.prepare();
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
