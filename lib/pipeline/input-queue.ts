// The input side of AsyncTaskPipeline: writes wait their turn here, in call
// order, and an item is written to the pipeline only when it has room. So a
// resolved write means the item entered, and a rejected one that it never did
// (writing first and waiting for 'drain' after, as Node's write() invites,
// let an item in whose write then rejected: a caller who retried it got it
// twice).
//
// A write that waits for room while nothing reads the output would wait for
// ever; in a script the event loop then empties and Node exits silently
// (code 13: the quick-start pattern of the Python original, fed more than
// the pipeline holds). At 'beforeExit' such writes are rejected with a
// message that says what to do. That moment has no false alarms: nothing
// else could ever make room. A server's loop never empties, so there a
// waiting write just waits for a reader, which is ordinary backpressure; a
// warning on a timer would fire on every slow reader, so there is none.

import type { Writable } from 'node:stream';
import { StageError } from '../errors.js';

interface Writer {
  data: unknown;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What the queue needs to know of its pipeline to explain a write that can never enter. */
export interface StuckWriteContext {
  /** Whether something reads the output now. */
  reading(): boolean;
  maxQueueSize: number;
}

export class InputQueue {
  /** Items that entered the pipeline. */
  entered = 0;
  private writers: Writer[] = [];
  private endWhenEmpty = false;
  private readonly pump = (): void => this.letIn();

  constructor(private readonly target: Writable, private readonly context: StuckWriteContext) {
    target.on('drain', this.pump);
  }

  /** Writes waiting for room. */
  get waiting(): number {
    return this.writers.length;
  }

  /** Resolves once `data` has entered the pipeline. */
  write(data: unknown): Promise<void> {
    if (this.writers.length === 0 && !this.target.writableNeedDrain) {
      this.enter(data);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      if (this.writers.length === 0) watch(this);
      this.writers.push({ data, resolve, reject });
    });
  }

  /** Ends the target once the writes waiting now have entered. */
  end(): void {
    if (this.writers.length === 0) this.target.end();
    else this.endWhenEmpty = true;
  }

  /** Rejects every waiting write: none of them entered. */
  rejectAll(error: Error): void {
    const writers = this.writers;
    this.writers = [];
    this.endWhenEmpty = false;
    unwatch(this);
    for (const writer of writers) writer.reject(error);
  }

  /** Called at 'beforeExit': nothing can make room any more. */
  failStuck(): void {
    const reader = this.context.reading()
      ? 'the reader of generateOutputStream() is not taking items'
      : 'nothing reads the output';
    this.rejectAll(StageError.invalidState(
      'pipeline',
      `The process was about to exit with ${this.writers.length === 1 ? 'a write' : `${this.writers.length} writes`} ` +
        `waiting for room: ${reader}, and the pipeline holds only about maxQueueSize (${this.context.maxQueueSize}) items ` +
        'per stage and at the output. Read generateOutputStream() while feeding the input (start reading before ' +
        'awaiting processInputStream()), or use stream() with stream.pipeline(). The waiting items did not enter ' +
        'the pipeline.',
    ));
  }

  private letIn(): void {
    const target = this.target;
    while (this.writers.length > 0 && !target.writableNeedDrain && !target.destroyed) {
      const writer = this.writers.shift()!;
      this.enter(writer.data);
      writer.resolve();
    }
    if (this.writers.length > 0) return;
    unwatch(this);
    if (this.endWhenEmpty) {
      this.endWhenEmpty = false;
      target.end();
    }
  }

  private enter(data: unknown): void {
    this.entered++;
    this.target.write(data);
  }
}

// One 'beforeExit' listener for every queue with a waiting write, and none
// when no write waits: a program with many pipelines adds no listeners.
const stuck = new Set<InputQueue>();

function onBeforeExit(): void {
  for (const queue of [...stuck]) queue.failStuck();
}

function watch(queue: InputQueue): void {
  if (stuck.size === 0) process.on('beforeExit', onBeforeExit);
  stuck.add(queue);
}

function unwatch(queue: InputQueue): void {
  if (!stuck.delete(queue) || stuck.size > 0) return;
  process.off('beforeExit', onBeforeExit);
}
