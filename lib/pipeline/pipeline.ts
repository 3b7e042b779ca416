// lib/pipeline/: stages composed. This folder owns createPipeline's Duplex
// (this file), fusion of neighbouring stages into one worker call (fusion.ts),
// the Python-shaped AsyncTaskPipeline and its bounded output buffer, and the
// latency summary and report, which read every stage's counters. It may
// import stage/, timing/ and the top-level files; nothing below imports it.

import { Duplex, addAbortSignal } from 'node:stream';
import type { Readable } from 'node:stream';
import { checkAbortSignal, checkBoolean, checkInteger, checkKnownKeys, checkObject } from '../checks.js';
import { nowSeconds } from '../timing/clock.js';
import { LatencyStat } from '../timing/latency-stat.js';
import { PipelineItem } from '../timing/pipeline-item.js';
import { Stage } from '../stage/stage.js';
import { fusionGroups, linkOf } from './fusion.js';
import type { CheckedStages, PipelineInput, PipelineOutput } from './pipeline-types.js';
import { RecentItems, buildSummary } from './summary.js';
import type { LatencySummary, PipelineReport } from './summary.js';
import { buildTrace } from './trace.js';
import type { ChromeTrace } from './trace.js';
import { linkFigures, runFigures } from './flow.js';
import { RunSampler } from './run-sampler.js';
import { buildHtmlReport } from './report/html-report.js';
import type { HtmlReportOptions } from './report/html-report.js';

/** Options of {@link createPipeline}. */
export interface PipelineOptions {
  /** Record per-item timing for the summary and report. @default true */
  timing?: boolean;
  /** Queue bound of the pipeline's own two ends, in items. @default 64 */
  highWaterMark?: number;
  /** Aborting it destroys the pipeline (and every stage) with an AbortError. */
  signal?: AbortSignal;
  /** How many of the most recent items `getReport()` breaks down and `getTrace()` shows. @default 100 */
  reportItems?: number;
  /**
   * Run adjacent worker stages with the same concurrency, ordering and limits
   * as one chain in one worker call (see fusion.ts). Counts, timing, filtering,
   * fan-out and error policies stay per stage. @default true
   */
  fuse?: boolean;
}

const KNOWN = ['timing', 'highWaterMark', 'signal', 'reportItems', 'fuse'] as const;

// Declaration merging, as for Stage (see stage/stage.ts): the methods that
// carry items are typed with the pipeline's item types; the `never`
// overloads and the call signature keep it usable in stream.pipeline().
export interface Pipeline<In = unknown, Out = unknown> {
  /**
   * @internal Not callable: a type-only signature that lets stream.pipeline()
   * take this pipeline between a source and an async function or generator, with
   * the function's source typed as the output items (see above).
   */
  (source: AsyncIterable<any>): AsyncIterable<Out>;
  /** Writes one item; `false` asks the writer to wait for `'drain'` (Node's `Writable.write`). */
  write(chunk: In, callback?: (error: Error | null | undefined) => void): boolean;
  /** Writes one item; the encoding is ignored in object mode. */
  write(chunk: In, encoding: BufferEncoding, callback?: (error: Error | null | undefined) => void): boolean;
  /** @internal For assignability to NodeJS.WritableStream only. */
  write(chunk: never, encoding?: never, callback?: never): boolean;
  /** Ends the input (Node's `Writable.end`). */
  end(callback?: () => void): this;
  /** Writes a last item and ends the input. */
  end(chunk: In, callback?: () => void): this;
  /** Writes a last item and ends the input; the encoding is ignored in object mode. */
  end(chunk: In, encoding: BufferEncoding, callback?: () => void): this;
  /** @internal For assignability to NodeJS.WritableStream only. */
  end(chunk: never, encoding?: never, callback?: never): this;
  /** One output item, or `null` when none is buffered (Node's `Readable.read`). */
  read(size?: number): Out | null;
  /** @internal For assignability to NodeJS.ReadableStream only. */
  read(size?: never): never;
  /** Every output item, once the pipeline has ended (Node's `Readable.toArray`). */
  toArray(options?: { signal?: AbortSignal }): Promise<Out[]>;
  /** `for await (const item of pipeline)`: the output items. */
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Out>;
}

/**
 * Stages joined into one object-mode Duplex that takes plain values and gives
 * plain values. Inside, each value travels in a {@link PipelineItem}, so the
 * pipeline can report where every item's time went.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface above only narrows inherited signatures, which the class has
export class Pipeline<In = unknown, Out = unknown> extends Duplex {
  /** The stages as given: their names, counts and timing make the summary. */
  readonly stages: readonly Stage[];
  /** The streams that run them: a stage, or a fused stage for a group of several. */
  readonly links: readonly Stage[];
  /** Which stages ran fused, as groups of their names. */
  readonly fusedGroups: readonly string[][];
  private readonly head: Stage;
  private readonly tail: Stage;
  private readonly timing: boolean;
  private readonly total = new LatencyStat();
  private readonly recent: RecentItems;
  /** Timed pipelines only: what waited on what, and the run over time (run-sampler.ts). */
  private readonly sampler: RunSampler | undefined;
  private received = 0;
  private emitted = 0;
  private waitingDrain: ((error?: Error | null) => void) | null = null;
  /** @internal Makes `Pipeline<In, Out>` compare by both item types (see Stage). */
  declare readonly __types?: { in: In; out: Out };

  /** @internal Use {@link createPipeline}. */
  constructor(stages: readonly Stage[], options: PipelineOptions = {}) {
    const given = checkObject('options', options);
    checkKnownKeys('options', given, KNOWN);
    const highWaterMark = options.highWaterMark === undefined ? 64 : checkInteger('options.highWaterMark', options.highWaterMark, 1);
    super({ objectMode: true, highWaterMark });
    this.stages = checkStages(stages);
    const fuse = options.fuse === undefined ? true : checkBoolean('options.fuse', options.fuse);
    const groups = fuse ? fusionGroups(this.stages) : this.stages.map((s) => [s]);
    this.links = groups.map(linkOf);
    // Fused members never run as streams; they close with the stream that ran them.
    groups.forEach((group, i) => {
      if (group.length > 1) this.links[i]!.once('close', () => { for (const s of group) s.destroy(); });
    });
    this.fusedGroups = groups.filter((g) => g.length > 1).map((g) => g.map((s) => s.name));
    this.head = this.links[0]!;
    this.tail = this.links[this.links.length - 1]!;
    this.timing = options.timing === undefined ? true : checkBoolean('options.timing', options.timing);
    this.recent = new RecentItems(options.reportItems === undefined ? 100 : checkInteger('options.reportItems', options.reportItems, 0));
    this.wire();
    this.sampler = this.timing ? this.sampled() : undefined;
    if (options.signal !== undefined) addAbortSignal(checkAbortSignal('options.signal', options.signal), this);
  }

  /**
   * Starts every stage's workers now rather than at the first item.
   *
   * @returns resolves once every stage has loaded its function
   * @throws {@link StageError} `LOAD_FAILED` (rejects), the first stage's that failed
   */
  async start(): Promise<void> {
    await Promise.all(this.links.map((s) => s.start()));
  }

  /** The summary so far: the Python original's figures plus percentiles and counts. */
  getLatencySummary(): LatencySummary {
    const { sampler } = this;
    const flow = sampler === undefined ? 'untimed' : { links: linkFigures(this.links, sampler), run: runFigures(sampler, this.emitted) };
    return buildSummary(this.received, this.emitted, this.total, this.stages, this.fusedGroups, flow);
  }

  /**
   * Items inside the pipeline now: held by stages, queued between them, or
   * waiting at its output. Fan-out outputs count one each.
   */
  itemsInside(): number {
    let count = this.readableLength + this.writableLength - (this.waitingDrain === null ? 0 : 1);
    for (const s of this.links) count += s.itemsInside();
    return count;
  }

  /** The summary and the timing breakdown of the most recent items. */
  getReport(): PipelineReport {
    return { summary: this.getLatencySummary(), fusedGroups: this.fusedGroups.map((g) => [...g]), recentItems: this.recent.breakdowns() };
  }

  /**
   * The timing of the most recent items (the `reportItems` window, as
   * `getReport()`) as a Chrome Trace Event Format object: write it with
   * `JSON.stringify` and open it in https://ui.perfetto.dev or
   * chrome://tracing. Per item and stage, the computation is a complete event
   * named by the stage on the thread that ran it; its queue wait and
   * transmission are events on the stage's queue track. Needs `timing`
   * (the default); `ts` and `dur` are microseconds.
   *
   * @example
   * ```js
   * await pipeline(Readable.from(items), p, new Writable({ objectMode: true, write: (_x, _e, cb) => cb() }));
   * writeFileSync('trace.json', JSON.stringify(p.getTrace()));
   * ```
   */
  getTrace(): ChromeTrace {
    return buildTrace(this.recent.items(), this.stages.map((s) => s.name));
  }

  /**
   * The run as one self-contained HTML document (inline SVG and CSS, no
   * script, nothing fetched): the bottleneck and its advice at the top; per
   * stage, items per second and items held over time; the task stream of the
   * recent items (which thread ran which stage, when); latency histograms;
   * the summary's figures. Its size is bounded however long the run (at most
   * 120 time buckets, the `reportItems` window). Needs `timing` (the default).
   *
   * @example
   * ```js
   * await pipeline(Readable.from(items), p, new Writable({ objectMode: true, write: (_x, _e, cb) => cb() }));
   * writeFileSync('report.html', p.getHtmlReport({ title: 'nightly import' }));
   * ```
   *
   * @param options - a title for the page
   * @returns the HTML document as a string
   */
  getHtmlReport(options: HtmlReportOptions = {}): string {
    return buildHtmlReport({
      options,
      summary: this.getLatencySummary(),
      series: this.sampler?.series(),
      links: this.links.map((l) => l.plan.members?.map((m) => m.name) ?? [l.name]),
      stages: this.stages,
      recent: this.recent.items(),
    });
  }

  /** @internal Node's stream hook. */
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.received === 0) this.sampler?.start();
    const item = new PipelineItem(chunk, this.received++, this.timing ? nowSeconds() : 0, this.timing);
    if (this.head.write(item)) callback();
    else this.waitingDrain = callback;
  }

  /** @internal Node's stream hook. */
  override _final(callback: (error?: Error | null) => void): void {
    this.head.end();
    callback();
  }

  /** @internal Node's stream hook. */
  override _read(): void {
    this.tail.resume();
  }

  /** @internal Node's stream hook. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waitingDrain = null;
    // Stages are destroyed without the error: it is reported once, here.
    const closing = this.links.filter((s) => !s.closed).map((s) => new Promise((resolve) => s.once('close', resolve)));
    for (const s of this.links) s.destroy();
    Promise.all(closing).then(() => callback(error), () => callback(error));
  }

  private sampled(): RunSampler {
    const sampler = new RunSampler(this.links, this.stages, this);
    const stop = (): void => sampler.stop();
    this.tail.once('end', stop);
    this.once('close', stop);
    return sampler;
  }

  private wire(): void {
    for (let i = 0; i + 1 < this.links.length; i++) this.links[i]!.pipe(this.links[i + 1]!);
    const onError = (error: Error): void => { this.destroy(error); };
    for (const s of this.links) s.on('error', onError);
    this.head.on('drain', () => {
      const callback = this.waitingDrain;
      this.waitingDrain = null;
      callback?.();
    });
    this.tail.on('data', (chunk: unknown) => this.onOutput(chunk));
    this.tail.on('end', () => this.push(null));
  }

  private onOutput(chunk: unknown): void {
    this.emitted++;
    let data = chunk;
    if (chunk instanceof PipelineItem) {
      data = chunk.data;
      if (chunk.timed) {
        // queuedSince is the last stage's exit: the total latency, without
        // walking the item's timings.
        this.total.record(chunk.queuedSince - chunk.createdAt);
        // The window keeps the item for its timings only: its output goes on
        // and must not stay alive here (100 large outputs would).
        chunk.data = undefined;
        this.recent.add(chunk);
      }
    }
    if (!this.push(data)) (this.tail as Readable).pause();
  }
}

function checkStages(stages: readonly Stage[]): readonly Stage[] {
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new TypeError('stages must be a non-empty array of stages made by stage()');
  }
  const names = new Set<string>();
  stages.forEach((s: unknown, i) => {
    if (!(s instanceof Stage)) throw new TypeError(`stages[${i}] must be a Stage made by stage(), got ${typeof s}`);
    if (names.has(s.name)) {
      throw new TypeError(`stage names must be unique in a pipeline: "${s.name}" appears twice; give one options.name`);
    }
    names.add(s.name);
  });
  return [...stages];
}

/**
 * Joins stages into one Duplex of plain values that records per-item timing
 * and answers `getLatencySummary()` and `getReport()`.
 *
 * @example
 * ```js
 * const p = createPipeline([stage((x) => x * 2, { name: 'double' }), stage((x) => x + 1, { name: 'inc' })]);
 * await pipeline(Readable.from([1, 2, 3]), p, async (out) => { for await (const x of out) console.log(x); });
 * console.log(p.getLatencySummary().avgTotalLatency);
 * ```
 *
 * @param stages - the stages in order, each made by `stage()`, with unique
 *   names; a stage that cannot take what the one before gives does not compile
 * @param options - see {@link PipelineOptions}
 * @returns the pipeline, typed from the first stage's input to the last one's output
 * @throws TypeError for an empty list, something not a stage, a name given
 *   twice, or a bad or unknown option (naming it)
 */
export function createPipeline<const S extends ReadonlyArray<Stage<any, any>>>(
  stages: S & CheckedStages<S>,
  options?: PipelineOptions,
): Pipeline<PipelineInput<S>, PipelineOutput<S>>;
/** With the item types given: `createPipeline<In, Out>(stages)`; neighbours are not checked. */
export function createPipeline<In = never, Out = never>(stages: [In, Out] extends [never, never] ? never : ReadonlyArray<Stage<any, any>>, options?: PipelineOptions): Pipeline<In, Out>;
export function createPipeline(stages: readonly Stage[], options?: PipelineOptions): Pipeline {
  return new Pipeline(stages, options);
}

export type { StageInput, StageOutputOf } from './pipeline-types.js';
