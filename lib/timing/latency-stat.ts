import { createHistogram } from 'node:perf_hooks';
import type { RecordableHistogram } from 'node:perf_hooks';

/**
 * Count, sum, min, max and percentiles of a duration in seconds, in constant
 * memory however many values pass: the Python original kept every item (its
 * bug 10). Percentiles come from an HDR histogram of nanoseconds.
 */
export class LatencyStat {
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  private readonly histogram: RecordableHistogram = createHistogram();

  record(seconds: number): void {
    this.count++;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    // The histogram takes integers >= 1.
    this.histogram.record(Math.max(1, Math.round(seconds * 1e9)));
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get minimum(): number {
    return this.count === 0 ? 0 : this.min;
  }

  /** The p-th percentile (0 to 100) in seconds; 0 before any value. */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.histogram.percentile(p) / 1e9;
  }
}
