import type { Readable } from 'node:stream';

/**
 * Reads a stream into a bounded queue that one async iterator drains. The
 * bound keeps backpressure; lifting it lets the stream drain completely with
 * nobody reading (what `stop()` needs: the original deadlocked there, bug 2).
 */
export class OutputBuffer<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  private bounded = true;
  private wake: (() => void) | null = null;
  private readonly done: Promise<void>;

  constructor(private readonly source: Readable, private readonly bound: number) {
    source.on('data', (chunk: T) => {
      this.items.push(chunk);
      if (this.bounded && this.items.length >= this.bound) this.pause();
      this.notify();
    });
    this.done = new Promise<void>((resolve, reject) => {
      source.once('end', () => { this.ended = true; this.notify(); resolve(); });
      source.once('error', (error: Error) => { this.failure = error; this.notify(); reject(error); });
      source.once('close', () => { this.ended = true; this.notify(); resolve(); });
    });
    // Whoever awaits `whenDone()` sees the failure; the iterator rethrows it.
    this.done.catch(() => undefined);
  }

  /** Items waiting to be read. */
  get length(): number {
    return this.items.length;
  }

  /** Resolves when the stream has ended or closed; rejects with its error. */
  whenDone(): Promise<void> {
    return this.done;
  }

  /** Lets the stream run to its end with nobody reading. */
  unbind(): void {
    this.bounded = false;
    this.resume();
  }

  async *drain(): AsyncGenerator<T, void, undefined> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift() as T;
        if (this.items.length < this.bound) this.resume();
        yield item;
      } else if (this.failure !== undefined) {
        throw this.failure;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => { this.wake = resolve; });
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private pause(): void {
    if (!this.paused) this.source.pause();
    this.paused = true;
  }

  private resume(): void {
    if (this.paused) this.source.resume();
    this.paused = false;
  }
}
