// OpenTelemetry metrics of the stages, through `@opentelemetry/api` only.
// The only file that reaches the API. It is an optional peer dependency:
// imported lazily, once per process, when a stage starts; without it, or
// with it but no SDK registered, a stage records nothing and pays one
// `undefined` test per timed item and per settled batch.
//
// Turned on by registering a MeterProvider before the stages start, as with
// any instrumented library: the API then hands out the SDK's meter instead of
// its no-op one (tested by identity with createNoopMeter()).
//
// Instruments (meter `async-task-pipeline`):
// - `atp.stage.duration`, histogram, seconds, attribute `atp.stage`: each
//   timed item's time in the stage (its DetailedTiming.totalStageTime);
// - `atp.stage.items`, counter, attributes `atp.stage` and `atp.outcome`
//   (emitted, filtered, failed, skipped): the stage's counts, added as
//   differences at most every PUBLISH_MS and when the stage ends, rather than
//   per item or per batch: an SDK's counter.add() costs microseconds (about
//   9 µs measured here with sdk-metrics 3.1), more than a light item's work.

import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { StageCounts, StageStats, StatsSink } from './stage-stats.js';

export const METER_NAME = 'async-task-pipeline';
const OUTCOMES = ['emitted', 'filtered', 'failed', 'skipped'] as const;
const PUBLISH_MS = 100;
type Outcome = (typeof OUTCOMES)[number];

type Api = typeof import('@opentelemetry/api');

let loading: Promise<Api | undefined> | undefined;

/** The API module, or undefined when it is not installed; imported once. */
function loadApi(): Promise<Api | undefined> {
  loading ??= import('@opentelemetry/api').then((api) => api, () => undefined);
  return loading;
}

/** Instruments are made once per meter and shared by its stages. */
const instruments = new WeakMap<Meter, { duration: Histogram; items: Counter }>();

/** What the stage records into: one per stage (one per member of a fused chain). */
export class StageMetrics implements StatsSink {
  private readonly duration: Histogram;
  private readonly items: Counter;
  private readonly stage: Attributes;
  private readonly outcomes: Record<Outcome, Attributes>;
  /** The counts last added to the counter. */
  private readonly added: Record<Outcome, number> = { emitted: 0, filtered: 0, failed: 0, skipped: 0 };
  private counts: StageCounts | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(meter: Meter, name: string) {
    let made = instruments.get(meter);
    if (made === undefined) {
      made = {
        duration: meter.createHistogram('atp.stage.duration', { unit: 's', description: 'Time an item spent in a stage: queue wait, transmission and computation' }),
        items: meter.createCounter('atp.stage.items', { description: 'Items a stage received, by what became of them' }),
      };
      instruments.set(meter, made);
    }
    this.duration = made.duration;
    this.items = made.items;
    // Attribute objects made once: the SDK reads them on every call.
    this.stage = { 'atp.stage': name };
    this.outcomes = {
      emitted: { 'atp.stage': name, 'atp.outcome': 'emitted' },
      filtered: { 'atp.stage': name, 'atp.outcome': 'filtered' },
      failed: { 'atp.stage': name, 'atp.outcome': 'failed' },
      skipped: { 'atp.stage': name, 'atp.outcome': 'skipped' },
    };
  }

  /** One timed item's seconds in the stage. */
  recordDuration(seconds: number): void {
    this.duration.record(seconds, this.stage);
  }

  /** The counts changed: they are added within PUBLISH_MS, so a burst of batches costs one add per outcome. */
  countsChanged(counts: StageCounts): void {
    this.counts = counts;
    // unref: a pending add must not keep the process alive; the stage's end flushes.
    this.timer ??= setTimeout(this.flushNow, PUBLISH_MS).unref();
  }

  /** Adds what the counts gained since the last add, now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const counts = this.counts;
    if (counts === undefined) return;
    for (const outcome of OUTCOMES) {
      const gained = counts[outcome] - this.added[outcome];
      if (gained > 0) {
        this.items.add(gained, this.outcomes[outcome]);
        this.added[outcome] = counts[outcome];
      }
    }
  }
}

/**
 * Gives each stage (each member of a fused chain) its metrics when an SDK is
 * registered. Never rejects: metrics must not stop a stage from starting.
 */
export async function attachMetrics(stages: ReadonlyArray<{ readonly name: string; readonly stats: StageStats }>): Promise<void> {
  const meter = await sdkMeter().catch(() => undefined);
  if (meter === undefined) return;
  for (const { name, stats } of stages) stats.sink ??= new StageMetrics(meter, name);
}

/**
 * The meter to record into: undefined when `@opentelemetry/api` cannot be
 * imported or no SDK has registered a MeterProvider (the API's no-op meter).
 */
export async function sdkMeter(): Promise<Meter | undefined> {
  const api = await loadApi();
  if (api === undefined) return undefined;
  const meter = api.metrics.getMeter(METER_NAME);
  return meter === api.createNoopMeter() ? undefined : meter;
}
