// A pool of worker threads that any number of stages share. Threads start
// on demand up to the pool's size and end after `idleTimeout` without work;
// any thread runs any stage's batches, loading a stage's program the first
// time it meets it. The scheduling rule (why: issue 16, pipelines per request):
// - a thread holds at most MAX_IN_FLIGHT batches, and a batch that must run
//   alone (a death's suspect, a stage with `timeout`) holds a thread by itself;
// - a stage's batches sit on at most `concurrency` threads at once;
// - when a batch ends, the slot it frees goes first to the stages that asked
//   for room and found none, in the order they asked, one batch each, before
//   the stage whose batch ended may send again. A 1-item request that arrives
//   while a large pipeline runs thus waits for one batch (~4 ms of work) per
//   thread, not for the pipeline.

import type { ResourceLimits } from 'node:worker_threads';
import { StageError } from '../errors.js';
import { WorkerExit } from './executor.js';
import { PoolThread } from './pool-thread.js';
import { Programs } from './program.js';
import type { Program } from './program.js';
import type { BatchReply } from './protocol.js';

// Two batches in flight per thread hide the round trip: the worker starts the
// next batch while the reply to the last one is crossing back.
const MAX_IN_FLIGHT = 2;

/** A stage (an executor) as the pool sees it. */
export interface PoolClient {
  /** Its name, for errors and busy time. */
  readonly name: string;
  /** The most threads its batches may sit on at once. */
  readonly concurrency: number;
  /** Threads its batches sit on now, with how many each. */
  readonly using: Map<PoolThread, number>;
  /** Room it asked for and did not get has opened. */
  wake(): void;
  /**
   * Its program's id when its batches are known to be short, so that one
   * waits less behind a batch on a thread that has the program than on a
   * thread still starting or loading it; undefined while that is not known.
   */
  loadedFirst?(): number | undefined;
  /**
   * Has the threads it may use start and load its program in the background,
   * with no items: work known short waits for a thread that has the program
   * rather than go to one that must load it first.
   */
  warmUp?(): void;
  /**
   * Its items are cheaper than crossing them: its batches go to the busiest
   * thread with room rather than the least busy (see PACK_ITEM_SECONDS).
   */
  packs?(): boolean;
}

export interface ThreadPoolOptions {
  threads: number;
  idleTimeoutMs: number;
  resourceLimits: ResourceLimits | undefined;
}

/** What a pool is doing, for dashboards and tests. */
export interface WorkerPoolStats {
  /** Threads started or running. */
  threads: number;
  /** Threads with a batch in flight. */
  busyThreads: number;
  /** Stages with a batch ready and no thread to take it. */
  waitingStages: number;
  /** Seconds of computation per stage name, since the pool was made. */
  busySeconds: Record<string, number>;
  /**
   * Programs (a stage's module or function, with its context) sent to a
   * thread to load, since the pool was made: equal stages share one, so a
   * server that builds a pipeline per request should see this stop at about
   * stages x threads.
   */
  programLoads: number;
}

/** What `pick` answers when the batch should go on a thread not yet started. */
const NEW_THREAD = 'new';

export class ThreadPool {
  readonly size: number;
  private readonly threads: PoolThread[] = [];
  private readonly waiters = new Set<PoolClient>();
  private granted: PoolClient | undefined;
  private grantUsed = false;
  private pumping = false;
  private closedFlag = false;
  private readonly busy = new Map<string, number>();
  private programLoads = 0;
  readonly programs = new Programs((program) => this.forget(program));

  constructor(private readonly options: ThreadPoolOptions) {
    this.size = options.threads;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get stats(): WorkerPoolStats {
    const live = this.threads.filter((t) => !t.gone);
    return {
      threads: live.length,
      busyThreads: live.filter((t) => t.inFlight > 0).length,
      waitingStages: this.waiters.size,
      busySeconds: Object.fromEntries(this.busy),
      programLoads: this.programLoads,
    };
  }

  /**
   * Whether `client` may send a batch now. When it may not for want of
   * threads (not because of its own `concurrency`), it is woken when room opens.
   */
  hasRoom(client: PoolClient, alone: boolean): boolean {
    if (this.closedFlag) return true;
    if (client === this.granted) {
      // A woken stage takes one batch before those still waiting.
      if (!this.grantUsed) return this.pick(client, alone) !== undefined || this.wait(client, alone);
      if (this.waiters.size > 0) return this.wait(client, alone);
    }
    return this.pick(client, alone) !== undefined || this.wait(client, alone);
  }

  /** Takes a thread for one batch of `client`; `give` it back when the batch is done. */
  take(client: PoolClient, alone: boolean): PoolThread {
    if (this.closedFlag) throw StageError.poolClosed(client.name);
    if (client === this.granted) this.grantUsed = true;
    let chosen = this.pick(client, alone);
    if (chosen === undefined) throw new Error('ThreadPool.take() called without room');
    if (chosen === NEW_THREAD) chosen = this.startThread();
    chosen.stillBusy();
    chosen.inFlight++;
    if (alone) chosen.alone = true;
    client.using.set(chosen, (client.using.get(chosen) ?? 0) + 1);
    return chosen;
  }

  /**
   * Takes a thread for a stage's start (one empty batch that loads its
   * program), outside the order and the limits: a start must not wait for
   * a long pipeline's batches. A thread that has the program on its way is preferred.
   */
  takeForLoad(client: PoolClient, program: Program): PoolThread {
    if (this.closedFlag) throw StageError.poolClosed(client.name);
    let best: PoolThread | undefined;
    for (const thread of this.threads) {
      if (thread.gone) continue;
      const better = best === undefined || (thread.alone !== best.alone ? !thread.alone : thread.sent.has(program.id) !== best.sent.has(program.id)
        ? thread.sent.has(program.id) : thread.inFlight < best.inFlight);
      if (better) best = thread;
    }
    if (best === undefined || (best.inFlight > 0 && !best.sent.has(program.id) && this.liveThreads() < this.size)) best = this.startThread();
    best.stillBusy();
    best.inFlight++;
    client.using.set(best, (client.using.get(best) ?? 0) + 1);
    return best;
  }

  /**
   * Threads that a stage about to run `program` on up to `count` threads
   * may load it on ahead of its batches: started now where the pool has
   * fewer, and not sent the program yet. Not taken: while the stage's cost
   * is unknown a thread loading counts as free, so that a batch goes to it
   * rather than behind another (the worker runs it once the program is in,
   * as it would have to anyway); work known short goes first to threads that
   * have the program (`pick`). Call `warmed` once the load settles.
   */
  threadsToWarm(program: Program, count: number): PoolThread[] {
    if (this.closedFlag) return [];
    const want = Math.min(count, this.size);
    while (this.liveThreads() < want) this.startThread();
    const chosen = this.threads.filter((t) => !t.gone && !t.alone && !t.draining && !t.sent.has(program.id)).slice(0, want);
    for (const thread of chosen) thread.stillBusy();
    return chosen;
  }

  /** A thread's load from `threadsToWarm` settled: idle, it may end in time. */
  warmed(thread: PoolThread): void {
    if (thread.inFlight === 0 && !thread.gone) thread.idleFor(this.options.idleTimeoutMs);
    // Stages that waited for a thread with their program may use this one now.
    this.pump();
  }

  /** A batch taken with `take` is done; its slot goes to those waiting first. */
  give(thread: PoolThread, client: PoolClient, alone: boolean): void {
    thread.inFlight--;
    if (alone) thread.alone = false;
    const count = client.using.get(thread)! - 1;
    if (count === 0) client.using.delete(thread);
    else client.using.set(thread, count);
    if (thread.inFlight === 0 && !thread.gone) {
      thread.draining = false;
      thread.idleFor(this.options.idleTimeoutMs);
    }
    this.pump();
  }

  /**
   * Runs one batch of `program` on a thread taken for it, sending the
   * program first if the thread has not had it. Rejects with StageError
   * `LOAD_FAILED` when the thread cannot start, POOL_CLOSED once the pool is
   * closed, a ProgramLoadError, a WorkerExit, or a DataCloneError.
   */
  async send(
    thread: PoolThread, client: PoolClient, program: Program, inputs: unknown[], transfer: ArrayBuffer[] | undefined, timed: boolean,
  ): Promise<BatchReply> {
    let worker;
    try {
      worker = await thread.ready;
    } catch (error) {
      if (this.closedFlag) throw StageError.poolClosed(client.name);
      throw StageError.loadFailed(client.name, 'a worker thread', error);
    }
    const load = thread.sent.has(program.id) ? undefined : program.init;
    if (load !== undefined) this.programLoads++;
    thread.sent.add(program.id);
    let reply: BatchReply;
    try {
      reply = await worker.run(program.id, load, inputs, transfer, timed);
    } catch (error) {
      if (error instanceof WorkerExit && this.closedFlag) throw StageError.poolClosed(client.name);
      // Not loaded (a load error, or a DataCloneError before anything was
      // sent): the next batch sends the program again.
      if (!thread.loaded.has(program.id)) thread.sent.delete(program.id);
      throw error;
    }
    thread.loaded.add(program.id);
    const { times } = reply;
    if (times.length > 0) this.busy.set(client.name, (this.busy.get(client.name) ?? 0) + (times[times.length - 1]! - times[0]!));
    return reply;
  }

  /** Whether some running thread has loaded `program`. */
  hasLoaded(program: Program): boolean {
    return this.threads.some((t) => !t.gone && t.loaded.has(program.id));
  }

  /** A stage stops asking: it is closed. */
  leave(client: PoolClient): void {
    this.waiters.delete(client);
  }

  /** Ends every thread; batches in flight and stages still using the pool fail with POOL_CLOSED. */
  async close(): Promise<void> {
    this.closedFlag = true;
    const threads = this.threads.splice(0);
    // Those waiting learn it from their next run(), which fails.
    this.pump();
    await Promise.all(threads.map((t) => t.terminate()));
  }

  /** Ends `thread` (a batch outran its time limit); its other batches, if any, fail with a WorkerExit. */
  terminate(thread: PoolThread): Promise<void> {
    return thread.terminate();
  }

  /** The thread for a batch of `client` now, NEW_THREAD to start one, or undefined when there is no room. */
  private pick(client: PoolClient, alone: boolean): PoolThread | typeof NEW_THREAD | undefined {
    const mayAdd = client.using.size < client.concurrency;
    // A thread starts and loads a program in 30-80 ms (2 cores, Node 20);
    // a short batch ahead on a thread that has it is done in a few. Items
    // ordered behind a batch sent to a loading thread waited for the load: a
    // p99 of 14 ms at one item per ms after the pool's threads had ended idle.
    const loaded = client.loadedFirst?.();
    const pack = !alone && (client.packs?.() ?? false);
    let best: PoolThread | undefined;
    let bestRank = Infinity;
    for (const thread of this.threads) {
      if (thread.gone || thread.alone || (!mayAdd && !client.using.has(thread))) continue;
      const open = alone ? thread.inFlight === 0 : !thread.draining && thread.inFlight < MAX_IN_FLIGHT;
      if (!open) continue;
      const busy = pack ? MAX_IN_FLIGHT - 1 - thread.inFlight : thread.inFlight;
      const rank = loaded === undefined || thread.loaded.has(loaded) ? busy : busy + MAX_IN_FLIGHT;
      if (rank < bestRank) {
        best = thread;
        bestRank = rank;
      }
    }
    if (loaded !== undefined && !(best?.loaded.has(loaded) ?? false) && this.hasLoadedThread(client, loaded, mayAdd)) {
      // Known-short work whose threads with the program are all full waits
      // for one of them (a few ms) rather than go to a thread that must first
      // start or load it (35-50 ms, with every ordered item behind): after the
      // pool's threads had ended idle, the items of a fresh stage that found
      // its one loaded thread full went to the thread warming beside it (p99
      // 6.3 ms at one item per ms, bench scenario 5). More threads still come:
      // they warm up in the background and take batches once loaded.
      client.warmUp?.();
      return undefined;
    }
    // Spread before stacking: a batch goes on a new thread rather than behind
    // another, unless the one ahead is known short and its thread has the program.
    const stack = best !== undefined && (best.inFlight === 0 || (loaded !== undefined && best.loaded.has(loaded)));
    if (!stack && mayAdd && this.liveThreads() < this.size) return NEW_THREAD;
    return best;
  }

  /** Whether a live thread the client may use has loaded the program. */
  private hasLoadedThread(client: PoolClient, program: number, mayAdd: boolean): boolean {
    return this.threads.some((t) => !t.gone && t.loaded.has(program) && (mayAdd || client.using.has(t)));
  }

  /** Remembers that `client` wants room, unless its own `concurrency` is what stops it; answers false. */
  private wait(client: PoolClient, alone: boolean): false {
    const ownLimit = client.using.size >= client.concurrency &&
      [...client.using.keys()].every((t) => t.gone || t.alone || (alone ? t.inFlight > 0 : t.draining || t.inFlight >= MAX_IN_FLIGHT));
    if (ownLimit && this.wouldFitIgnoringOwnLimit(alone)) return false;
    this.waiters.add(client);
    // A batch that must run alone needs an empty thread; with others always
    // busy it could wait for ever, so the least busy thread takes no more until it is empty.
    if (alone && !this.threads.some((t) => t.draining && !t.gone)) {
      let least: PoolThread | undefined;
      for (const t of this.threads) if (!t.gone && !t.alone && (least === undefined || t.inFlight < least.inFlight)) least = t;
      if (least !== undefined) least.draining = true;
    }
    return false;
  }

  private wouldFitIgnoringOwnLimit(alone: boolean): boolean {
    if (this.liveThreads() < this.size) return true;
    return this.threads.some((t) => !t.gone && !t.alone && (alone ? t.inFlight === 0 : !t.draining && t.inFlight < MAX_IN_FLIGHT));
  }

  /** Wakes the stages waiting for room, in the order they asked, one batch each. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let rounds = this.waiters.size;
      // Once no thread can take a batch, the others would only ask again and
      // queue up behind: waking them all would cost a pass over every waiting
      // stage per batch (64 per-request pipelines: 64 wake-ups per reply).
      while (rounds-- > 0 && this.waiters.size > 0 && (this.closedFlag || this.anyRoom())) {
        const client = this.waiters.values().next().value as PoolClient;
        this.waiters.delete(client);
        this.granted = client;
        this.grantUsed = false;
        client.wake();
      }
    } finally {
      this.granted = undefined;
      this.pumping = false;
    }
  }

  /** Whether some batch could start now: a thread with a free slot, an empty one, or room for a new one. */
  private anyRoom(): boolean {
    if (this.liveThreads() < this.size) return true;
    return this.threads.some((t) => !t.gone && !t.alone && (t.inFlight === 0 || (!t.draining && t.inFlight < MAX_IN_FLIGHT)));
  }

  private startThread(): PoolThread {
    const thread = new PoolThread(this.options.resourceLimits, (gone) => this.onThreadGone(gone));
    this.threads.push(thread);
    return thread;
  }

  private onThreadGone(thread: PoolThread): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    // Its room is now room for a new thread.
    if (!this.closedFlag) queueMicrotask(() => this.pump());
  }

  private liveThreads(): number {
    let count = 0;
    for (const thread of this.threads) if (!thread.gone) count++;
    return count;
  }

  private forget(program: Program): void {
    for (const thread of this.threads) {
      if (!thread.sent.delete(program.id)) continue;
      thread.loaded.delete(program.id);
      void thread.ready.then((worker) => worker.forget(program.id), () => undefined);
    }
  }
}
