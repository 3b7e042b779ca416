// A coarse histogram of one latency statistic. LatencyStat keeps a log-linear
// histogram it exposes only through percentiles, so the shares here are read
// from it at evenly spaced percentiles (each sample stands for 1/SAMPLES of
// the items) and counted into log-spaced buckets between the fastest and the
// slowest sample: coarse, but in constant memory however many items passed.
// Shared by the CLI's text report and the HTML run report.

/** One bar: items whose latency fell in [fromMs, toMs], as a share 0 to 1. */
export interface HistogramBucket {
  fromMs: number;
  toMs: number;
  share: number;
}

/** What the histogram reads: a stage's `stats.latency` (seconds). */
export interface PercentileSource {
  readonly count: number;
  percentile(p: number): number;
}

const SAMPLES = 200;

export function latencyHistogram(source: PercentileSource, bucketCount = 8): HistogramBucket[] {
  if (source.count === 0) return [];
  const values: number[] = [];
  for (let k = 0; k < SAMPLES; k++) values.push(source.percentile(((k + 0.5) / SAMPLES) * 100) * 1000);
  const low = values[0]!;
  const high = values[SAMPLES - 1]!;
  if (high <= low * 1.01) return [{ fromMs: low, toMs: high, share: 1 }];
  const ratio = high / low;
  const edges = Array.from({ length: bucketCount + 1 }, (_, i) => low * ratio ** (i / bucketCount));
  const counts = new Array<number>(bucketCount).fill(0);
  for (const value of values) {
    let b = Math.floor((Math.log(value / low) / Math.log(ratio)) * bucketCount);
    if (b >= bucketCount) b = bucketCount - 1;
    counts[b]!++;
  }
  return counts.map((count, b) => ({ fromMs: edges[b]!, toMs: edges[b + 1]!, share: count / SAMPLES }));
}
