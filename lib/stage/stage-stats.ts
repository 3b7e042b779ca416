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
  readonly latency = new LatencyStat();
  computationTime = 0;
  queueWaitTime = 0;
  transmissionTime = 0;
  /** @internal Set when a stage starts with an OpenTelemetry SDK registered; else nothing is recorded. */
  sink: StatsSink | undefined = undefined;

  record(timing: DetailedTiming): void {
    this.latency.record(timing.totalStageTime);
    this.computationTime += timing.computationTime;
    this.queueWaitTime += timing.queueWaitTime;
    this.transmissionTime += timing.transmissionTime;
    this.sink?.recordDuration(timing.totalStageTime);
  }

  /** @internal Tells the sink, if any, that the counts changed: once per settled batch, not per item. */
  publish(): void {
    this.sink?.countsChanged(this);
  }

  /** @internal Has the sink, if any, take the counts now: the stage ended. */
  flushSink(): void {
    this.sink?.flush();
  }

  counts(): StageCounts {
    const { received, emitted, filtered, failed, skipped, retried, fanOut } = this;
    return { received, emitted, filtered, failed, skipped, retried, fanOut };
  }
}
