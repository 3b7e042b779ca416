// The latency summary and report, in the Python original's shape (camelCase,
// seconds), built from bounded statistics rather than kept items.

import type { LatencyStat } from '../timing/latency-stat.js';
import type { PipelineItem, TimingBreakdown } from '../timing/pipeline-item.js';
import type { StageCounts, StageStats } from '../stage/stage-stats.js';
import { busyShareOf, findBottleneck } from './bottleneck.js';
import type { Bottleneck, LinkFigures, RunFigures, ThroughputSummary } from './bottleneck.js';

/** Where one stage's time went, averaged over its timed items, in seconds. */
export interface StageTimingBreakdown {
  /** Mean time in the function. */
  avgComputationTime: number;
  /** Mean time waiting for a worker. */
  avgQueueWaitTime: number;
  /** Mean time crossing between threads and between stages. */
  avgTransmissionTime: number;
  /** Share of the stage's latency spent computing, 0 to 1. */
  computationRatio: number;
}

/** One stage's figures; latencies in seconds. */
export interface StageStatistics extends StageCounts {
  /** Mean of the stage's latency: from entering its queue to leaving it. */
  avgLatency: number;
  /** Shortest stage latency. */
  minLatency: number;
  /** Longest stage latency. */
  maxLatency: number;
  /** Median stage latency. */
  p50Latency: number;
  /** 99th percentile of the stage latency. */
  p99Latency: number;
  /** Timed items the stage processed. */
  processedCount: number;
  /** The stages it ran fused with (its own name included), or null when it ran alone. */
  fusedWith: string[] | null;
  /** Mean computation time per item, seconds. */
  avgProcessingTime: number;
  /** Where the stage latency went, on average. */
  timingBreakdown: StageTimingBreakdown;
  /** Share of the run the threads it may use spent in its function, 0 to 1 (needs timing). */
  busyShare: number;
  /** Share of the run its writer waited for it to take an item, 0 to 1 (a fused stage: its chain's). */
  writerWaitShare: number;
  /** Share of the run its reader had nothing to do, 0 to 1 (a fused stage: its chain's). */
  readerWaitShare: number;
}

/** `getLatencySummary()`: the original's keys in camelCase plus percentiles and counts; seconds. */
export interface LatencySummary {
  /** Items that came out of the pipeline. */
  totalItems: number;
  /** Mean time from entering the pipeline to leaving it. */
  avgTotalLatency: number;
  /** Shortest total latency. */
  minTotalLatency: number;
  /** Longest total latency. */
  maxTotalLatency: number;
  /** Median total latency. */
  p50TotalLatency: number;
  /** 95th percentile of the total latency. */
  p95TotalLatency: number;
  /** 99th percentile of the total latency. */
  p99TotalLatency: number;
  /** Each stage's figures, by stage name. */
  stageStatistics: Record<string, StageStatistics>;
  /** How much of the total latency was computation. */
  overallEfficiency: {
    /** Share of the items' total latency spent computing, 0 to 1. */
    computationEfficiency: number;
    /** 1 - computationEfficiency. */
    overheadRatio: number;
  };
  /** Items written in, and the sums of every stage's filtered, failed, skipped and retried. */
  counts: {
    /** Items written into the pipeline. */
    received: number;
    /** Items that came out. */
    emitted: number;
    /** Items dropped by a function returning null or undefined. */
    filtered: number;
    /** Items whose error went to an `onError` policy. */
    failed: number;
    /** Items dropped by `onError: 'skip'`. */
    skipped: number;
    /** Items run again after their worker died. */
    retried: number;
  };
  /**
   * The stage that limits throughput, how sure, and one sentence of advice
   * (see README, "Where the time went"); null when nothing does: then
   * `throughput.limitedBy` says whether the source or the sink was slower.
   */
  bottleneck: Bottleneck | null;
  /** The run's items per second, what limits it, and the advice. */
  throughput: ThroughputSummary;
}

/** One item of {@link PipelineReport.recentItems}. */
export interface RecentItem extends TimingBreakdown {
  /** The item's input position. */
  seq: number;
}

/** `getReport()`: the summary, and the breakdowns of the most recent items (a bounded window). */
export interface PipelineReport {
  /** As `getLatencySummary()` returns it. */
  summary: LatencySummary;
  /** Stages that ran fused into one worker call, as groups of names. */
  fusedGroups: string[][];
  /** The most recent items (`reportItems` of them), each by input position with its breakdown. */
  recentItems: Array<RecentItem>;
}

export function buildSummary(
  received: number,
  emitted: number,
  total: LatencyStat,
  stages: ReadonlyArray<{ name: string; stats: StageStats }>,
  fusedGroups: readonly string[][] = [],
  flow?: { links: LinkFigures[]; run: RunFigures } | 'untimed',
): LatencySummary {
  const stageStatistics: Record<string, StageStatistics> = {};
  const counts = { received, emitted, filtered: 0, failed: 0, skipped: 0, retried: 0 };
  let computation = 0;
  const flowOf = flowByStage(flow === 'untimed' ? undefined : flow);
  for (const { name, stats } of stages) {
    const group = fusedGroups.find((g) => g.includes(name));
    stageStatistics[name] = { ...stageStatisticsOf(stats), fusedWith: group === undefined ? null : [...group], ...flowOf(name) };
    computation += stats.computationTime;
    counts.filtered += stats.filtered;
    counts.failed += stats.failed;
    counts.skipped += stats.skipped;
    counts.retried += stats.retried;
  }
  const efficiency = total.sum > 0 ? Math.min(1, computation / total.sum) : 0;
  return {
    totalItems: emitted,
    avgTotalLatency: total.mean,
    minTotalLatency: total.minimum,
    maxTotalLatency: total.max,
    p50TotalLatency: total.percentile(50),
    p95TotalLatency: total.percentile(95),
    p99TotalLatency: total.percentile(99),
    stageStatistics,
    overallEfficiency: { computationEfficiency: efficiency, overheadRatio: total.sum > 0 ? 1 - efficiency : 0 },
    counts,
    ...(flow === undefined || flow === 'untimed' ? noVerdict(flow === undefined ? 'Nothing has run yet.' : UNTIMED) : findBottleneck(flow.links, flow.run)),
  };
}

const UNTIMED = 'Timing is off (timing: false, or no enableTiming): there are no figures to name a bottleneck by.';

/** A fresh verdict of nothing (each summary is the caller's to keep or change). */
function noVerdict(advice: string): { bottleneck: null; throughput: ThroughputSummary } {
  return { bottleneck: null, throughput: { limitedBy: 'unknown', itemsPerSecond: 0, elapsedSeconds: 0, sinkWaitShare: 0, sourceIdleShare: 0, advice } };
}

type FlowFields = Pick<StageStatistics, 'busyShare' | 'writerWaitShare' | 'readerWaitShare'>;

/** Each stage's busy share (of its link's threads) and its link's wait shares. */
function flowByStage(flow: { links: LinkFigures[]; run: RunFigures } | undefined): (name: string) => FlowFields {
  const byName = new Map<string, FlowFields>();
  if (flow !== undefined) {
    for (const link of flow.links) {
      link.names.forEach((name, m) => {
        const busyShare = busyShareOf({ ...link, computationSeconds: [link.computationSeconds[m]!] }, flow.run.elapsedSeconds);
        byName.set(name, { busyShare, writerWaitShare: link.writerWaited, readerWaitShare: link.readerWaited });
      });
    }
  }
  return (name) => byName.get(name) ?? { busyShare: 0, writerWaitShare: 0, readerWaitShare: 0 };
}

function stageStatisticsOf(stats: StageStats): Omit<StageStatistics, 'fusedWith' | keyof FlowFields> {
  const { latency } = stats;
  const n = latency.count;
  const avg = (sum: number): number => (n === 0 ? 0 : sum / n);
  return {
    ...stats.counts(),
    avgLatency: latency.mean,
    minLatency: latency.minimum,
    maxLatency: latency.max,
    p50Latency: latency.percentile(50),
    p99Latency: latency.percentile(99),
    processedCount: n,
    avgProcessingTime: avg(stats.computationTime),
    timingBreakdown: {
      avgComputationTime: avg(stats.computationTime),
      avgQueueWaitTime: avg(stats.queueWaitTime),
      avgTransmissionTime: avg(stats.transmissionTime),
      computationRatio: latency.sum > 0 ? stats.computationTime / latency.sum : 0,
    },
  };
}

/**
 * The last `size` items out of a pipeline, overwriting the oldest; broken
 * down only when a report asks, so the hot path only stores a reference.
 * The pipeline clears an item's data before adding it: only timings are read.
 */
export class RecentItems {
  private readonly ring: PipelineItem[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  add(item: PipelineItem): void {
    if (this.size === 0) return;
    if (this.ring.length < this.size) this.ring.push(item);
    else this.ring[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  /** The items kept, oldest first. */
  items(): PipelineItem[] {
    return this.ring.length < this.size ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  breakdowns(): Array<{ seq: number } & TimingBreakdown> {
    return this.items().map((item) => ({ seq: item.seq, ...item.getTimingBreakdown() }));
  }
}
