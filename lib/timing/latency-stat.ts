import { LogHistogram } from './log-histogram.js';

const FIRST_VALUES = 64;

/**
 * Count, sum, min, max and percentiles of a duration in seconds, in constant
 * memory however many values pass: the Python original kept every item (its
 * bug 10). Percentiles come from a log-linear histogram of nanoseconds
 * (log-histogram.ts), three significant digits.
 */
export class LatencyStat {
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  // The first values are kept as they are, and the histogram made only past
  // them: its rows are 4 KB each, a server that builds a pipeline per
  // request makes a stat per stage per request, and few values have exact
  // percentiles anyway. (Node's own histogram, used before, cost about 10 us
  // to make: most of a 1-item pipeline's set-up.)
  private firstValues: Float64Array | undefined = new Float64Array(FIRST_VALUES);
  private histogram: LogHistogram | undefined;

  record(seconds: number): void {
    // The histogram takes integers >= 1. Looked for first: past the first
    // values it is always there (a record is four per item of a timed
    // fused chain of three, on the busiest thread).
    const rounded = Math.round(seconds * 1e9);
    const nanos = rounded >= 1 ? rounded : 1;
    const histogram = this.histogram;
    if (histogram !== undefined) histogram.record(nanos);
    else this.early(nanos);
    this.count++;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
  }

  /** Keeps one of the first values, or makes the histogram with them in it: they are not kept twice. */
  private early(nanos: number): void {
    if (this.count < FIRST_VALUES) {
      this.firstValues![this.count] = nanos;
      return;
    }
    this.histogram = new LogHistogram();
    for (const first of this.firstValues!) this.histogram.record(first);
    this.firstValues = undefined;
    this.histogram.record(nanos);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get minimum(): number {
    return this.count === 0 ? 0 : this.min;
  }

  /** The p-th percentile (0 to 100) in seconds; 0 before any value. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (this.histogram !== undefined) return this.histogram.percentile(p) / 1e9;
    // Nearest rank among the values kept, as the histogram would answer (to its precision).
    const sorted = this.firstValues!.slice(0, this.count).sort();
    const rank = Math.min(this.count - 1, Math.max(0, Math.ceil((p / 100) * this.count) - 1));
    return sorted[rank]! / 1e9;
  }
}
