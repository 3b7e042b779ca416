// One thread of a pool and what the pool knows of it: batches in flight,
// which programs it was sent and which it has loaded, and its idle timer.

import type { ResourceLimits } from 'node:worker_threads';
import { WorkerThread } from './worker-thread.js';

export class PoolThread {
  /** Resolves once the thread can take batches; rejects if it could not start. */
  readonly ready: Promise<WorkerThread>;
  inFlight = 0;
  /** Running a batch that must be alone on its thread. */
  alone = false;
  /** Takes no new batches until it is empty: a batch that must run alone waits for it. */
  draining = false;
  /** Exited, failed to start, or ended by the pool. */
  gone = false;
  /** Programs sent to it (loaded or loading). */
  readonly sent = new Set<number>();
  /** Programs that have answered a batch here. */
  readonly loaded = new Set<number>();
  private thread: WorkerThread | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  /** @param onGone called once when the thread exits or fails to start */
  constructor(resourceLimits: ResourceLimits | undefined, private readonly onGone: (thread: PoolThread) => void) {
    this.ready = this.spawn(resourceLimits);
    // A thread nobody has used yet may fail to start with nobody waiting.
    this.ready.catch(() => undefined);
  }

  /** Ends the thread after `ms` without batches; a new batch cancels it. */
  idleFor(ms: number): void {
    this.stillBusy();
    this.idleTimer = setTimeout(() => void this.terminate(), ms);
    // An idle pool never keeps the process alive.
    this.idleTimer.unref();
  }

  stillBusy(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Ends the thread, at any point of its start-up; its calls in flight fail with a WorkerExit. */
  async terminate(): Promise<void> {
    this.stillBusy();
    this.leave();
    await this.thread?.terminate();
  }

  private async spawn(resourceLimits: ResourceLimits | undefined): Promise<WorkerThread> {
    try {
      const thread = WorkerThread.create({ resourceLimits });
      this.thread = thread;
      thread.onExit(() => this.leave());
      await thread.handshake();
      await thread.init();
      return thread;
    } catch (error) {
      this.leave();
      throw error;
    }
  }

  private leave(): void {
    if (this.gone) return;
    this.gone = true;
    this.stillBusy();
    this.onGone(this);
  }
}
