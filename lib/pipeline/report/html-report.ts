// lib/pipeline/report/: the run report as one self-contained HTML document
// (issue 18), in the spirit of Dask's performance_report(): a file people open
// and share. Inline CSS and SVG only: no script, no font, nothing fetched, so
// it opens the same offline, attached to a ticket, years later. Its size is
// bounded whatever the run's length: the time series has at most
// MAX_BUCKETS points per line (run-sampler.ts), the task stream shows the
// recent-items window with its bars capped (task-stream.ts), histograms have
// eight bars. This folder is part of the pipeline layer.

import type { PipelineItem } from '../../timing/pipeline-item.js';
import { latencyHistogram } from '../../timing/latency-histogram.js';
import type { LatencySummary } from '../summary.js';
import type { SampleSeries } from '../run-sampler.js';
import { colourOf, escapeHtml, fmt, lineChart, shareBars } from './svg.js';
import { summaryTable } from './summary-table.js';
import { taskStream } from './task-stream.js';

/** Options of `getHtmlReport()`. */
export interface HtmlReportOptions {
  /** The page's title and heading. @default 'async-task-pipeline run report' */
  title?: string;
}

/** @internal What the report is drawn from. */
export interface HtmlReportInput {
  options: HtmlReportOptions;
  summary: LatencySummary;
  /** Undefined when the pipeline is not timed. */
  series: SampleSeries | undefined;
  /** Per link, its stages' names (several when fused). */
  links: ReadonlyArray<readonly string[]>;
  /** The stages, for their latency histograms. */
  stages: ReadonlyArray<{ name: string; stats: { latency: { count: number; percentile(p: number): number } } }>;
  recent: readonly PipelineItem[];
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1140px;color:#222;background:#fff;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin-bottom:16px}
.verdict{border-left:6px solid #e15759;background:#fdf1f1;padding:12px 16px;margin:12px 0}
.verdict.none{border-color:#4e79a7;background:#eef3f9}
.verdict .name{font-size:20px;font-weight:600}
.verdict .advice{margin-top:6px}
.verdict .figures{color:#444;margin-top:6px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0 0 12px}figcaption{font-weight:600;margin-bottom:4px}
svg{display:block;max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}
.grid{stroke:#eee}.axis{stroke:#999}.tick,.unit{font-size:10px;fill:#555}
.legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f6f6f6}tr.bottleneck td{background:#fdf1f1;font-weight:600}
.note{color:#666}
`;

export function buildHtmlReport(input: HtmlReportInput): string {
  const title = input.options.title ?? 'async-task-pipeline run report';
  const { summary } = input;
  const names = input.links.flat();
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<div class="meta">${metaLine(summary)}</div>`,
    verdict(summary),
    '<h2>Over time</h2>',
    overTime(input, names),
    '<h2>Task stream</h2>',
    taskStream(input.recent, names),
    '<h2>Latency per stage</h2>',
    `<div class="charts">${histograms(input)}</div>`,
    '<h2>Figures</h2>',
    summaryTable(summary, names),
  ].join('\n');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

function metaLine(summary: LatencySummary): string {
  const t = summary.throughput;
  return `${summary.counts.received} items in, ${summary.totalItems} out in ${t.elapsedSeconds.toFixed(2)} s ` +
    `(${t.itemsPerSecond.toFixed(0)} items/s); latency p50 ${ms(summary.p50TotalLatency)}, p99 ${ms(summary.p99TotalLatency)}`;
}

function verdict(summary: LatencySummary): string {
  const b = summary.bottleneck;
  const t = summary.throughput;
  if (b === null) {
    const head = t.limitedBy === 'sink' ? 'No stage limits the run: the sink is slower than every stage'
      : t.limitedBy === 'source' ? 'No stage limits the run: the source is slower than every stage'
        : 'No bottleneck named';
    return `<section class="verdict none"><div class="name">${escapeHtml(head)}</div><div class="advice">${escapeHtml(t.advice)}</div></section>`;
  }
  const fused = b.fusedWith === null ? '' : ` (fused: ${b.fusedWith.join(' + ')})`;
  return `<section class="verdict"><div class="name">Bottleneck: ${escapeHtml(b.stage)}${escapeHtml(fused)}</div>` +
    `<div class="advice">${escapeHtml(b.advice)}</div>` +
    `<div class="figures">busy ${pct(b.busyShare)} of its ${b.threads} thread(s) · its writer waited ${pct(b.writerWaitShare)} of the run · ` +
    `its reader waited ${pct(b.readerWaitShare)} · confidence ${pct(b.confidence)}</div></section>`;
}

function overTime(input: HtmlReportInput, names: readonly string[]): string {
  const series = input.series;
  if (series === undefined || series.buckets.length === 0) return '<p class="note">No samples: the pipeline is not timed, or the run has not started.</p>';
  const rates = names.map((name, s) => ({ name, colour: colourOf(s), values: series.buckets.map((b) => b.itemsPerSecond[s] ?? Number.NaN) }));
  const held = input.links.map((link, l) => ({
    name: link.join(' + '),
    colour: colourOf(names.indexOf(link[0]!)),
    values: series.buckets.map((b) => b.itemsHeld[l] ?? Number.NaN),
  }));
  const width = series.bucketSeconds >= 1 ? `${series.bucketSeconds} s` : `${(series.bucketSeconds * 1e3).toFixed(0)} ms`;
  return `<div class="charts">${lineChart(`Items per second out of each stage (${width} buckets)`, 'items/s', rates, series.bucketSeconds)}` +
    `${lineChart('Items held by each stage (mean per bucket)', 'items', held, series.bucketSeconds)}</div>`;
}

function histograms(input: HtmlReportInput): string {
  const names = input.links.flat();
  return input.stages.map((stage) => {
    const buckets = latencyHistogram(stage.stats.latency);
    const colour = colourOf(names.indexOf(stage.name));
    if (buckets.length === 0) return `<figure><figcaption>${escapeHtml(stage.name)}</figcaption><p class="note">no timed items</p></figure>`;
    const bars = buckets.map((b) => ({ label: `${fmt(b.fromMs)}–${fmt(b.toMs)} ms`, share: b.share }));
    return shareBars(`${stage.name}: time in the stage per item`, bars, colour);
  }).join('');
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function ms(seconds: number): string {
  return `${fmt(seconds * 1e3)} ms`;
}
