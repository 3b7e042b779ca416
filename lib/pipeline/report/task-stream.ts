// The task stream, as Dask's performance report shows it: one row per thread
// that ran a function, a bar for each stage's work on it, coloured by stage.
// Drawn from the recent items (the `reportItems` window, the same data as
// getTrace()): each item's computation on the thread that ran it. Spans of one
// stage on one thread closer than a pixel merge into one bar, which is how a
// batch shows; the bars are capped, so the report stays bounded whatever
// `reportItems` is.

import type { DetailedTiming } from '../../timing/detailed-timing.js';
import type { PipelineItem } from '../../timing/pipeline-item.js';
import { colourOf, escapeHtml, figure, legend, px, timeAxis } from './svg.js';
import type { Frame } from './svg.js';

const MAX_BARS = 4000;
const ROW_HEIGHT = 18;

interface Bar {
  stage: number;
  start: number;
  end: number;
  items: number;
}

/** The SVG of the task stream of `items`; `stageNames` gives colours and the legend's order. */
export function taskStream(items: readonly PipelineItem[], stageNames: readonly string[]): string {
  const spans = spansOf(items, stageNames);
  const title = `Task stream: which thread ran which stage, for the last ${items.length} items`;
  if (spans.length === 0) return figure(title, '<p class="note">No timed items yet (timing is off, or nothing came out).</p>');
  const origin = Math.min(...spans.map((s) => s.start));
  const range = Math.max(1e-6, Math.max(...spans.map((s) => s.end)) - origin);
  const threads = [...new Set(spans.map((s) => s.threadId))].sort((a, b) => a - b);
  const frame: Frame = { width: 1100, height: threads.length * ROW_HEIGHT + 40, left: 110, right: 12, top: 8, bottom: 28 };
  const inner = frame.width - frame.left - frame.right;
  const scale = inner / range;
  const bars = mergeBars(spans, threads, range / inner);
  const rows = threads.map((tid, row) => {
    const y = frame.top + row * ROW_HEIGHT;
    const label = tid === 0 ? 'main thread' : `worker ${tid}`;
    return `<text class="tick" x="${frame.left - 6}" y="${y + 12}" text-anchor="end">${label}</text>` +
      bars[row]!.map((b) => `<rect x="${px(frame.left + (b.start - origin) * scale)}" y="${y + 2}" width="${px(Math.max(0.6, (b.end - b.start) * scale))}" ` +
        `height="${ROW_HEIGHT - 4}" fill="${colourOf(b.stage)}"><title>${escapeHtml(stageNames[b.stage]!)}: ${b.items} item(s), ` +
        `${((b.end - b.start) * 1e3).toFixed(2)} ms</title></rect>`).join('');
  }).join('');
  const svg = `<svg viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img">` +
    `<title>${escapeHtml(title)}</title>${rows}${timeAxis(frame, range)}</svg>`;
  return figure(title, svg, legend(stageNames.map((name, i) => ({ name, colour: colourOf(i) }))));
}

interface Span {
  stage: number;
  threadId: number;
  start: number;
  end: number;
}

function spansOf(items: readonly PipelineItem[], stageNames: readonly string[]): Span[] {
  const index = new Map(stageNames.map((name, i) => [name, i]));
  // Fan-out copies share the timings of the stages before the fan-out: each once.
  const seen = new Set<DetailedTiming>();
  const spans: Span[] = [];
  for (const item of items) {
    for (const [stage, timing] of item.stageTimings) {
      const at = index.get(stage);
      // An item that never ran (its worker died, it timed out) has no computation to show.
      if (at === undefined || seen.has(timing) || timing.processingStartTime === 0 || timing.computationTime < 0) continue;
      seen.add(timing);
      spans.push({ stage: at, threadId: timing.threadId, start: timing.processingStartTime, end: timing.processingEndTime });
    }
  }
  return spans;
}

/** Per thread row, the spans sorted and merged where a stage's spans nearly touch; at most MAX_BARS in all. */
function mergeBars(spans: Span[], threads: readonly number[], gapSeconds: number): Bar[][] {
  const rows = threads.map((): Bar[] => []);
  spans.sort((a, b) => a.start - b.start);
  for (const span of spans) {
    const row = rows[threads.indexOf(span.threadId)]!;
    const last = row[row.length - 1];
    if (last !== undefined && last.stage === span.stage && span.start - last.end <= gapSeconds) {
      last.end = Math.max(last.end, span.end);
      last.items++;
    } else {
      row.push({ stage: span.stage, start: span.start, end: span.end, items: 1 });
    }
  }
  let total = rows.reduce((n, r) => n + r.length, 0);
  // Past the cap, drop the oldest bars: the most recent part of the window stays.
  while (total > MAX_BARS) {
    let oldest = 0;
    rows.forEach((r, i) => { if (r.length > 0 && (rows[oldest]!.length === 0 || r[0]!.start < rows[oldest]![0]!.start)) oldest = i; });
    rows[oldest]!.shift();
    total--;
  }
  return rows;
}
