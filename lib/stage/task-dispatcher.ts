// The middle layer of a Stage: tasks from acceptance to emission. Pending
// tasks go to the executor in batches as it has room; replies fill them in;
// a worker's death re-runs its batch's items alone to find the culprit; and
// settled tasks leave in arrival order (or as they settle, when unordered).

import { StageError } from '../errors.js';
import { BatchTimeout, WorkerExit } from '../run/executor.js';
import type { Executor, RunResult } from '../run/executor.js';
import { batchSize } from './batch-cut.js';
import { applyReply } from './reply.js';
import type { StagePlan } from './stage-plan.js';
import { TaskEmitter } from './task-emitter.js';
import { TaskState, anyTimed, createTask, inputsOf } from './task.js';
import type { Task } from './task.js';

export abstract class TaskDispatcher extends TaskEmitter {
  protected readonly executor: Executor;
  protected pending: Task[] = [];
  /**
   * Tasks in arrival order from `orderHead` on, until emitted. An unordered
   * stage keeps here only the settled tasks that wait while the output is held.
   */
  protected order: Array<Task | undefined> = [];
  protected orderHead = 0;
  private arrivals = 0;
  /** This stage's batches sent and not yet answered. */
  private inFlight = 0;
  private dispatchQueued = false;
  private readonly dispatchQueuedBound = (): void => {
    this.dispatchQueued = false;
    this.dispatch();
  };

  constructor(plan: StagePlan) {
    super(plan);
    this.executor = plan.executor;
    // On a shared pool, room also opens when other stages' batches end.
    this.executor.onRoom?.(() => this.dispatch());
  }

  /** Called after tasks settled and were emitted: the stream side may let more in, or end. */
  protected abstract afterSettle(): void;

  /** Takes one chunk in as a task and sends what can go. */
  protected enqueue(chunk: unknown): void {
    const task = createTask(chunk, this.arrivals++);
    this.stats.received++;
    if (++this.stats.itemsHeld > this.stats.maxItemsHeld) this.stats.maxItemsHeld = this.stats.itemsHeld;
    if (this.settings.ordered) this.order.push(task);
    if (task.state === TaskState.PassThrough) this.settle([task]);
    else this.pending.push(task);
    // While a batch of ours is in flight, an item waits for the rest of its
    // burst (the writes of this same tick, as a stream flows them) and
    // crosses with it: a reply frees room for many writes at once, and sent
    // one by one as each found a free slot they made batches of a few.
    if (this.inFlight > 0) this.dispatchSoon();
    else this.dispatch();
  }

  private dispatchSoon(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(this.dispatchQueuedBound);
  }

  /** Forgets every task: the stage is being destroyed. */
  protected dropTasks(): void {
    this.pending = [];
    this.order = [];
    this.orderHead = 0;
  }

  private dispatch(): void {
    while (this.pending.length > 0 && !this.torn) {
      // Suspects of a worker's death are at the front; each runs alone on its
      // worker, so that a second death names the culprit.
      const alone = this.pending[0]!.alone;
      // With a batch of ours in flight, a few cheap items wait for its
      // reply, or for enough company, rather than cross alone (coalesceAt).
      if (!alone && this.inFlight > 0 && this.pending.length < this.coalesceAt()) return;
      if (!this.executor.hasRoom(alone)) return;
      const limit = alone ? 1 : batchSize(this.pending, Math.min(this.executor.batchLimit(), this.batchCap()));
      let batch: Task[];
      if (this.pending.length <= limit) {
        batch = this.pending;
        this.pending = [];
      } else {
        batch = this.pending.splice(0, limit);
      }
      const inputs = inputsOf(batch);
      this.inFlight++;
      this.executor.run(inputs, alone, anyTimed(batch)).then(
        (reply) => { this.inFlight--; this.onReply(batch, reply, inputs); },
        (error: unknown) => { this.inFlight--; this.onBatchError(batch, error, inputs); },
      );
    }
  }

  /**
   * How many pending items are worth a batch of their own while another of
   * ours is in flight (Nagle's rule). Sending every item as soon as a slot
   * was free cut a fused chain of tiny items to ~27 items a batch (bound
   * 192, two threads of two slots) against 64 for one hand-written worker,
   * and the crossings' fixed cost made the difference (main thread 1.6 us
   * an item against 0.84). The executor says what its items are worth
   * (coalesceLimit); a third of the bound caps it (one batch waiting, two
   * in flight), so that the writer is not held while too few items wait to
   * fill a batch.
   */
  private coalesceAt(): number {
    const limit = this.executor.coalesceLimit?.() ?? 1;
    return limit <= 1 ? 1 : Math.min(limit, Math.max(1, Math.floor(this.settings.highWaterMark / 3)));
  }

  /**
   * A batch takes at most half the bound, so that a second can cross while
   * the first runs. Uncapped, a fused chain of tiny items at bound 192 sent
   * one batch of 191 and one of 1: the worker ran while the main thread
   * waited, then the main thread took the results while the worker waited
   * (both a third idle; 390k items/s against 455k capped, 2 cores).
   */
  private batchCap(): number {
    return Math.max(1, Math.ceil(this.settings.highWaterMark / 2));
  }

  private onReply(batch: Task[], reply: RunResult, inputs: unknown[]): void {
    if (this.torn) return;
    this.takeBack(batch, inputs);
    const fatal = applyReply(batch, reply, this.replyContext);
    if (fatal !== undefined) this.destroy(fatal);
    else this.settle(batch);
  }

  private onBatchError(batch: Task[], error: unknown, inputs: unknown[]): void {
    if (this.destroyed) return;
    this.takeBack(batch, inputs);
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

  // With `transfer`, the executor puts the bytes of items it must run again
  // or report back into the inputs array (a top-level Buffer as a new one).
  private takeBack(batch: Task[], inputs: unknown[]): void {
    if (!this.settings.transfer) return;
    for (let i = 0; i < batch.length; i++) batch[i]!.data = inputs[i];
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
    this.exitClock = 0;
    if (this.settings.ordered) this.finishInOrder();
    else this.finishAsSettled(batch);
    this.exitClock = 0;
    this.publishCounts();
    if (this.torn) return;
    this.dispatch();
    this.afterSettle();
  }

  protected resumeEmission(): void {
    this.exitClock = 0;
    this.finishInOrder();
    this.exitClock = 0;
    this.publishCounts();
    if (this.torn) return;
    this.dispatch();
    this.afterSettle();
  }

  private finishAsSettled(batch: Task[]): void {
    for (let i = 0; i < batch.length && !this.torn; i++) {
      if (this.holding) this.order.push(batch[i]);
      else this.finish(batch[i]!);
    }
  }

  // A moving head instead of shift(): no memmove per item; the array is
  // compacted once its emitted front outgrows what is still waiting. Each
  // slot is cleared as its task leaves: the front can hold a thousand tasks,
  // and their inputs (1 MB Buffers took an ordered stage to 1.3 GB of RSS).
  private finishInOrder(): void {
    const order = this.order;
    // torn first: a task's leaving can destroy the stage, which empties the
    // list and puts the head back to a slot already cleared.
    while (!this.torn && !this.holding && this.orderHead < order.length && order[this.orderHead]!.state !== TaskState.Pending) {
      const task = order[this.orderHead]!;
      order[this.orderHead++] = undefined;
      this.finish(task);
    }
    if (this.torn) return;
    if (this.orderHead === order.length) {
      order.length = 0;
      this.orderHead = 0;
    } else if (this.orderHead > 1024 && this.orderHead * 2 > order.length) {
      this.order = order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }
}
