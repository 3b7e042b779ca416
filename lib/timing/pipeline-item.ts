// lib/timing/: when things happened to an item. This folder owns the clock
// shared across threads (clock.ts), one stage's four timestamps
// (detailed-timing.ts), the envelope an item travels in (this file) and the
// bounded latency statistics (latency-stat.ts). It imports nothing of the
// package: run/, stage/ and pipeline/ build on it.

import { nowSeconds } from './clock.js';
import type { DetailedTiming } from './detailed-timing.js';

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
  /** Per stage, in the order passed. */
  readonly stageTimings: Map<string, DetailedTiming>;
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
    this.stageTimings = new Map();
    this.queuedSince = createdAt;
  }

  /** A copy for one more output of a fan-out: the timings so far, its own from here. */
  fork<U>(data: U): PipelineItem<U> {
    const copy = new PipelineItem(data, this.seq, this.createdAt, this.timed);
    for (const [name, timing] of this.stageTimings) copy.stageTimings.set(name, timing);
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
