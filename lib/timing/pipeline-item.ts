// lib/timing/: when things happened to an item. This folder owns the clock
// shared across threads (clock.ts), one stage's four timestamps
// (detailed-timing.ts), the envelope an item travels in (this file) and the
// bounded latency statistics (latency-stat.ts). It imports nothing of the
// package: run/, stage/ and pipeline/ build on it.

import type { ChainTimes } from './chain-times.js';
import { nowSeconds } from './clock.js';
import { DetailedTiming } from './detailed-timing.js';

/** One stage's share of an item's latency, in seconds. */
export interface StageBreakdown {
  /** Time waiting for a worker, after the previous stage let the item go. */
  queueWaitTime: number;
  /** Time in the function. */
  computationTime: number;
  /** Time crossing between threads. */
  transmissionTime: number;
  /** From entering the stage to leaving it. */
  totalStageTime: number;
}

/** An item's latency taken apart, in seconds, as the Python original's `get_timing_breakdown()`. */
export interface TimingBreakdown {
  /** Each stage the item passed, by name. */
  stages: Record<string, StageBreakdown>;
  /** Time in stage functions, summed. */
  totalComputationTime: number;
  /** The rest of the total latency: waiting and crossing. */
  totalOverheadTime: number;
  /** From entering the pipeline to leaving its last stage. */
  totalLatency: number;
  /** Share of the total latency spent computing, 0 to 1. */
  computationRatio: number;
}

// Six marks per stage passed (see PipelineItem.marks), and the pass numbers.
const STRIDE = 6;
let nextPass = 0;

/**
 * The envelope an item travels in through a timed pipeline: the data, its
 * input sequence number, and one {@link DetailedTiming} per stage passed.
 * A stage that receives a PipelineItem replaces `data` and adds its timing.
 *
 * @example
 * ```js
 * const item = new PipelineItem({ id: 1 }, 0);
 * await pipeline(Readable.from([item]), stage((x) => x.id), new Writable({ objectMode: true,
 *   write(out, _, cb) { console.log(out.data, out.getTotalLatency()); cb(); } }));
 * ```
 */
export class PipelineItem<T = unknown> {
  /** The current value: the input, then each stage's result. */
  data: T;
  /** Position of the input item this one came from, from 0. Fan-out copies share it. */
  readonly seq: number;
  /**
   * When the item entered the pipeline, seconds since the Unix epoch on the
   * package's clock (the process's start plus monotonic time), like every
   * timing of it: not `Date.now()`, which steps with the wall clock.
   */
  readonly createdAt: number;
  /** Whether stages record timing for it. */
  readonly timed: boolean;
  // The timings as numbers, six per stage passed (enter, start, end, exit,
  // threadId, and a number that tells one stage's pass from another's, shared
  // by fan-out copies), made into DetailedTimings only when read: a pipeline
  // reads them for its recent items alone, and three objects and a Map per
  // item of a fused chain of three were a fifth of its timed cost (measured).
  // An array of numbers alone holds them unboxed; with the names among them
  // (as before) every time was a heap number of its own, and a timed chain of
  // three left some 700 bytes of garbage an item instead of 160 (reckoned
  // from V8's array and heap-number sizes, not measured; the stage names are
  // apart, shared by the items of a chain until one adds to them).
  private marks: number[] | undefined;
  private names: readonly string[] | undefined;
  private namesShared = false;
  // A fused chain's timings not yet made into marks: its batch's times and
  // this item's first record in them (see ChainTimes). Set only on an item
  // with no other timings; anything that reads or adds timings makes the
  // marks first (ownMarks).
  private chain: ChainTimes | undefined;
  private chainAt = 0;
  private timingMap: Map<string, DetailedTiming> | undefined;
  /**
   * When the item last left a stage (or entered the pipeline): it has been
   * queued for the next stage since, in buffers between the two.
   */
  queuedSince: number;

  /** @internal Made by createPipeline for every input. */
  constructor(data: T, seq: number, createdAt: number = nowSeconds(), timed = true) {
    this.data = data;
    this.seq = seq;
    this.createdAt = createdAt;
    this.timed = timed;
    this.queuedSince = createdAt;
  }

  /** Per stage, in the order passed. */
  get stageTimings(): Map<string, DetailedTiming> {
    if (this.timingMap === undefined) {
      this.timingMap = new Map();
      const marks = this.ownMarks() ?? [];
      for (let i = 0; i < marks.length; i += STRIDE) {
        this.timingMap.set(this.names![i / STRIDE]!, new DetailedTiming(marks[i]!, marks[i + 1]!, marks[i + 2]!, marks[i + 3]!, marks[i + 4]));
      }
    }
    return this.timingMap;
  }

  /** @internal A stage's four moments, added as it lets the item go. */
  addTiming(stage: string, enter: number, start: number, end: number, exit: number, threadId: number, pass = nextPass++): void {
    const marks = this.ownMarks() ?? (this.marks = []);
    // A stage set again replaces its timing in place and keeps its pass, as a
    // Map key would (a fan-out's copies are given their stage's one timing).
    const found = this.names?.indexOf(stage) ?? -1;
    if (found >= 0) {
      const at = found * STRIDE;
      marks[at] = enter;
      marks[at + 1] = start;
      marks[at + 2] = end;
      marks[at + 3] = exit;
      marks[at + 4] = threadId;
    } else {
      this.ownNames().push(stage);
      marks.push(enter, start, end, exit, threadId, pass);
    }
    this.timingMap?.set(stage, new DetailedTiming(enter, start, end, exit, threadId));
  }

  /**
   * @internal A fused chain's members, passed straight through: member k
   * entered at the end of member k - 1 (the first at `enter`), ran from
   * `chain.times[2 * (first + k)]` to `chain.times[2 * (first + k) + 1]`, and
   * left when it ended (the last at `exit`). An item with no timings yet only
   * points into the batch's times; its marks are made when read.
   */
  addChainTimings(chain: ChainTimes, first: number, enter: number, exit: number): void {
    chain.moments[2 * first] = enter;
    chain.moments[2 * first + 1] = exit;
    if (this.marks === undefined && this.timingMap === undefined && this.chain === undefined) {
      this.chain = chain;
      this.chainAt = first;
      return;
    }
    const { names, times, threadId } = chain;
    for (let k = 0; k < names.length; k++) {
      const end = times[2 * (first + k) + 1]!;
      this.addTiming(names[k]!, enter, times[2 * (first + k)]!, end, k === names.length - 1 ? exit : end, threadId);
      enter = end;
    }
  }

  /** The marks, made first from a fused chain's times if the item still points into them. */
  private ownMarks(): number[] | undefined {
    const chain = this.chain;
    if (chain === undefined) return this.marks;
    this.chain = undefined;
    const { names, times, threadId } = chain;
    const first = this.chainAt;
    let enter = chain.moments[2 * first]!;
    const exit = chain.moments[2 * first + 1]!;
    // Its first push makes room for 25 numbers (V8 grows an array to 1.5
    // times plus 16), enough for four members.
    const marks: number[] = [];
    for (let k = 0; k < names.length; k++) {
      const start = times[2 * (first + k)]!;
      const end = times[2 * (first + k) + 1]!;
      marks.push(enter, start, end, k === names.length - 1 ? exit : end, threadId, nextPass++);
      enter = end;
    }
    this.marks = marks;
    this.names = names;
    this.namesShared = true;
    return marks;
  }

  /** The stage names, this item's own to add to. */
  private ownNames(): string[] {
    if (this.names === undefined || this.namesShared) {
      this.names = this.names === undefined ? [] : [...this.names];
      this.namesShared = false;
    }
    return this.names as string[];
  }

  /** @internal Each stage's timing with the number of its pass: fan-out copies share the passes before the fan-out. */
  passes(): Array<{ stage: string; timing: DetailedTiming; pass: number }> {
    const marks = this.ownMarks() ?? [];
    const timings = this.stageTimings;
    const out: Array<{ stage: string; timing: DetailedTiming; pass: number }> = [];
    for (let i = 0; i < marks.length; i += STRIDE) {
      const stage = this.names![i / STRIDE]!;
      const timing = timings.get(stage);
      if (timing !== undefined) out.push({ stage, timing, pass: marks[i + 5]! });
    }
    return out;
  }

  /**
   * @internal {@link addTiming} from a DetailedTiming; `passes`, when given,
   * makes items given the same timing object share its pass (a fused
   * chain's fan-out outputs share the members before the fan-out).
   */
  setTiming(stage: string, timing: DetailedTiming, passes?: Map<DetailedTiming, number>): void {
    let pass = passes?.get(timing);
    if (pass === undefined) {
      pass = nextPass++;
      passes?.set(timing, pass);
    }
    this.addTiming(stage, timing.queueEnterTime, timing.processingStartTime, timing.processingEndTime, timing.queueExitTime, timing.threadId, pass);
  }

  /** A copy for one more output of a fan-out: the timings so far, its own from here. */
  fork<U>(data: U): PipelineItem<U> {
    const copy = new PipelineItem(data, this.seq, this.createdAt, this.timed);
    const marks = this.ownMarks();
    if (marks !== undefined) {
      copy.marks = marks.slice();
      // Both now share the names: whichever adds a stage first copies them.
      copy.names = this.names;
      copy.namesShared = this.namesShared = true;
    }
    // Timings a user added to the map by hand go along too.
    if (this.timingMap !== undefined) for (const [name, timing] of this.timingMap) if (!copy.stageTimings.has(name)) copy.stageTimings.set(name, timing);
    copy.queuedSince = this.queuedSince;
    return copy;
  }

  /** Seconds from entering the pipeline to leaving the last stage passed (0 before any). */
  getTotalLatency(): number {
    let last = 0;
    for (const timing of this.stageTimings.values()) last = timing.queueExitTime;
    return last === 0 ? 0 : last - this.createdAt;
  }

  /** Seconds spent in each stage, by stage name. */
  getStageLatencies(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, timing] of this.stageTimings) out[name] = timing.totalStageTime;
    return out;
  }

  /** The item's latency taken apart per stage, in seconds (the original's `get_timing_breakdown()`). */
  getTimingBreakdown(): TimingBreakdown {
    const stages: Record<string, StageBreakdown> = {};
    let totalComputationTime = 0;
    for (const [name, timing] of this.stageTimings) {
      stages[name] = {
        queueWaitTime: timing.queueWaitTime,
        computationTime: timing.computationTime,
        transmissionTime: timing.transmissionTime,
        totalStageTime: timing.totalStageTime,
      };
      totalComputationTime += timing.computationTime;
    }
    const totalLatency = this.getTotalLatency();
    return {
      stages,
      totalComputationTime,
      totalOverheadTime: totalLatency - totalComputationTime,
      totalLatency,
      computationRatio: totalLatency > 0 ? totalComputationTime / totalLatency : 0,
    };
  }
}
