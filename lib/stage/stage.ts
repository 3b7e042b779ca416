// lib/stage/: the Stage, an object-mode Transform whose function runs
// elsewhere. This folder owns how a stage is planned (its options, target and
// executor), its tasks and their ordered emission, replies and fused-chain
// replay, error policies and counters. It may import run/ (the Executor seam
// and its implementations), timing/ and the top-level errors.ts and
// checks.ts; it knows nothing of pipelines, fusion decisions or integrations.
//
// A Stage is three layers, each in its own file: task-emitter.ts (a settled
// task leaves the stage), task-dispatcher.ts (batches, replies, deaths,
// order), and this file, the stream side (writes, backpressure, flush,
// destroy).

import { addAbortSignal } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { StageOptions } from './stage-options.js';
import { attachMetrics } from './stage-metrics.js';
import { planStage } from './stage-plan.js';
import type { FusedTarget } from './stage-plan.js';
import type { ModuleRef } from './stage-target.js';
import type { ModuleStage, StageFunction, StageOutput } from './stage-types.js';
import { TaskDispatcher } from './task-dispatcher.js';

// Declaration merging: the stream methods that carry items, typed with the
// stage's item types instead of Node's `any`; nothing changes at run time.
// stream.pipeline() and .pipe() ask for a NodeJS.ReadWriteStream, whose
// items are strings and Buffers, or for a function from an async iterable: the
// overloads that take or give `never` keep a stage a NodeJS.WritableStream (a
// call never picks them: nothing is never, and the typed overload comes
// first), and the call signature makes it pass for such a function, since a
// typed async iterator cannot pass for a byte stream's. Node's pipeline()
// tests for a stream first, so nothing ever calls it.
export interface Stage<In = unknown, Out = unknown> {
  /**
   * @internal Not callable: a type-only signature that lets stream.pipeline()
   * take this stage between a source and an async function or generator, with
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
  /** Every output item, once the stage has ended (Node's `Readable.toArray`). */
  toArray(options?: { signal?: AbortSignal }): Promise<Out[]>;
  /** `for await (const item of stage)`: the output items. */
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Out>;
}

/**
 * An object-mode Transform that runs a function on every item in worker
 * threads. Usable wherever Node takes a Transform: `stream.pipeline`, `.pipe()`,
 * `compose`, async iteration.
 *
 * Items are accepted while fewer than `highWaterMark` are inside; those that
 * arrive while every worker is busy are sent together as one batch when one
 * frees up, and an idle worker gets an item at once.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface above only narrows inherited signatures, which the class has
export class Stage<In = unknown, Out = unknown> extends TaskDispatcher {
  private starting: Promise<void> | undefined;
  private ready = false;
  private waitingWrite: TransformCallback | null = null;
  private waitingFlush: TransformCallback | null = null;
  /**
   * @internal Makes `Stage<In, Out>` compare by both item types: the typed
   * methods alone compare inputs bivariantly, as method parameters do.
   */
  declare readonly __types?: { in: In; out: Out };

  /** @internal Use {@link stage}. */
  constructor(target: StageFunction<In> | ModuleRef | FusedTarget, options?: StageOptions) {
    super(planStage(target, options));
    if (this.settings.signal !== undefined) addAbortSignal(this.settings.signal, this);
  }

  /**
   * Starts the workers and loads the function in each, so that a load failure
   * shows before any data flows. Optional: the first item starts them too.
   *
   * @returns resolves once every worker has loaded the function
   * @throws {@link StageError} `LOAD_FAILED` (rejects), with the real cause; if
   *   the stage is destroyed or aborted meanwhile, the error it was destroyed
   *   with (an AbortError when there was none)
   */
  start(): Promise<void> {
    // Asked ahead of the data: every thread the stage may use gets ready too.
    return this.begin().then(() => { if (!this.torn) this.executor.warmUp?.(); });
  }

  // The start a first item makes: that item runs first, the other threads
  // warm up once it is answered (Executor.warmUp).
  private begin(): Promise<void> {
    // A fused stage's members record their own metrics, not the chain.
    this.starting ??= Promise.all([this.executor.start(), attachMetrics(this.members ?? [this])]).then(
      () => { this.ready = true; },
      (error: unknown) => { throw this.torn ? this.stoppedWhileStarting() : error; },
    );
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
  /** @internal Node's stream hook. */
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ready) {
      this.accept(chunk, callback);
      return;
    }
    // A stage destroyed while starting is ending already: its write waits no answer.
    this.begin().then(() => this.accept(chunk, callback), (error: unknown) => { if (!this.torn) callback(error as Error); });
  }

  // Node calls _read once and then not again until we push, and it calls it
  // while the chunk it is about to hand out still counts in readableLength.
  // So a call here means "room downstream": only the held-items bound applies,
  // or a full buffer that is being read would leave the writer waiting for ever.
  /** @internal Node's stream hook. */
  override _read(): void {
    if (this.waitingWrite !== null && this.stats.itemsHeld < this.settings.highWaterMark) this.releaseWriter(true);
  }

  /** @internal Node's stream hook. */
  override _flush(callback: TransformCallback): void {
    this.waitingFlush = callback;
    this.maybeFinish();
  }

  /** @internal Node's stream hook. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waitingWrite = null;
    this.waitingFlush = null;
    this.torn = true;
    this.dropTasks();
    this.flushCounts();
    this.executor.close().then(() => callback(error), () => callback(error));
  }

  // Destroying a stage ends its threads at once, start-up included, which
  // fails their load: what the caller of start() needs to hear is why.
  private stoppedWhileStarting(): Error {
    if (this.errored !== null) return this.errored;
    const error = new Error(`stage "${this.name}" was destroyed before it had started`);
    error.name = 'AbortError';
    return Object.assign(error, { code: 'ABORT_ERR' });
  }

  protected afterSettle(): void {
    this.releaseWriter();
    this.maybeFinish();
  }

  private accept(chunk: unknown, callback: TransformCallback): void {
    if (this.torn) return;
    this.enqueue(chunk);
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

  private maybeFinish(): void {
    if (this.waitingFlush === null || this.stats.itemsHeld > 0 || this.holding || this.holdForLetters()) return;
    const callback = this.waitingFlush;
    this.waitingFlush = null;
    this.flushCounts();
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
 *
 * @param target - a self-contained function `(data, context) => result`, or
 *   `{ module, export? }`: a file URL (`new URL('./work.js', import.meta.url)`),
 *   a path against `process.cwd()`, or a package by bare specifier
 * @param options - see {@link StageOptions}
 * @returns the stage; typed `Stage<In, Out>` from a typed function (promises
 *   awaited, generators fanned out, null dropped)
 * @throws TypeError for a target that is neither, or a bad or unknown option (naming it)
 * @throws {@link StageError} later, on the stream: see {@link StageErrorCode}
 */
export function stage<In = any, R = unknown>(target: StageFunction<In, R>, options?: StageOptions): Stage<In, StageOutput<R>>;
export function stage<A = unknown, Out = unknown>(target: ModuleRef, options?: StageOptions): ModuleStage<A, Out>;
export function stage(target: StageFunction | ModuleRef, options?: StageOptions): Stage {
  return new Stage(target, options);
}
