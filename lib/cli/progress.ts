// The progress line on standard error: items done, items per second and
// elapsed time, drawn by cli-progress, and only on a terminal (a file or a
// pipe gets nothing: no escape codes in logs).

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { SingleBar } from 'cli-progress';

/** Where the progress line goes: standard error, or a stand-in in specs. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/** Counts items on their way out and shows the count while the run lasts. */
export class Progress extends Transform {
  done = 0;
  private readonly bar: SingleBar | undefined;
  private readonly startedAt = performance.now();

  constructor(stream: ProgressStream, enabled: boolean) {
    super({ objectMode: true });
    if (!enabled || stream.isTTY !== true) return;
    this.bar = new SingleBar({
      format: 'items {value} | {speed} items/s | elapsed {duration_formatted}',
      stream,
      fps: 5,
      hideCursor: false,
      clearOnComplete: false,
      linewrap: false,
    });
    this.bar.start(0, 0, { speed: '0' });
  }

  override _transform(item: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.done++;
    // cli-progress redraws on its own timer (fps); update only stores the values.
    this.bar?.update(this.done, { speed: this.speed() });
    callback(null, item);
  }

  /** Draws the final figures and leaves the line in place. */
  stop(): void {
    if (this.bar === undefined) return;
    this.bar.update(this.done, { speed: this.speed() });
    this.bar.stop();
  }

  private speed(): string {
    const seconds = (performance.now() - this.startedAt) / 1000;
    return seconds > 0 ? (this.done / seconds).toFixed(0) : '0';
  }
}
