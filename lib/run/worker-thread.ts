// The one main-side module that touches threads.js. It spawns a worker with
// threads' `spawn` and contains the library's known faults (see
// shared/reference/workers-measured.md):
// - threads' own Worker class resolves paths from a stack trace, doubles
//   absolute paths and keeps every worker it ever made in a module-level
//   array; we hand `spawn` a plain node Worker behind a small adapter instead.
// - importing threads installs SIGINT/SIGTERM handlers that call
//   process.exit(0); we remove them, so the host program exits as it would.
// - a worker that fails to load emits 'error' with no listener (an
//   uncaughtException here) while spawn waits 10 s; we listen and race.
// - a worker that dies mid-call leaves the call pending for ever; we fail
//   every call in flight on 'exit'.
// - its per-call machinery costs more than the clone for small items; after
//   `init`, batches travel on a MessagePort of our own.
// - a spawned worker keeps the process alive; we unref it while idle.
// - spawn races the handshake against a 10 s timer that it clears only when
//   the handshake arrives: a worker that dies (or is terminated) first would
//   keep the process alive for those 10 s. A dead worker answers the
//   handshake in its place (see endHandshake).

import { MessageChannel, Worker as NodeWorker } from 'node:worker_threads';
import type { MessagePort, ResourceLimits, TransferListItem } from 'node:worker_threads';
import { WorkerExit } from './executor.js';
import { FATAL_MESSAGE } from './protocol.js';
import type { BatchAnswer, BatchReply, BatchRequest, FatalMessage, ForgetRequest, LoadFailure, WorkerApi, WorkerInit } from './protocol.js';
import { deserializeError } from './serialized-error.js';
import { isDetached } from './transfer.js';
import { workerExecArgv } from './worker-exec-argv.js';
import { WORKER_ENTRY } from '../entry-files.js';

/** The host's flags as workers get them (see worker-exec-argv.ts); the host's never change. */
const EXEC_ARGV = workerExecArgv();

/** Options of one worker thread. */
export interface WorkerThreadOptions {
  resourceLimits?: ResourceLimits | undefined;
}

/** A handshake threads.js accepts: what a worker that died answers in its place. */
const EMPTY_HANDSHAKE = { type: 'init', exposed: { type: 'module', methods: [] } };

interface Threads {
  spawn: (worker: unknown, options?: { timeout?: number }) => Promise<WorkerApi>;
  Transfer: (payload: unknown, transferables: Array<ArrayBuffer | MessagePort>) => unknown;
}
let threadsPromise: Promise<Threads> | undefined;

function loadThreads(): Promise<Threads> {
  threadsPromise ??= importWithoutSignalHandlers();
  return threadsPromise;
}

async function importWithoutSignalHandlers(): Promise<Threads> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = signals.map((signal) => new Set(process.listeners(signal)));
  const threads = await import('threads');
  signals.forEach((signal, i) => {
    for (const listener of process.listeners(signal)) {
      if (!before[i]!.has(listener) && String(listener).includes('terminateWorkersAndMaster')) {
        process.removeListener(signal, listener);
      }
    }
  });
  return { spawn: threads.spawn, Transfer: threads.Transfer };
}

type ThreadsListener = (event: { data: unknown }) => void;

/**
 * The EventTarget-like face threads' `spawn` expects of a worker, and a way
 * to hand its message listeners a message ourselves: Node removes a worker's
 * 'message' listeners when it exits, before anything of ours could.
 */
interface ThreadsFace {
  face: object;
  deliver: (data: unknown) => void;
}

function adapt(worker: NodeWorker): ThreadsFace {
  const mapped = new Map<ThreadsListener, (data: unknown) => void>();
  const messageListeners = new Set<ThreadsListener>();
  const face = {
    addEventListener(event: string, listener: ThreadsListener): void {
      const wrapped = (data: unknown): void => listener({ data });
      mapped.set(listener, wrapped);
      if (event === 'message') messageListeners.add(listener);
      worker.on(event, wrapped);
    },
    removeEventListener(event: string, listener: ThreadsListener): void {
      const wrapped = mapped.get(listener);
      mapped.delete(listener);
      messageListeners.delete(listener);
      if (wrapped !== undefined) worker.off(event, wrapped);
    },
    postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
      worker.postMessage(message, transfer);
    },
    terminate: () => worker.terminate(),
  };
  return { face, deliver: (data) => { for (const listener of [...messageListeners]) listener({ data }); } };
}

/**
 * One worker thread running worker.ts, with calls that fail instead of hang
 * when the thread dies, and that keep the process alive only while pending.
 */
interface BatchCall {
  resolve: (reply: BatchReply) => void;
  reject: (error: Error) => void;
}

/**
 * One worker thread running worker.ts. threads.js spawns it and carries
 * `init`; batches then travel on a MessagePort of their own, answered by id.
 * Measured with 300k small items through three stages, threads.js's call
 * path (an envelope, an observable and a listener per call) cost about three
 * times the clone itself; the port is what a hand-written worker would use.
 * Calls fail instead of hanging when the thread dies, and keep the process
 * alive only while pending.
 */
export class WorkerThread {
  private readonly worker: NodeWorker;
  private readonly batches: MessagePort;
  /** The worker's end of the batch port, until `init` hands it over. */
  private workerPort: MessagePort | undefined;
  private readonly calls = new Map<number, BatchCall>();
  private nextCall = 1;
  private api: WorkerApi | undefined;
  private readonly loadingThreads: Promise<Threads>;
  private threads: Threads | undefined;
  /** Messages that came before threads.js's spawn listened: its handshake, for one. */
  private early: unknown[] | undefined = [];
  /** Rejecters of threads.js calls in flight (spawn, init). */
  private readonly pending = new Set<(error: WorkerExit) => void>();
  private fatal: unknown;
  private exit: WorkerExit | undefined;
  private terminating = false;
  /** While threads.js's spawn waits for the handshake: how to answer it. */
  private handshaking: ThreadsFace | undefined;
  private readonly onExitListeners: Array<() => void> = [];

  private constructor(worker: NodeWorker, batches: MessagePort, loadingThreads: Promise<Threads>, workerPort: MessagePort) {
    this.worker = worker;
    this.batches = batches;
    this.loadingThreads = loadingThreads;
    this.workerPort = workerPort;
    // Always listening, so that no worker error reaches the host process as an
    // uncaughtException.
    worker.on('error', (error) => { this.fatal ??= error; });
    worker.on('message', (message: unknown) => {
      if (isFatal(message)) this.fatal = deserializeError(message[FATAL_MESSAGE]);
      this.early?.push(message);
    });
    worker.once('exit', (code) => this.afterExit(code));
    batches.on('message', (answer: BatchAnswer) => this.onAnswer(answer));
    batches.unref();
  }

  /**
   * Starts a thread and returns it at once, before its handshake, so that
   * its owner can terminate it at any point of its start-up. Throws if Node
   * refuses the worker's options.
   */
  static create(options: WorkerThreadOptions = {}): WorkerThread {
    // threads.js loads (16-17 ms on the main thread, measured) while the
    // worker starts, not before it: its handshake waits in `early` for spawn.
    const threads = loadThreads();
    const channel = new MessageChannel();
    const worker = new NodeWorker(WORKER_ENTRY, { resourceLimits: options.resourceLimits, execArgv: EXEC_ARGV });
    return new WorkerThread(worker, channel.port1, threads, channel.port2);
  }

  /** Waits for threads.js's handshake; rejects with a WorkerExit if the thread dies or is terminated first. */
  async handshake(): Promise<void> {
    let threads: Threads;
    try {
      threads = await this.track(this.loadingThreads);
    } catch (error) {
      // No spawn will ever listen: the thread must not run on, holding the process.
      if (this.exit === undefined) await this.terminate();
      throw error;
    }
    this.threads = threads;
    const adapted = adapt(this.worker);
    this.handshaking = adapted;
    try {
      // spawn listens at once (before its first await); what came before is handed to it.
      const spawning = threads.spawn(adapted.face);
      const early = this.early ?? [];
      this.early = undefined;
      for (const message of early) adapted.deliver(message);
      this.api = await this.track(spawning);
    } finally {
      this.handshaking = undefined;
    }
    this.worker.unref();
  }

  /** True once the thread has exited, for any reason. */
  get exited(): boolean {
    return this.exit !== undefined;
  }

  /** Calls `listener` once the thread has exited (at once if it has). */
  onExit(listener: () => void): void {
    if (this.exit !== undefined) listener();
    else this.onExitListeners.push(listener);
  }

  /** Hands the worker its batch port; it then answers batches of any program. */
  init(): Promise<void> {
    const api = this.api;
    const port = this.workerPort;
    if (api === undefined || port === undefined || this.threads === undefined) return Promise.reject(new Error('worker thread used before spawn, or initialised twice'));
    this.workerPort = undefined;
    this.busy();
    return this.track(api.init(this.threads.Transfer(port, [port]) as MessagePort)).finally(() => this.idle());
  }

  /**
   * Runs a batch of `program`, loading it first from `load` when given; the
   * listed buffers are moved to the worker, not copied. `timed`: read the
   * clock per item (see BatchRequest). Throws DataCloneError at once; rejects
   * with a {@link ProgramLoadError} when the program could not be loaded.
   */
  run(program: number, load: WorkerInit | undefined, inputs: unknown[], transfer: ArrayBuffer[] | undefined, timed: boolean): Promise<BatchReply> {
    if (this.exit !== undefined) return Promise.reject(this.exit);
    // postMessage with a detached ArrayBuffer in its transfer list returns
    // without an error and never delivers: the call would wait for ever.
    if (transfer?.some(isDetached) === true) return Promise.reject(detachedError());
    const id = this.nextCall++;
    const request: BatchRequest = { id, program, inputs, timed };
    if (load !== undefined) request.load = load;
    try {
      this.batches.postMessage(request, transfer);
    } catch (error) {
      // A DataCloneError: an input cannot be cloned, and nothing was sent.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.busy();
    return new Promise<BatchReply>((resolve, reject) => this.calls.set(id, { resolve, reject }));
  }

  /** Lets the worker drop a program that no stage uses any more. */
  forget(program: number): void {
    if (this.exit === undefined) this.batches.postMessage({ forget: program } satisfies ForgetRequest);
  }

  /** Stops the thread; calls still in flight fail with a WorkerExit. */
  async terminate(): Promise<void> {
    if (this.exit !== undefined) return;
    this.terminating = true;
    // Until 'exit' arrives nothing else may keep the event loop alive; an
    // unref'd worker would let the process end with terminate() unsettled.
    this.worker.ref();
    await this.worker.terminate();
  }

  private onAnswer(answer: BatchAnswer): void {
    const call = this.calls.get(answer.id);
    if (call === undefined) return;
    this.calls.delete(answer.id);
    this.idle();
    if ('reply' in answer) call.resolve(answer.reply);
    else if ('error' in answer) call.reject(deserializeError(answer.error));
    else call.reject(new ProgramLoadError(answer.loadFailed));
  }

  // A pending call must keep the process alive, or a program whose only work
  // is in this thread would exit with the call unanswered; an idle thread
  // must not, or a program would never exit by itself.
  private busy(): void {
    if (this.calls.size + this.pending.size > 0) return;
    this.worker.ref();
    this.batches.ref();
  }

  private idle(): void {
    if (this.calls.size + this.pending.size > 0 || this.exit !== undefined || this.terminating) return;
    this.worker.unref();
    this.batches.unref();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    if (this.exit !== undefined) return Promise.reject(this.exit);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      promise.then(
        (value) => { this.pending.delete(reject); resolve(value); },
        (error: Error) => { this.pending.delete(reject); reject(error); },
      );
    });
  }

  private afterExit(code: number): void {
    const cause = this.terminating ? new Error('worker thread terminated') : this.fatal;
    this.exit = new WorkerExit(code, cause);
    for (const reject of this.pending) reject(this.exit);
    this.pending.clear();
    for (const call of this.calls.values()) call.reject(this.exit);
    this.calls.clear();
    this.batches.close();
    this.workerPort?.close();
    this.endHandshake();
    for (const listener of this.onExitListeners.splice(0)) listener();
  }

  // threads.js's spawn clears its 10 s handshake timer only when a handshake
  // arrives; it has no way to be cancelled. A thread that died before its
  // handshake answers in its place with an empty module, so that the timer
  // goes and the process may exit as soon as its work is done. Our caller was
  // already failed by track(); what spawn resolves with is dropped.
  private endHandshake(): void {
    this.handshaking?.deliver(EMPTY_HANDSHAKE);
  }
}

/** A program's step failed to load on a thread; nothing of the batch ran. */
export class ProgramLoadError extends Error {
  readonly step: number;
  constructor(failure: LoadFailure) {
    super('a stage program failed to load', { cause: deserializeError(failure.error) });
    this.name = 'ProgramLoadError';
    this.step = failure.step;
  }
}

function detachedError(): Error {
  const error = new Error('an ArrayBuffer to move was already detached (moved elsewhere) and could not be sent');
  // Named as the clone's own failure, so that the items at fault fail alone as DATA_CLONE.
  error.name = 'DataCloneError';
  return error;
}

function isFatal(message: unknown): message is FatalMessage {
  return message !== null && typeof message === 'object' && FATAL_MESSAGE in message;
}
