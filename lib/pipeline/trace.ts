// The recent items of a pipeline as a Chrome Trace Event Format trace, the
// JSON that Perfetto (ui.perfetto.dev) and chrome://tracing open. Built from
// the same bounded window of items as getReport(), only when asked: the hot
// path records nothing more than the timings it already keeps.
//
// Per item and stage:
// - one complete event ('X') named by the stage, on the thread that ran the
//   function (pid: this process, tid: the worker's threadId; 0 is the main
//   thread), from the start to the end of the computation;
// - its queue wait (entering the stage to the start of computation) and its
//   transmission (end of computation to leaving the stage: the crossing back
//   and waiting for its turn), as complete events on the stage's queue track.
// Items wait side by side, and a viewer needs the complete events of one
// track to nest, so the queue track is laid out in as many lanes (tids) as
// the most waits that overlapped.

import type { DetailedTiming } from '../timing/detailed-timing.js';
import type { PipelineItem } from '../timing/pipeline-item.js';

/** One event of a {@link ChromeTrace}: `X` (complete, `ts` and `dur` in µs) or `M` (metadata). */
export interface TraceEvent {
  /** The stage, or for a metadata event `thread_name` / `process_name`. */
  name: string;
  /** `'X'`: a complete event with a duration; `'M'`: metadata. */
  ph: 'X' | 'M';
  /** The process row: one per stage. */
  pid: number;
  /** The thread row: the worker that ran the item. */
  tid: number;
  /** Category: `computation`, `queueWait` or `transmission`. */
  cat?: string;
  /** Microseconds from `otherData.startTimeEpochMs`. */
  ts?: number;
  /** Microseconds. */
  dur?: number;
  /** Details shown when the event is selected. */
  args?: Record<string, unknown>;
}

/** What `getTrace()` returns: Chrome Trace Event Format, JSON object form. */
export interface ChromeTrace {
  /** The events, in Chrome Trace Event Format. */
  traceEvents: TraceEvent[];
  /** How a viewer shows times. */
  displayTimeUnit: 'ms';
  /** What the trace covers. */
  otherData: {
    /** Where `ts` 0 is: milliseconds since the Unix epoch. */
    startTimeEpochMs: number;
    /** Items in the window the trace shows (the pipeline's `reportItems` most recent). */
    items: number;
  };
}

/** Lane tids of stage `i` are QUEUE_TIDS + i * LANES_PER_STAGE + lane: far above real thread ids. */
const QUEUE_TIDS = 1_000_000;
const LANES_PER_STAGE = 10_000;

interface Wait {
  start: number;
  end: number;
  kind: 'queueWait' | 'transmission';
  seq: number;
}

/** Builds the trace of `items` (oldest first); `stageNames` gives the stages' order. */
export function buildTrace(items: readonly PipelineItem[], stageNames: readonly string[]): ChromeTrace {
  const pid = process.pid;
  const origin = items.reduce((min, item) => Math.min(min, item.createdAt), Infinity);
  const us = (seconds: number): number => (seconds - origin) * 1e6;
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: 'async-task-pipeline' } }];
  const waits = new Map<string, Wait[]>(stageNames.map((name) => [name, []]));
  const threads = new Map<number, Set<string>>();
  // Fan-out copies share the passes of the stages before the fan-out: each once.
  const seen = new Set<number>();
  for (const item of items) {
    for (const { stage, timing, pass } of item.passes()) {
      if (seen.has(pass)) continue;
      seen.add(pass);
      addTiming(stage, timing, item.seq);
    }
  }
  events.push(...threadNames(pid, threads, stageNames));
  stageNames.forEach((stage, i) => events.push(...queueEvents(pid, stage, i, waits.get(stage) ?? [], us)));
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { startTimeEpochMs: items.length === 0 ? 0 : origin * 1000, items: items.length },
  };

  function addTiming(stage: string, timing: DetailedTiming, seq: number): void {
    const { queueEnterTime: enter, processingStartTime: start, processingEndTime: end, queueExitTime: exit } = timing;
    const stageWaits = waits.get(stage) ?? [];
    waits.set(stage, stageWaits);
    // An item that never ran (its batch timed out, its worker died) has no
    // computation: its whole time in the stage was waiting.
    if (start === 0) {
      stageWaits.push({ start: enter, end: exit, kind: 'queueWait', seq });
      return;
    }
    const ran = threads.get(timing.threadId) ?? new Set<string>();
    threads.set(timing.threadId, ran.add(stage));
    events.push({ name: stage, cat: 'computation', ph: 'X', ts: us(start), dur: micros(end - start), pid, tid: timing.threadId, args: { seq } });
    stageWaits.push({ start: enter, end: start, kind: 'queueWait', seq }, { start: end, end: exit, kind: 'transmission', seq });
  }
}

function micros(seconds: number): number {
  // Clocks of two threads can disagree by a hair: never a negative duration.
  return Math.max(0, seconds * 1e6);
}

/** Names each thread that ran a function, and sorts it below the queue of the first stage it ran. */
function threadNames(pid: number, threads: Map<number, Set<string>>, stageNames: readonly string[]): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const [tid, stages] of threads) {
    const ran = [...stages].join(', ');
    const name = tid === 0 ? `main thread (${ran})` : `worker ${tid} (${ran})`;
    const first = Math.min(...[...stages].map((s) => stageNames.indexOf(s)));
    events.push(
      { name: 'thread_name', ph: 'M', pid, tid, args: { name } },
      { name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: first * LANES_PER_STAGE * 2 + LANES_PER_STAGE + tid } },
    );
  }
  return events;
}

/** The waits of one stage, laid out in lanes so that the events of a lane never overlap. */
function queueEvents(pid: number, stage: string, index: number, waits: Wait[], us: (seconds: number) => number): TraceEvent[] {
  const events: TraceEvent[] = [];
  const laneEnds: number[] = [];
  waits.sort((a, b) => a.start - b.start);
  for (const wait of waits) {
    let lane = laneEnds.findIndex((end) => end <= wait.start);
    if (lane === -1) lane = laneEnds.push(0) - 1;
    laneEnds[lane] = Math.max(wait.start, wait.end);
    const name = wait.kind === 'queueWait' ? `${stage} queue wait` : `${stage} transmission`;
    events.push({
      name, cat: wait.kind, ph: 'X', ts: us(wait.start), dur: micros(wait.end - wait.start),
      pid, tid: QUEUE_TIDS + index * LANES_PER_STAGE + lane, args: { seq: wait.seq },
    });
  }
  for (let lane = 0; lane < laneEnds.length; lane++) {
    const tid = QUEUE_TIDS + index * LANES_PER_STAGE + lane;
    events.push(
      { name: 'thread_name', ph: 'M', pid, tid, args: { name: lane === 0 ? `${stage} queue` : `${stage} queue ${lane + 1}` } },
      { name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: index * LANES_PER_STAGE * 2 + lane } },
    );
  }
  return events;
}
