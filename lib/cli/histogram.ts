// A small text histogram of one stage's latencies, drawn from the buckets
// timing/latency-histogram.ts reads off the stage's statistic.

export { latencyHistogram } from '../timing/latency-histogram.js';
export type { HistogramBucket, PercentileSource } from '../timing/latency-histogram.js';
import type { HistogramBucket } from '../timing/latency-histogram.js';

/** One line per bucket: `  0.12 – 0.25 ms │██████▌      41%`. */
export function renderHistogram(buckets: readonly HistogramBucket[], width = 30): string[] {
  const labels = buckets.map((b) => `${formatMs(b.fromMs)} – ${formatMs(b.toMs)} ms`);
  const labelWidth = Math.max(0, ...labels.map((l) => l.length));
  return buckets.map((b, i) => {
    const bar = bars(b.share * width);
    return `  ${labels[i]!.padStart(labelWidth)} │${bar.padEnd(width)} ${(b.share * 100).toFixed(0).padStart(3)}%`;
  });
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function bars(cells: number): string {
  const whole = Math.floor(cells);
  const eighth = Math.round((cells - whole) * 8);
  return '█'.repeat(whole) + (eighth === 8 ? '█' : EIGHTHS[eighth]!);
}

/** Milliseconds with about three significant digits. */
export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}
