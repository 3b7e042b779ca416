// The producer's batches sent and not yet answered, by batch id. They are
// kept, payload and all, until their reply arrives: a server that restarted
// without its data, or a failover that lost the last writes, gets every one
// of them again (resend), and a batch answered twice (its first answer came
// after all, or a worker thought dead answered late) keeps its first answer.

import type { RunResult } from '../executor.js';

export interface Unanswered {
  resolve: (reply: RunResult) => void;
  reject: (error: unknown) => void;
  /** The request entry's id (undefined if XADD failed or is still to be sent). */
  entryId: Promise<string | undefined>;
  /** A suspect of a worker's death: it runs with nothing else of this run out. */
  alone: boolean;
  /** Kept until answered: a server that restarted without its data gets it again. */
  payload: Buffer;
}

export class UnansweredBatches {
  private readonly byBatch = new Map<number, Unanswered>();
  private nextBatch = 0;
  private aloneOut = 0;
  /** Replies to batches already answered (a worker that was thought dead), dropped. */
  duplicates = 0;

  /** Batches out. */
  get size(): number {
    return this.byBatch.size;
  }

  /** Suspects out: while there is one, nothing else of the run is sent. */
  get suspects(): number {
    return this.aloneOut;
  }

  /** A new batch, its id and the promise of its reply. */
  add(alone: boolean, payload: Buffer): { batch: number; waiting: Unanswered; reply: Promise<RunResult> } {
    const batch = this.nextBatch++;
    let waiting!: Unanswered;
    const reply = new Promise<RunResult>((resolve, reject) => {
      waiting = { resolve, reject, entryId: Promise.resolve(undefined), alone, payload };
    });
    this.byBatch.set(batch, waiting);
    if (alone) this.aloneOut++;
    return { batch, waiting, reply };
  }

  /**
   * The batch a reply answers, taken out; undefined when it was answered
   * already (at-least-once delivery: the first answer counts) and counted
   * as a duplicate.
   */
  answer(batch: number): Unanswered | undefined {
    const waiting = this.byBatch.get(batch);
    if (waiting === undefined) {
      this.duplicates++;
      return undefined;
    }
    this.byBatch.delete(batch);
    if (waiting.alone) this.aloneOut--;
    return waiting;
  }

  /** Every batch out, for sending again after a reconnect. */
  entries(): Array<[number, Unanswered]> {
    return [...this.byBatch.entries()];
  }

  /** Takes every batch out, rejected with `error`; returns them (their entry ids are still wanted). */
  rejectAll(error: unknown): Unanswered[] {
    const waiting = [...this.byBatch.values()];
    this.byBatch.clear();
    this.aloneOut = 0;
    for (const batch of waiting) batch.reject(error);
    return waiting;
  }
}
