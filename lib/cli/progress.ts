// The progress line on standard error: items done, items per second (over
// the last redraws), the current bottleneck and elapsed time, redrawn in
// place a few times a second, only on a terminal.
//
// Drawn by hand rather than by a progress-bar library: a failure message
// must first clear the line ("\r" then erase to the end of it), and nothing
// may draw once the run is over, or the line lands after the message.

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** Where the progress line goes: standard error, or a stand-in in specs. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Carriage return, then erase from the cursor to the end of the line. */
const CLEAR = '\r\x1b[K';
const REDRAW_MS = 200;
const RATE_WINDOW_MS = 2000;

/** Counts items on their way out and shows the count while the run lasts. */
export class Progress extends Transform {
  done = 0;
  private readonly stream: ProgressStream;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** Whether the line is on screen now (so a message must clear it first). */
  private shown = false;
  private over = false;
  /** Recent (time, done) pairs: the rate shown is over the last RATE_WINDOW_MS, not since the start. */
  private readonly marks: Array<[number, number]> = [];
  private readonly status: (() => string | undefined) | undefined;

  /**
   * `enabled`: draw at all (the caller decides: not --quiet, a terminal,
   * results elsewhere). `status`: a short word on what limits the run (the
   * bottleneck), asked at each redraw; undefined leaves it out.
   */
  constructor(stream: ProgressStream, enabled: boolean, status?: () => string | undefined) {
    super({ objectMode: true });
    this.stream = stream;
    this.status = status;
    if (!enabled) {
      this.over = true;
      return;
    }
    this.draw();
    // unref: the line must never keep the process alive by itself.
    this.timer = setInterval(() => this.draw(), REDRAW_MS).unref();
  }

  override _transform(item: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.done++;
    callback(null, item);
  }

  /** Redraws the line in place; nothing once the run is over. */
  draw(): void {
    if (this.over) return;
    const line = this.text();
    // One column short of the width: a line that fills it wraps on some
    // terminals. A terminal that knows no width (0) is not cut.
    const width = (this.stream.columns ?? 0) - 1;
    this.stream.write(`\r${width > 0 && line.length > width ? line.slice(0, width) : line}\x1b[K`);
    this.shown = true;
  }

  /** Takes the line off the screen so a message can be written where it was; the next draw brings it back. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR);
    this.shown = false;
  }

  /** The run is done: draws the final figures, ends the line, and draws no more. */
  stop(): void {
    if (this.over) return;
    this.draw();
    this.stream.write('\n');
    this.retire();
  }

  /** The run failed: takes the line off the screen for the message, and draws no more. */
  abandon(): void {
    if (this.over) return;
    this.clear();
    this.retire();
  }

  private retire(): void {
    this.over = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private text(): string {
    const now = performance.now();
    const seconds = (now - this.startedAt) / 1000;
    this.marks.push([now, this.done]);
    while (this.marks.length > 1 && now - this.marks[0]![0] > RATE_WINDOW_MS) this.marks.shift();
    const [since, doneThen] = this.marks.length > 1 ? this.marks[0]! : [this.startedAt, 0];
    const speed = now > since ? (((this.done - doneThen) * 1000) / (now - since)).toFixed(0) : '0';
    const status = this.status?.();
    return `items ${this.done} | ${speed} items/s | ${status === undefined ? '' : `${status} | `}elapsed ${Math.floor(seconds)}s`;
  }
}
