// The end-of-run report: per stage, counts, latency percentiles and a
// histogram; as a text table for standard error or as JSON for a file.

import type { Pipeline } from '../pipeline/pipeline.js';
import { formatMs, latencyHistogram, renderHistogram } from './histogram.js';
import type { HistogramBucket } from './histogram.js';
import type { StageCounts } from '../stage/stage-stats.js';
import type { Bottleneck, ThroughputLimit } from '../pipeline/bottleneck.js';

/** Latency figures in milliseconds. */
export interface LatencyFiguresMs {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One stage in the report: its counts as `stage.stats` has them (fan-out aside). */
export interface StageReport extends Omit<StageCounts, 'fanOut'> {
  name: string;
  /** Time items spent in the stage (queue, transfer and computing), ms. */
  latencyMs: LatencyFiguresMs;
  histogram: HistogramBucket[];
}

/** The whole run: what `--report` prints and `--report-json` writes. */
export interface RunReport {
  itemsIn: number;
  itemsOut: number;
  elapsedMs: number;
  itemsPerSecond: number;
  /** From entering the pipeline to leaving its last stage, ms. */
  totalLatencyMs: Omit<LatencyFiguresMs, 'mean' | 'max'> & { mean: number };
  stages: StageReport[];
  /** The stage that limits throughput, as `getLatencySummary()` names it; null when none does. */
  bottleneck: Bottleneck | null;
  /** Which part limits the run, and the advice. */
  limitedBy: ThroughputLimit;
  advice: string;
}

export function buildRunReport(pipeline: Pipeline, elapsedMs: number): RunReport {
  const summary = pipeline.getLatencySummary();
  const stages = pipeline.stages.map((s): StageReport => {
    const { latency } = s.stats;
    const counts = s.stats.counts();
    return {
      name: s.name,
      received: counts.received,
      emitted: counts.emitted,
      filtered: counts.filtered,
      failed: counts.failed,
      skipped: counts.skipped,
      retried: counts.retried,
      latencyMs: {
        mean: latency.mean * 1000,
        p50: latency.percentile(50) * 1000,
        p95: latency.percentile(95) * 1000,
        p99: latency.percentile(99) * 1000,
        max: latency.max * 1000,
      },
      histogram: latencyHistogram(latency),
    };
  });
  return {
    itemsIn: summary.counts.received,
    itemsOut: summary.totalItems,
    elapsedMs,
    itemsPerSecond: elapsedMs > 0 ? (summary.totalItems * 1000) / elapsedMs : 0,
    totalLatencyMs: {
      mean: summary.avgTotalLatency * 1000,
      p50: summary.p50TotalLatency * 1000,
      p95: summary.p95TotalLatency * 1000,
      p99: summary.p99TotalLatency * 1000,
    },
    stages,
    bottleneck: summary.bottleneck,
    limitedBy: summary.throughput.limitedBy,
    advice: summary.throughput.advice,
  };
}

const COLUMNS = ['stage', 'in', 'out', 'filtered', 'failed', 'skipped', 'p50 ms', 'p95 ms', 'p99 ms'];

/** The report as text: a table of the stages, then each stage's latency histogram. */
export function formatReport(report: RunReport): string {
  const rows = report.stages.map((s) => [
    s.name,
    String(s.received),
    String(s.emitted),
    String(s.filtered),
    String(s.failed),
    String(s.skipped),
    formatMs(s.latencyMs.p50),
    formatMs(s.latencyMs.p95),
    formatMs(s.latencyMs.p99),
  ]);
  const widths = COLUMNS.map((title, c) => Math.max(title.length, ...rows.map((r) => r[c]!.length)));
  // Names left-aligned, numbers right-aligned.
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const out = [
    `${report.itemsIn} items in, ${report.itemsOut} out in ${(report.elapsedMs / 1000).toFixed(2)} s ` +
      `(${report.itemsPerSecond.toFixed(0)} items/s); latency p50 ${formatMs(report.totalLatencyMs.p50)} ms, ` +
      `p95 ${formatMs(report.totalLatencyMs.p95)} ms, p99 ${formatMs(report.totalLatencyMs.p99)} ms`,
    '',
    line(COLUMNS),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.map(line),
  ];
  const b = report.bottleneck;
  out.push('', b === null ? `bottleneck: none. ${report.advice}`
    : `bottleneck: ${b.stage} (busy ${Math.round(b.busyShare * 100)}% of ${b.threads} thread${b.threads === 1 ? '' : 's'}). ${report.advice}`);
  for (const s of report.stages) {
    if (s.histogram.length === 0) continue;
    out.push('', `${s.name}: latency per item`, ...renderHistogram(s.histogram));
  }
  return out.join('\n') + '\n';
}
