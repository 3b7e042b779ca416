// What a running pipeline looks like over time, read by a timer rather than
// counted per item: the hot path does nothing more for it (issue 18). A few
// times a second it reads, for every link (a stage, or a fused chain), how
// many items it holds, whether its writer is waiting on it (a write whose
// callback it withholds) and whether its reader has nothing to do; and for
// every stage, how many items it has emitted. From those:
// - shares of samples (how often a writer or reader waited, how often the
//   sink was behind or the source gave nothing), which name the bottleneck;
// - a time series of at most MAX_BUCKETS buckets for the run report: when
//   the run outgrows them, neighbours merge and the bucket doubles, so the
//   memory and the report stay the same size however long the run.
// A sample costs a few property reads per link (0.1 us for three stages,
// measured; at most SAMPLES_PER_BUCKET / 0.05 s = 100 a second, fewer as
// buckets widen); the timer is unref'd and stops when the pipeline ends.

import { nowSeconds } from '../timing/clock.js';

/** What the sampler reads of a link (a Stage: its Writable and Readable sides, its counts). */
export interface SampledLink {
  readonly writableLength: number;
  readonly readableLength: number;
  readonly stats: { readonly itemsHeld: number };
}

/** What it reads of a stage: its output count. */
export interface SampledStage {
  readonly stats: { readonly emitted: number };
}

/** What it reads of the pipeline's own two ends. */
export interface SampledEnds {
  readonly writableLength: number;
  readonly writableEnded: boolean;
  readonly readableLength: number;
}

/** How often things waited, as shares of the samples taken (0 to 1). */
export interface WaitShares {
  /** Samples taken. */
  samples: number;
  /** Per link: its writer was waiting for it to take an item. */
  writerWaited: number[];
  /** Per link: the one after it (or the pipeline's reader) had nothing to do. */
  readerWaited: number[];
  /** The pipeline's output held items its reader had not taken. */
  sinkBehind: number;
  /** While input was still coming: the first link had nothing to do. */
  sourceIdle: number;
}

/** One bucket of the time series. */
export interface SampleBucket {
  /** Seconds from the run's start to the bucket's start. */
  fromSeconds: number;
  /** Per stage: items emitted per second during the bucket. */
  itemsPerSecond: number[];
  /** Per link: mean items held during the bucket (NaN when no sample fell in it). */
  itemsHeld: number[];
}

/** The series: fixed-width buckets from the first write on. */
export interface SampleSeries {
  /** When the first item was written, seconds since the epoch on the package's clock. */
  startedAt: number;
  /** Width of one bucket, seconds. */
  bucketSeconds: number;
  buckets: SampleBucket[];
}

/** At most this many buckets: the report's charts have this many points at most. */
export const MAX_BUCKETS = 120;
const FIRST_BUCKET_SECONDS = 0.05;
/** Samples per bucket: enough for a mean, few enough to cost nothing. */
const SAMPLES_PER_BUCKET = 5;

export class RunSampler {
  /** First write, seconds (0: not started). */
  startedAt = 0;
  /** Last output, seconds (0: still running). */
  endedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private bucketSeconds = FIRST_BUCKET_SECONDS;
  private samples = 0;
  private sourceSamples = 0;
  private readonly writerWaits: number[];
  private readonly readerWaits: number[];
  private sinkBehind = 0;
  private sourceIdle = 0;
  /** Per bucket, per stage: the emitted count at the bucket's last sample. */
  private emitted: Array<number[] | undefined> = [];
  /** Per bucket, per link: items held, summed over its samples. */
  private held: Array<number[] | undefined> = [];
  private heldSamples: number[] = [];
  private readonly tick = (): void => this.sample();

  constructor(
    private readonly links: readonly SampledLink[],
    private readonly stages: readonly SampledStage[],
    private readonly ends: SampledEnds,
  ) {
    this.writerWaits = links.map(() => 0);
    this.readerWaits = links.map(() => 0);
  }

  /** The first item is written: the run and the timer start. */
  start(): void {
    if (this.startedAt !== 0) return;
    this.startedAt = nowSeconds();
    this.schedule();
  }

  /** The run is over (the output ended or the pipeline was destroyed): a last sample, and no more. */
  stop(): void {
    if (this.startedAt === 0 || this.endedAt !== 0) return;
    this.sample();
    this.endedAt = nowSeconds();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Seconds from the first write to the end (or to now, while running); 0 before any write. */
  elapsedSeconds(): number {
    if (this.startedAt === 0) return 0;
    return (this.endedAt === 0 ? nowSeconds() : this.endedAt) - this.startedAt;
  }

  shares(): WaitShares {
    const n = this.samples;
    const share = (count: number, of = n): number => (of === 0 ? 0 : count / of);
    return {
      samples: n,
      writerWaited: this.writerWaits.map((c) => share(c)),
      readerWaited: this.readerWaits.map((c) => share(c)),
      sinkBehind: share(this.sinkBehind),
      sourceIdle: share(this.sourceIdle, this.sourceSamples),
    };
  }

  series(): SampleSeries {
    const width = this.bucketSeconds;
    const buckets: SampleBucket[] = [];
    let before = this.stages.map(() => 0);
    for (let b = 0; b < this.emitted.length; b++) {
      // A bucket the timer missed (a busy main thread) carries the count on.
      const now = this.emitted[b] ?? before;
      const held = this.held[b];
      const samples = this.heldSamples[b] ?? 0;
      buckets.push({
        fromSeconds: b * width,
        itemsPerSecond: now.map((count, s) => (count - before[s]!) / width),
        itemsHeld: this.links.map((_, l) => (held === undefined || samples === 0 ? Number.NaN : held[l]! / samples)),
      });
      before = now;
    }
    return { startedAt: this.startedAt, bucketSeconds: width, buckets };
  }

  private schedule(): void {
    clearInterval(this.timer);
    // unref: the sampler must never keep the process alive by itself.
    this.timer = setInterval(this.tick, (this.bucketSeconds * 1000) / SAMPLES_PER_BUCKET).unref();
  }

  private sample(): void {
    const { links, ends } = this;
    this.samples++;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      if (link.writableLength > 0) this.writerWaits[i]!++;
      const next = links[i + 1];
      const idle = next === undefined ? ends.readableLength === 0 : next.writableLength === 0 && next.stats.itemsHeld === 0;
      if (link.readableLength === 0 && idle) this.readerWaits[i]!++;
    }
    if (ends.readableLength > 0) this.sinkBehind++;
    if (!ends.writableEnded) {
      this.sourceSamples++;
      const head = links[0]!;
      if (ends.writableLength === 0 && head.writableLength === 0 && head.stats.itemsHeld === 0) this.sourceIdle++;
    }
    this.record(nowSeconds() - this.startedAt);
  }

  private record(at: number): void {
    let b = Math.floor(at / this.bucketSeconds);
    while (b >= MAX_BUCKETS) {
      this.merge();
      b = Math.floor(at / this.bucketSeconds);
    }
    this.emitted[b] = this.stages.map((s) => s.stats.emitted);
    const held = (this.held[b] ??= this.links.map(() => 0));
    for (let i = 0; i < this.links.length; i++) held[i]! += this.links[i]!.stats.itemsHeld;
    this.heldSamples[b] = (this.heldSamples[b] ?? 0) + 1;
  }

  /** Halves the buckets: each pair becomes one of twice the width; the timer slows to match. */
  private merge(): void {
    const emitted: Array<number[] | undefined> = [];
    const held: Array<number[] | undefined> = [];
    const heldSamples: number[] = [];
    for (let b = 0; b < this.emitted.length; b += 2) {
      emitted.push(this.emitted[b + 1] ?? this.emitted[b]);
      const x = this.held[b];
      const y = this.held[b + 1];
      held.push(x === undefined ? y : y === undefined ? x : x.map((v, i) => v + y[i]!));
      heldSamples.push((this.heldSamples[b] ?? 0) + (this.heldSamples[b + 1] ?? 0));
    }
    this.emitted = emitted;
    this.held = held;
    this.heldSamples = heldSamples;
    this.bucketSeconds *= 2;
    if (this.timer !== undefined) this.schedule();
  }
}
