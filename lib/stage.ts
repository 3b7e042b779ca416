import { Transform, addAbortSignal } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { nowSeconds } from './clock.js';
import { StageError } from './errors.js';
import type { Executor, RunResult } from './executor.js';
import { applyPolicy } from './error-policy.js';
import { applyReply } from './reply.js';
import type { ReplyContext } from './reply.js';
import { chainOutputs, passThroughChain } from './chain-replay.js';
import type { ChainMember } from './chain-replay.js';
import type { ResolvedStageOptions, StageOptions } from './stage-options.js';
import { planStage } from './stage-plan.js';
import type { FusedTarget, StagePlan } from './stage-plan.js';
import { StageStats } from './stage-stats.js';
import type { ModuleRef } from './stage-target.js';
import { TaskState, createTask, dataOf } from './task.js';
import type { Task } from './task.js';
import { DetailedTiming } from './timing.js';
import { BatchTimeout } from './worker-pool.js';
import { WorkerExit } from './worker-thread.js';

/** A stage function: called with the item's data and `options.context`. */
export type StageFunction<In = any, R = unknown> = (data: In, context: any) => R;

/**
 * The stage a module reference makes: typed by the function it runs,
 * `stage<typeof import('./score.js').score>({ module: './score.js', export: 'score' })`,
 * or by its item types, `stage<In, Out>({ module })`. (Items are never
 * functions, which cannot cross threads, so the two cannot be confused.)
 */
export type ModuleStage<A, Out> = [A] extends [(...args: any[]) => any]
  ? Stage<Parameters<A>[0], StageOutput<ReturnType<A>>>
  : Stage<A, Out>;

/** What a stage function's return type makes downstream: promises awaited, generators fanned out, null dropped. */
export type StageOutput<R> =
  Awaited<R> extends infer A
    ? A extends Generator<infer Y, any, any> | AsyncGenerator<infer Y, any, any>
      ? Y
      : Exclude<A, null | undefined | void>
    : never;

/**
 * An object-mode Transform that runs a function on every item in worker
 * threads. Usable wherever Node takes a Transform: `stream.pipeline`, `.pipe()`,
 * `compose`, async iteration.
 *
 * Items are accepted while fewer than `highWaterMark` are inside; those that
 * arrive while every worker is busy are sent together as one batch when one
 * frees up, and an idle worker gets an item at once.
 */
export class Stage<In = unknown, Out = unknown> extends Transform {
  /** The stage's name in errors and reports. */
  readonly name: string;
  /** Counts, items held and (for timed items) where the time went. */
  readonly stats = new StageStats();
  /** @internal What the stage runs and how: read by fusion. */
  readonly plan: StagePlan;
  private readonly settings: ResolvedStageOptions;
  private readonly executor: Executor;
  /** Set for a fused stage: the stages it runs, with their own counts. */
  private readonly members: ChainMember[] | undefined;
  private readonly replyContext: ReplyContext;
  private pending: Task[] = [];
  /** Tasks in arrival order from `orderHead` on, until emitted (ordered stages only). */
  private order: Task[] = [];
  private orderHead = 0;
  /** Set in _destroy: cheaper to test per item than the stream's `destroyed` getter. */
  private torn = false;
  private arrivals = 0;
  private starting: Promise<void> | undefined;
  private ready = false;
  private waitingWrite: TransformCallback | null = null;
  private waitingFlush: TransformCallback | null = null;
  declare readonly __types?: { in: In; out: Out };

  constructor(target: StageFunction<In> | ModuleRef | FusedTarget, options?: StageOptions) {
    const plan = planStage(target, options);
    super({ objectMode: true, highWaterMark: plan.settings.highWaterMark });
    this.name = plan.name;
    this.plan = plan;
    this.settings = plan.settings;
    this.executor = plan.executor;
    this.members = plan.members;
    // Made once: it is needed for every batch.
    this.replyContext = {
      name: plan.name,
      memberNames: plan.members?.map((m) => m.name),
      causeOf: (stored) => plan.executor.causeOf(stored),
    };
    if (plan.settings.signal !== undefined) addAbortSignal(plan.settings.signal, this);
  }

  /**
   * Starts the workers and loads the function in each, so that a load failure
   * shows before any data flows. Optional: the first item starts them too.
   * Rejects with a StageError (`LOAD_FAILED`, with the real cause).
   */
  start(): Promise<void> {
    this.starting ??= this.executor.start().then(() => { this.ready = true; });
    return this.starting;
  }

  /** @internal Whether workers may exist: such a stage is not fused into another. */
  get started(): boolean {
    return this.starting !== undefined;
  }

  /**
   * Items inside the stage now: held (queued, in flight or waiting for their
   * turn), waiting in its writable buffer, or waiting to be read.
   */
  itemsInside(): number {
    // The chunk whose write callback is withheld is held and still buffered.
    const buffered = this.writableLength - (this.waitingWrite === null ? 0 : 1);
    return this.stats.itemsHeld + buffered + this.readableLength;
  }

  // No _writev: writes are acknowledged at once while fewer than
  // highWaterMark items are held, so the Writable rarely buffers more than one
  // chunk; batches form in `pending` while the workers are busy instead. A
  // _writev would hand over up to another highWaterMark chunks at once and
  // break the held-items bound.
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ready) {
      this.accept(chunk, callback);
      return;
    }
    this.start().then(() => this.accept(chunk, callback), (error: unknown) => callback(error as Error));
  }

  // Node calls _read once and then not again until we push, and it calls it
  // while the chunk it is about to hand out still counts in readableLength.
  // So a call here means "room downstream": only the held-items bound applies,
  // or a full buffer that is being read would leave the writer waiting for ever.
  override _read(): void {
    if (this.waitingWrite !== null && this.stats.itemsHeld < this.settings.highWaterMark) this.releaseWriter(true);
  }

  override _flush(callback: TransformCallback): void {
    this.waitingFlush = callback;
    this.maybeFinish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waitingWrite = null;
    this.waitingFlush = null;
    this.pending = [];
    this.torn = true;
    this.order = [];
    this.orderHead = 0;
    this.executor.close().then(() => callback(error), () => callback(error));
  }

  private accept(chunk: unknown, callback: TransformCallback): void {
    if (this.torn) return;
    const task = createTask(chunk, this.arrivals++);
    this.stats.received++;
    if (++this.stats.itemsHeld > this.stats.maxItemsHeld) this.stats.maxItemsHeld = this.stats.itemsHeld;
    if (this.settings.ordered) this.order.push(task);
    if (task.state === TaskState.PassThrough) this.settle([task]);
    else this.pending.push(task);
    this.dispatch();
    // Acknowledge at once while there is room, so that items keep arriving
    // while others are in flight; otherwise the writer waits (backpressure).
    if (this.hasRoom()) callback();
    else this.waitingWrite = callback;
  }

  private hasRoom(): boolean {
    return this.stats.itemsHeld < this.settings.highWaterMark && this.readableLength < this.readableHighWaterMark;
  }

  private releaseWriter(readerWaiting = false): void {
    if (this.waitingWrite === null || (!readerWaiting && !this.hasRoom())) return;
    const callback = this.waitingWrite;
    this.waitingWrite = null;
    callback();
  }

  private dispatch(): void {
    while (this.pending.length > 0 && !this.torn) {
      // Suspects of a worker's death are at the front; each runs alone on its
      // worker, so that a second death names the culprit.
      const alone = this.pending[0]!.alone;
      if (!this.executor.hasRoom(alone)) return;
      const limit = alone ? 1 : this.executor.batchLimit();
      let batch: Task[];
      if (this.pending.length <= limit) {
        batch = this.pending;
        this.pending = [];
      } else {
        batch = this.pending.splice(0, limit);
      }
      this.executor.run(batch.map(dataOf), alone).then(
        (reply) => this.onReply(batch, reply),
        (error: unknown) => this.onBatchError(batch, error),
      );
    }
  }

  private onReply(batch: Task[], reply: RunResult): void {
    if (this.torn) return;
    const fatal = applyReply(batch, reply, this.replyContext);
    if (fatal !== undefined) this.destroy(fatal);
    else this.settle(batch);
  }

  private onBatchError(batch: Task[], error: unknown): void {
    if (this.destroyed) return;
    // A StageError here is fatal: a replacement worker failed to load.
    if (error instanceof StageError) {
      this.destroy(error);
    } else if (error instanceof BatchTimeout) {
      const task = batch[0]!;
      task.state = TaskState.Error;
      task.error = StageError.timeout(this.name, task.seq, error.timeoutMs);
      this.settle(batch);
    } else {
      this.onWorkerDeath(batch, error);
    }
  }

  /**
   * A worker died with this batch in flight. Unless the batch ran alone on
   * its worker, which item killed it is unknown, so each is run again alone
   * on a fresh worker (at-least-once: a function may see an item twice). A
   * death while alone is the item's own; past `retries` of those it fails,
   * and the healthy items of the batch still come out, in order.
   */
  private onWorkerDeath(batch: Task[], error: unknown): void {
    const cause = error instanceof WorkerExit && error.cause !== undefined ? error.cause : error;
    const again: Task[] = [];
    const failed: Task[] = [];
    for (const task of batch) {
      if (task.alone && ++task.deaths > this.settings.retries) {
        task.state = TaskState.Error;
        task.error = StageError.workerDied(this.name, task.seq, cause);
        failed.push(task);
      } else {
        task.alone = true;
        again.push(task);
      }
    }
    this.stats.retried += again.length;
    // A fused chain runs again as a whole; its first member counts it.
    if (this.members !== undefined) this.members[0]!.stats.retried += again.length;
    this.pending.unshift(...again);
    if (failed.length > 0) this.settle(failed);
    else this.dispatch();
  }

  /** Emits what is done, in order if the stage is ordered, then looks for more work. */
  private settle(batch: Task[]): void {
    if (this.settings.ordered) this.finishInOrder();
    else for (const task of batch) if (!this.torn) this.finish(task);
    if (this.torn) return;
    this.dispatch();
    this.releaseWriter();
    this.maybeFinish();
  }

  // A moving head instead of shift(): no memmove per item; the array is
  // compacted once its emitted front outgrows what is still waiting.
  private finishInOrder(): void {
    const order = this.order;
    while (this.orderHead < order.length && order[this.orderHead]!.state !== TaskState.Pending && !this.torn) {
      this.finish(order[this.orderHead++]!);
    }
    if (this.orderHead === order.length) {
      order.length = 0;
      this.orderHead = 0;
    } else if (this.orderHead > 1024 && this.orderHead * 2 > order.length) {
      this.order = order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  private finish(task: Task): void {
    this.stats.itemsHeld--;
    if (task.state === TaskState.Chain) {
      this.finishChain(task);
      return;
    }
    const timing = this.timingOf(task);
    switch (task.state) {
      case TaskState.Value:
        this.stats.emitted++;
        this.pushResult(task, task.value, timing, false);
        break;
      case TaskState.Drop:
        this.stats.filtered++;
        break;
      case TaskState.Many:
        this.pushMany(task, task.value as unknown[], timing);
        break;
      case TaskState.Error:
        this.finishError(task, timing);
        break;
      case TaskState.PassThrough:
        this.stats.emitted++;
        if (this.members !== undefined) passThroughChain(this.members);
        this.push(task.input);
        break;
    }
  }

  /** Replays a fused chain's records for one item and passes its outputs on. */
  private finishChain(task: Task): void {
    const { chunks, fatal } = chainOutputs(task, this.members!, this.replyContext.causeOf);
    this.stats.emitted += chunks.length;
    this.stats.fanOut += Math.max(0, chunks.length - 1);
    if (chunks.length === 0 && fatal === undefined) this.stats.filtered++;
    for (const chunk of chunks) this.push(chunk);
    if (fatal !== undefined) this.destroy(fatal);
  }

  private pushMany(task: Task, values: unknown[], timing: DetailedTiming | undefined): void {
    if (values.length === 0) {
      this.stats.filtered++;
      return;
    }
    this.stats.emitted += values.length;
    this.stats.fanOut += values.length - 1;
    // Each output gets its own envelope (the original shared one timing
    // record between fan-out copies: its bug 7).
    for (let k = 0; k < values.length; k++) this.pushResult(task, values[k], timing, k > 0);
  }

  private finishError(task: Task, timing: DetailedTiming | undefined): void {
    // In a fused stage, a failure of the whole chain (a dead worker, an input
    // that cannot cross) is its first member's; an emitted error then passes
    // the other members untouched, as it would pass separate stages.
    const members = this.members;
    if (members !== undefined) members[0]!.stats.received++;
    const verdict = applyPolicy(this.settings.onError, task.error!, task.data, members?.[0]!.stats ?? this.stats);
    if (verdict.kind === 'fatal') {
      this.destroy(verdict.error);
    } else if (verdict.kind === 'emit') {
      if (members !== undefined) passThroughChain(members.slice(1));
      this.pushResult(task, task.error, timing, false);
    }
  }

  private timingOf(task: Task): DetailedTiming | undefined {
    if (task.enteredAt === 0 || task.state === TaskState.PassThrough) return undefined;
    const timing = new DetailedTiming(task.enteredAt, task.startedAt, task.endedAt, nowSeconds());
    this.stats.record(timing);
    return timing;
  }

  private pushResult(task: Task, value: unknown, timing: DetailedTiming | undefined, fork: boolean): void {
    const item = task.item;
    if (item === undefined) {
      this.push(value);
      return;
    }
    const out = fork ? item.fork(value) : item;
    out.data = value;
    if (timing !== undefined) {
      out.stageTimings.set(this.name, timing);
      out.queuedSince = timing.queueExitTime;
    }
    this.push(out);
  }

  private maybeFinish(): void {
    if (this.waitingFlush === null || this.stats.itemsHeld > 0) return;
    const callback = this.waitingFlush;
    this.waitingFlush = null;
    // Workers end with the stream, so a program exits without cleanup calls.
    this.executor.close().then(() => callback(), (error: unknown) => callback(error as Error));
  }
}

/**
 * Makes a {@link Stage}: `fn(data, context)` runs on every item in a worker
 * thread. Give a module reference to run an export of a module (it may import
 * anything and keep state), or a self-contained function (sent as source text).
 *
 * @example
 * ```js
 * import { Readable } from 'node:stream';
 * for await (const x of Readable.from([1, 2, 3]).pipe(stage((x) => x * 2))) console.log(x); // 2, 4, 6
 * ```
 */
export function stage<In = any, R = unknown>(fn: StageFunction<In, R>, options?: StageOptions): Stage<In, StageOutput<R>>;
export function stage<A = unknown, Out = unknown>(ref: ModuleRef, options?: StageOptions): ModuleStage<A, Out>;
export function stage(target: StageFunction | ModuleRef, options?: StageOptions): Stage {
  return new Stage(target, options);
}
