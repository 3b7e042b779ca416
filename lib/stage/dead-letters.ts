// A dead-letter Writable given as `onError`: where failed items must not be
// lost. Letters are written with the stream's own backpressure (a full stream
// holds the stage's emission, see TaskEmitter.hold), each write's callback is
// counted, so that a stage ends only once its letters are written, and a
// failure of the stream fails the stages that write to it, never silently.

import type { Writable } from 'node:stream';

/** What a stage writes to its dead-letter stream for each failed item. */
export interface DeadLetter {
  error: unknown;
  /** The failed item's data. */
  item: unknown;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The letters in flight to one Writable, shared by every stage that writes to it. */
export class DeadLetters {
  /** Letters handed to the stream whose write callback has not come yet. */
  inFlight = 0;
  /** Letters whose write failed (counted from the first failure on). */
  lost = 0;
  /** The stream's first failure: its write callback's error or its 'error' event. */
  failure: Error | undefined;
  private waiters: Waiter[] = [];
  private listening = false;
  private readonly onWritten = (error?: Error | null): void => this.written(error ?? undefined);
  private readonly onError = (error: Error): void => {
    this.failure ??= error;
    if (this.inFlight === 0) this.stopListening();
  };
  // A write in progress when the stream is destroyed never calls back.
  private readonly onClose = (): void => {
    this.stopListening();
    if (this.inFlight === 0) return;
    this.failure ??= this.stream.errored ?? new Error('the stream closed before its letters were written');
    this.lost += this.inFlight;
    this.inFlight = 0;
    this.settleWaiters();
  };

  constructor(readonly stream: Writable) {}

  /** Why no letter can be written now, or undefined when one can. */
  unwritable(): string | undefined {
    const stream = this.stream;
    if (this.failure !== undefined || stream.errored !== null) return 'failed';
    if (stream.writableEnded) return 'has ended';
    if (stream.destroyed) return 'was destroyed';
    return undefined;
  }

  /** Writes one letter; false when the stream is full: wait for `whenWritten()` before the next. */
  write(letter: DeadLetter): boolean {
    // Listening while letters are in flight turns the stream's 'error' into
    // this stage's failure instead of an uncaught exception; once every
    // letter is written, an error of the stream is its owner's business again.
    if (!this.listening) {
      this.listening = true;
      this.stream.on('error', this.onError);
      this.stream.on('close', this.onClose);
    }
    this.inFlight++;
    try {
      return this.stream.write(letter, this.onWritten);
    } catch (error) {
      this.inFlight--; // refused at once: it never calls back
      throw error;
    }
  }

  /**
   * Resolves once every letter in flight is written; rejects with the
   * stream's failure if one was not. (Waiting for all rather than for
   * 'drain': a stream that ends meanwhile never emits 'drain', and when the
   * stage is its only writer the two come at the same time.)
   */
  whenWritten(): Promise<void> {
    if (this.inFlight === 0) return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private written(error: Error | undefined): void {
    if (this.inFlight === 0) return; // counted as lost when the stream closed
    this.inFlight--;
    if (error !== undefined) {
      this.failure ??= error;
      this.lost++;
    }
    if (this.inFlight > 0) return;
    // After a failed write the stream emits 'error' on a later tick: keep
    // listening until it has.
    if (this.failure === undefined || this.stream.errored === null || this.stream.closed) this.stopListening();
    this.settleWaiters();
  }

  private settleWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (this.failure === undefined) waiter.resolve();
      else waiter.reject(this.failure);
    }
  }

  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
  }
}

const registry = new WeakMap<Writable, DeadLetters>();

/** The one DeadLetters of a stream: stages that share a stream share its count. */
export function deadLettersOf(stream: Writable): DeadLetters {
  let letters = registry.get(stream);
  if (letters === undefined) {
    letters = new DeadLetters(stream);
    registry.set(stream, letters);
  }
  return letters;
}
