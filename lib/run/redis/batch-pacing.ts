// How big a remote stage's batches are and how many are out at once, learnt
// from the replies: which workers answered lately, with how many threads,
// and how long an item takes.

import { nowSeconds } from '../../timing/clock.js';

// Batches aim at a few ms of work, as on threads: long enough to amortise the
// five Redis commands a batch costs, short enough that a worker which fetched
// one does not sit on work another could do (measured: a worker that fetched
// 64 slow items kept them all while the other idled).
const TARGET_BATCH_SECONDS = 0.004;
const FIRST_BATCH_LIMIT = 16;
const MAX_BATCH = 4096;
// Batches out at once: two per worker thread seen lately (one running, one
// waiting), and a few before any worker has answered.
const MIN_WINDOW = 4;
const WORKER_SEEN_SECONDS = 10;

export class BatchPacing {
  private secondsPerItem = 0;
  /** Worker consumer name: its thread count and when it last answered (seconds). */
  private readonly workers = new Map<string, { threads: number; seenAt: number }>();

  constructor(private readonly highWaterMark: number) {}

  /** A worker answered at `seenAt` (this clock's seconds). */
  seen(worker: string, threads: number, seenAt: number): void {
    this.workers.set(worker, { threads, seenAt });
  }

  batchLimit(): number {
    const byTime = this.secondsPerItem === 0 ? FIRST_BATCH_LIMIT : Math.floor(TARGET_BATCH_SECONDS / this.secondsPerItem);
    // Leave items for the other batches of the window, so that every worker gets some.
    const byBound = Math.floor(this.highWaterMark / this.window());
    return Math.max(1, Math.min(MAX_BATCH, byTime, byBound));
  }

  /** Threads of every worker process that answered this stage. */
  parallelism(): number {
    let threads = 0;
    for (const worker of this.workers.values()) threads += worker.threads;
    return threads;
  }

  /** Batches out at once: two per worker thread that answered lately, at least MIN_WINDOW. */
  window(): number {
    const since = nowSeconds() - WORKER_SEEN_SECONDS;
    let threads = 0;
    for (const worker of this.workers.values()) if (worker.seenAt >= since) threads += worker.threads;
    return Math.max(MIN_WINDOW, 2 * threads);
  }

  /** A batch's start and end times per item: the time per item, smoothed. */
  learn(times: Float64Array): void {
    const count = times.length / 2;
    if (count === 0) return;
    const perItem = Math.max(1e-9, (times[times.length - 1]! - times[0]!) / count);
    this.secondsPerItem = this.secondsPerItem === 0 ? perItem : this.secondsPerItem * 0.75 + perItem * 0.25;
  }
}
