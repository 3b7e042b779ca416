import { checkBoolean, checkInteger, checkKnownKeys, checkObject, checkString } from '../checks.js';
import { StageError } from '../errors.js';
import { LatencyStat } from '../timing/latency-stat.js';
import { InputQueue } from './input-queue.js';
import { OutputBuffer } from './output-buffer.js';
import { Pipeline } from './pipeline.js';
import { Stage } from '../stage/stage.js';
import type { ModuleStage, StageFunction, StageOutput } from '../stage/stage-types.js';
import type { StageInput, StageOutputOf } from './pipeline-types.js';
import type { StageOptions } from '../stage/stage-options.js';
import type { ModuleRef } from '../stage/stage-target.js';
import { buildSummary } from './summary.js';
import type { LatencySummary, PipelineReport } from './summary.js';
import { buildTrace } from './trace.js';
import type { ChromeTrace } from './trace.js';
import { buildHtmlReport } from './report/html-report.js';
import type { HtmlReportOptions } from './report/html-report.js';

/** Options of {@link AsyncTaskPipeline}, as in the Python original. */
export interface AsyncTaskPipelineOptions {
  /** Queue bound of every stage and of the output, in items (always bounded). @default 100 */
  maxQueueSize?: number;
  /** Record per-item timing for `getLatencySummary()`. @default false */
  enableTiming?: boolean;
  /** Pass a failed item's StageError downstream in its place instead of failing. @default false */
  returnExceptions?: boolean;
}

/** Options of {@link AsyncTaskPipeline.stop}. */
export interface StopOptions {
  /** Let every accepted item come out first; false discards them. @default true */
  drain?: boolean;
}

/** What {@link AsyncTaskPipeline.stop} resolves with. */
export interface StopResult {
  /**
   * Items discarded by `stop({ drain: false })`: those that entered (their
   * write resolved) and never reached the output, counted where they were (a
   * fan-out's outputs count one each). 0 when draining.
   */
  discarded: number;
}

type State = 'new' | 'running' | 'stopped';

/**
 * The Python original's API, on streams. Add stages, start, feed input, read
 * output, stop. Unlike the original, the output ends by itself once the input
 * has ended and drained, `stop()` drains instead of losing items, and no error
 * is silent.
 *
 * @example
 * ```js
 * const p = new AsyncTaskPipeline({ enableTiming: true });
 * p.addStage('double', (x) => x * 2);
 * await p.start();
 * await p.processInputStream([1, 2, 3]);
 * for await (const x of p.generateOutputStream()) console.log(x);
 * await p.stop();
 * ```
 */
export class AsyncTaskPipeline<In = unknown, Out = unknown> {
  private readonly maxQueueSize: number;
  private readonly enableTiming: boolean;
  private readonly returnExceptions: boolean;
  private readonly stages: Stage[] = [];
  private pipeline: Pipeline | undefined;
  private output: OutputBuffer<Out> | undefined;
  private input: InputQueue | undefined;
  private state: State = 'new';
  private reading = false;
  private inputEnded = false;
  private failure: Error | undefined;
  private stopped: Promise<StopResult> | undefined;

  /** @throws TypeError for a bad or unknown option, naming it. */
  constructor(options: AsyncTaskPipelineOptions = {}) {
    const given = checkObject('options', options);
    checkKnownKeys('options', given, ['maxQueueSize', 'enableTiming', 'returnExceptions']);
    this.maxQueueSize = options.maxQueueSize === undefined ? 100 : checkInteger('options.maxQueueSize', options.maxQueueSize, 1);
    this.enableTiming = options.enableTiming === undefined ? false : checkBoolean('options.enableTiming', options.enableTiming);
    this.returnExceptions = options.returnExceptions === undefined ? false : checkBoolean('options.returnExceptions', options.returnExceptions);
  }

  /**
   * Adds a stage (options as in `stage()`, checked now) and returns this
   * pipeline, typed with the stage: a chain of `addStage()` calls carries the
   * item types from the first stage's input to the last one's output, and a
   * function that cannot take the previous stage's output does not compile.
   *
   * @param name - the stage's name in errors and reports; unique in the pipeline
   * @param target - the function, or a module reference `{ module, export? }`
   * @param options - as for `stage()`; `highWaterMark` defaults to `maxQueueSize`
   * @returns this pipeline
   * @throws {@link StageError} `INVALID_STATE` after `start()`
   * @throws TypeError for a name already added or a bad option
   */
  addStage<A = any, R = unknown>(
    name: string,
    target: unknown extends Out ? StageFunction<A, R> : StageFunction<Out, R>,
    options?: StageOptions,
  ): AsyncTaskPipeline<unknown extends In ? A : In, StageOutput<R>>;
  addStage<A = unknown, O = unknown>(
    name: string,
    target: ModuleRef,
    options?: StageOptions,
  ): AsyncTaskPipeline<unknown extends In ? StageInput<ModuleStage<A, O>> : In, StageOutputOf<ModuleStage<A, O>>>;
  addStage(name: string, target: StageFunction | ModuleRef, options: StageOptions = {}): AsyncTaskPipeline<any, any> {
    if (this.state !== 'new') throw StageError.invalidState(name, 'addStage() must come before start()');
    checkString('name', name);
    if (this.stages.some((s) => s.name === name)) throw new TypeError(`a stage named "${name}" was already added`);
    const defaults: StageOptions = { highWaterMark: this.maxQueueSize, onError: this.returnExceptions ? 'emit' : 'fail' };
    this.stages.push(new Stage(target, { ...defaults, ...options, name }));
    return this;
  }

  /**
   * Starts every stage's workers.
   *
   * @returns resolves once every stage has loaded its function
   * @throws {@link StageError} `INVALID_STATE` (rejects) when called twice or
   *   with no stage; `LOAD_FAILED` when a stage cannot load
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw StageError.invalidState('pipeline', 'start() was already called');
    if (this.stages.length === 0) throw StageError.invalidState('pipeline', 'add a stage before start()');
    this.state = 'running';
    const pipeline = new Pipeline(this.stages, { timing: this.enableTiming, highWaterMark: this.maxQueueSize });
    this.pipeline = pipeline;
    this.output = new OutputBuffer(pipeline, this.maxQueueSize);
    const input = new InputQueue(pipeline, { reading: () => this.reading, maxQueueSize: this.maxQueueSize });
    this.input = input;
    // Writes still waiting never entered: they are rejected, with the failure if there is one.
    pipeline.on('error', (error) => {
      this.failure ??= error;
      input.rejectAll(error);
    });
    pipeline.on('close', () => {
      input.rejectAll(this.failure ?? StageError.invalidState('pipeline', 'the pipeline was stopped before this item could enter; it was not processed'));
    });
    try {
      await pipeline.start();
    } catch (error) {
      pipeline.destroy();
      throw error;
    }
  }

  /**
   * Feeds every item of `source`, each once the pipeline has room; then ends
   * the input unless `end: false`. Rejects at the first item that cannot enter.
   * Read `generateOutputStream()` at the same time when the input may be
   * larger than the pipeline holds: nothing else makes room.
     *
   * @param source - the items, sync or async iterable
   * @param options - `end: false` leaves the input open for more
   * @returns resolves once every item has entered
   * @throws {@link StageError} (rejects) `INVALID_STATE` before start(), after
   *   stop() or after the input ended; the pipeline's error if it failed
 */
  async processInputStream(source: AsyncIterable<In> | Iterable<In>, options: { end?: boolean } = {}): Promise<void> {
    const pipeline = this.running('processInputStream()');
    for await (const data of source) await this.write(pipeline, data);
    if (options.end !== false) this.endInput();
  }

  /**
   * Feeds one item. Resolves once it has entered the pipeline; rejects if it
   * never will (the pipeline failed, or was stopped with `drain: false`
   * first), and then it was not processed. Writes not awaited enter in call
   * order.
     *
   * @param data - the item
   * @returns resolves once the item has entered the pipeline
   * @throws {@link StageError} (rejects) as for processInputStream()
 */
  async processInputData(data: In): Promise<void> {
    await this.write(this.running('processInputData()'), data);
  }

  /**
   * Ends the input (after the writes already made, awaited or not): once
   * everything has drained, the output stream ends.
     *
   * @throws {@link StageError} `INVALID_STATE` before start() or after stop()
 */
  endInput(): void {
    this.running('endInput()');
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.input!.end();
  }

  /**
   * The results, in order, ending once the input has ended and drained.
   * One reader at a time; rethrows the pipeline's error after the results
   * that came before it.
     *
   * @returns the results as an async generator
   * @throws {@link StageError} `INVALID_STATE` before start() or with a
   *   second reader; the pipeline's error after the results before it
 */
  async *generateOutputStream(): AsyncGenerator<Out, void, undefined> {
    if (this.output === undefined) throw StageError.invalidState('pipeline', 'generateOutputStream() needs start() first');
    if (this.reading) throw StageError.invalidState('pipeline', 'generateOutputStream() already has a reader');
    this.reading = true;
    try {
      yield* this.output.drain();
    } finally {
      this.reading = false;
    }
  }

  /**
   * The pipeline's Duplex, for code that wants streams; do not mix it with processInput*().
   *
   * @returns the typed {@link Pipeline}
   * @throws {@link StageError} `INVALID_STATE` before start() or after stop()
   */
  stream(): Pipeline<In, Out> {
    return this.running('stream()') as Pipeline<In, Out>;
  }

  /** Latency figures so far; all zero before any item (timing needs `enableTiming`). */
  getLatencySummary(): LatencySummary {
    return this.pipeline?.getLatencySummary() ?? buildSummary(0, 0, new LatencyStat(), this.stages);
  }

  /** The summary and the timing breakdown of the most recent items; before start(), an empty report. */
  getReport(): PipelineReport {
    return this.pipeline?.getReport() ?? { summary: this.getLatencySummary(), fusedGroups: [], recentItems: [] };
  }

  /** The recent items' timing as a Chrome trace, as `Pipeline.getTrace()`; needs `enableTiming`. */
  getTrace(): ChromeTrace {
    return this.pipeline?.getTrace() ?? buildTrace([], this.stages.map((s) => s.name));
  }

  /**
   * The run as one self-contained HTML document, as `Pipeline.getHtmlReport()`;
   * needs `enableTiming`. Before start(), a report with no figures.
   *
   * @param options - a title for the page
   * @returns the HTML document as a string
   */
  getHtmlReport(options: HtmlReportOptions = {}): string {
    return this.pipeline?.getHtmlReport(options) ?? buildHtmlReport({
      options, summary: this.getLatencySummary(), series: undefined, links: this.stages.map((s) => [s.name]), stages: this.stages, recent: [],
    });
  }

  /**
   * Ends the input and waits for every accepted item to come out (they stay
   * readable from `generateOutputStream()`), then stops the workers. Writes
   * made before it, awaited or not, still enter; later ones reject. With
   * `drain: false`, discards what is inside and says how many, and rejects
   * the writes still waiting for room (they never entered). Rejects with the
   * pipeline's error if it failed. Calling it again returns the same result.
     *
   * @param options - `drain: false` discards instead of draining
   * @returns how many items were discarded (0 when draining)
   * @throws {@link StageError} (rejects) the pipeline's error if it failed;
   *   TypeError for a bad option
 */
  stop(options: StopOptions = {}): Promise<StopResult> {
    const drain = options.drain === undefined ? true : checkBoolean('options.drain', options.drain);
    this.stopped ??= this.shutDown(drain);
    return this.stopped;
  }

  private async shutDown(drain: boolean): Promise<StopResult> {
    const { pipeline, output, input } = this;
    this.state = 'stopped';
    if (pipeline === undefined || output === undefined || input === undefined) return { discarded: 0 };
    let discarded = 0;
    if (drain && !pipeline.destroyed) {
      if (!this.inputEnded) { this.inputEnded = true; input.end(); }
      output.unbind();
    } else if (!pipeline.destroyed) {
      input.rejectAll(StageError.invalidState('pipeline', 'stop({ drain: false }) came before this item could enter; it was not processed'));
      discarded = pipeline.itemsInside();
      pipeline.destroy();
    }
    await output.whenDone().catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
    return { discarded };
  }

  private running(what: string): Pipeline {
    if (this.state === 'new' || this.pipeline === undefined) throw StageError.invalidState('pipeline', `${what} needs start() first`);
    if (this.state === 'stopped') throw StageError.invalidState('pipeline', `${what} after stop()`);
    return this.pipeline;
  }

  private async write(pipeline: Pipeline, data: unknown): Promise<void> {
    if (this.inputEnded) throw StageError.invalidState('pipeline', 'the input has ended (processInputStream ends it unless { end: false })');
    if (this.failure !== undefined) throw this.failure;
    if (pipeline.destroyed) throw StageError.invalidState('pipeline', 'the pipeline was stopped');
    await this.input!.write(data);
  }
}
