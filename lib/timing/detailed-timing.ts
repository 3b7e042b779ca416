/**
 * When one item entered, started, finished and left one stage. All four are
 * seconds since the Unix epoch, read on whichever thread saw the moment, and
 * comparable across threads (see clock.ts). Durations are in seconds too, as
 * in the Python original.
 */
export class DetailedTiming {
  /** @internal Made by a stage as an item leaves it. */
  constructor(
    /** The stage received the item. */
    readonly queueEnterTime: number,
    /** The stage function was called with it, in the worker. */
    readonly processingStartTime: number,
    /** The stage function returned (or its promise settled), in the worker. */
    readonly processingEndTime: number,
    /** The stage passed the result downstream. */
    readonly queueExitTime: number,
    /** The `worker_threads` threadId of the thread that ran the function (0: the main thread). @default 0 */
    readonly threadId: number = 0,
  ) {}

  /** Seconds from entering the stage to the start of computation: queueing and the crossing to the worker. */
  get queueWaitTime(): number {
    return this.processingStartTime - this.queueEnterTime;
  }

  /** Seconds the stage function ran. */
  get computationTime(): number {
    return this.processingEndTime - this.processingStartTime;
  }

  /** Seconds from the end of computation to leaving the stage: the crossing back and waiting for order. */
  get transmissionTime(): number {
    return this.queueExitTime - this.processingEndTime;
  }

  /** Seconds the item spent in the stage. */
  get totalStageTime(): number {
    return this.queueExitTime - this.queueEnterTime;
  }
}
