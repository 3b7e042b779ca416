// The summary's figures as an HTML table: one row per stage, the
// bottleneck's row marked, then the pipeline's totals.

import type { LatencySummary } from '../summary.js';
import { escapeHtml, fmt } from './svg.js';

const HEAD = ['stage', 'in', 'out', 'filtered', 'failed', 'skipped', 'retried', 'mean ms', 'p50 ms', 'p99 ms', 'max ms',
  'compute ms/item', 'queue ms/item', 'busy', 'writer waited', 'reader waited', 'fused with'];

export function summaryTable(summary: LatencySummary, names: readonly string[]): string {
  const limiting = summary.bottleneck?.stage;
  const rows = names.map((name) => {
    const s = summary.stageStatistics[name];
    if (s === undefined) return '';
    const cells = [
      escapeHtml(name), s.received, s.emitted, s.filtered, s.failed, s.skipped, s.retried,
      ms(s.avgLatency), ms(s.p50Latency), ms(s.p99Latency), ms(s.maxLatency),
      ms(s.timingBreakdown.avgComputationTime), ms(s.timingBreakdown.avgQueueWaitTime),
      pct(s.busyShare), pct(s.writerWaitShare), pct(s.readerWaitShare), escapeHtml(s.fusedWith?.join(' + ') ?? ''),
    ];
    return `<tr${name === limiting ? ' class="bottleneck"' : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  }).join('');
  const c = summary.counts;
  const totals = `<p>Whole pipeline: ${c.received} in, ${c.emitted} out, ${c.filtered} filtered, ${c.failed} failed, ${c.skipped} skipped, ` +
    `${c.retried} retried; latency mean ${ms(summary.avgTotalLatency)} ms, p50 ${ms(summary.p50TotalLatency)}, p95 ${ms(summary.p95TotalLatency)}, ` +
    `p99 ${ms(summary.p99TotalLatency)}, max ${ms(summary.maxTotalLatency)}; ${pct(summary.overallEfficiency.computationEfficiency)} of it computing. ` +
    `The sink was behind ${pct(summary.throughput.sinkWaitShare)} of the run; the source left the first stage idle ${pct(summary.throughput.sourceIdleShare)}.</p>`;
  return `<table><thead><tr>${HEAD.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>${totals}`;
}

function ms(seconds: number): string {
  return fmt(seconds * 1e3);
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
