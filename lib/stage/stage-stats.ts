import { inspect } from 'node:util';
import type { InspectOptions } from 'node:util';
import { LatencyStat } from '../timing/latency-stat.js';
import type { DetailedTiming } from '../timing/detailed-timing.js';

/** How many items a stage has seen and what became of them. */
export interface StageCounts {
  /** Items the stage accepted. */
  received: number;
  /** Items it passed downstream (each fan-out output counts). */
  emitted: number;
  /** Items dropped because the function returned null or undefined (or yielded nothing). */
  filtered: number;
  /** Items whose error went to the `onError` policy ('fail', 'emit' or a handler). */
  failed: number;
  /** Items dropped by `onError: 'skip'`. */
  skipped: number;
  /** Items run again after their worker died. */
  retried: number;
  /** Outputs beyond the first of each fan-out: `emitted - fanOut` items came from single inputs. */
  fanOut: number;
}

/** @internal Where a stage's figures also go when OpenTelemetry metrics are on (see stage-metrics.ts). */
export interface StatsSink {
  recordDuration(seconds: number): void;
  countsChanged(counts: StageCounts): void;
  flush(): void;
}

/** A stage's latency figures, in seconds; all 0 before any timed item. */
export interface StageLatencyJSON {
  /** Timed items measured. */
  count: number;
  /** Shortest. */
  min: number;
  /** Mean. */
  mean: number;
  /** Median. */
  p50: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** Longest. */
  max: number;
}

/** {@link StageStats} as plain data: what `JSON.stringify` and `console.log` show. */
export interface StageStatsJSON extends StageCounts {
  /** Items inside the stage now. */
  itemsHeld: number;
  /** The most items held at once. */
  maxItemsHeld: number;
  /** Time from entering the stage's queue to leaving the stage, per timed item (a timed pipeline's items only). */
  latencySeconds: StageLatencyJSON;
  /** Time spent in the function, summed over the timed items. */
  computationSeconds: number;
  /** Time spent waiting for a worker, summed over the timed items. */
  queueWaitSeconds: number;
  /** Time spent crossing between threads, summed over the timed items. */
  transmissionSeconds: number;
}

/**
 * Live figures of one stage. Always: the counts and how many items it holds.
 * For items in a timed pipeline: where their time went, in bounded memory.
 */
export class StageStats implements StageCounts {
  received = 0;
  emitted = 0;
  filtered = 0;
  failed = 0;
  skipped = 0;
  retried = 0;
  fanOut = 0;
  /** Items taken in and not yet passed on or dropped. */
  itemsHeld = 0;
  /** The most items ever held at once: never above the stage's highWaterMark. */
  maxItemsHeld = 0;
  /** @internal Latencies of timed items, in seconds; read them through toJSON(). */
  readonly latency = new LatencyStat();
  /** Seconds spent in the function, summed over the timed items. */
  computationTime = 0;
  /** Seconds spent waiting for a worker, summed over the timed items. */
  queueWaitTime = 0;
  /** Seconds spent crossing between threads, summed over the timed items. */
  transmissionTime = 0;
  /** @internal Set when a stage starts with an OpenTelemetry SDK registered; else nothing is recorded. */
  sink: StatsSink | undefined = undefined;

  /** @internal Adds one timed item's figures. */
  record(timing: DetailedTiming): void {
    this.recordTimes(timing.queueEnterTime, timing.processingStartTime, timing.processingEndTime, timing.queueExitTime);
  }

  /** @internal The same from the four moments (enter, start, end, exit): no DetailedTiming needed. */
  recordTimes(enter: number, start: number, end: number, exit: number): void {
    this.latency.record(exit - enter);
    this.computationTime += end - start;
    this.queueWaitTime += start - enter;
    this.transmissionTime += exit - end;
    this.sink?.recordDuration(exit - enter);
  }

  /** @internal Tells the sink, if any, that the counts changed: once per settled batch, not per item. */
  publish(): void {
    this.sink?.countsChanged(this);
  }

  /** @internal Has the sink, if any, take the counts now: the stage ended. */
  flushSink(): void {
    this.sink?.flush();
  }

  /** The counts alone, as a plain object. */
  counts(): StageCounts {
    const { received, emitted, filtered, failed, skipped, retried, fanOut } = this;
    return { received, emitted, filtered, failed, skipped, retried, fanOut };
  }

  /**
   * The figures as plain data, with units in the names and no internals: the
   * latency statistic's running minimum starts at Infinity and its histogram
   * is bucket arrays, neither of which means anything to a reader.
   */
  toJSON(): StageStatsJSON {
    const l = this.latency;
    // The histogram's buckets are coarser than the exact minimum and maximum:
    // a percentile is kept between them so that the figures read in order.
    const at = (p: number): number => Math.min(l.max, Math.max(l.minimum, l.percentile(p)));
    return {
      ...this.counts(),
      itemsHeld: this.itemsHeld,
      maxItemsHeld: this.maxItemsHeld,
      latencySeconds: {
        count: l.count,
        min: l.minimum,
        mean: l.mean,
        p50: at(50),
        p95: at(95),
        p99: at(99),
        max: l.max,
      },
      computationSeconds: this.computationTime,
      queueWaitSeconds: this.queueWaitTime,
      transmissionSeconds: this.transmissionTime,
    };
  }

  /** What `console.log(stage.stats)` and `util.inspect` show: the class name and {@link toJSON}. */
  [inspect.custom](depth: number, options: InspectOptions): string {
    if (depth < 0) return '[StageStats]';
    return `StageStats ${inspect(this.toJSON(), { ...options, depth: options.depth == null ? null : options.depth - 1 })}`;
  }
}
