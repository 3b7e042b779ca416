// `--dead-letter FILE`: the stages' onError is a Writable that receives
// `{ error, item }` per failed item; each becomes one JSON line in FILE.
// The file is opened before any stage starts, so a bad path fails the run
// at once, and closed (flushed) before the exit code is decided.

import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe } from '../errors.js';
import type { StageError } from '../errors.js';
import { failureJson } from './failure-json.js';
import { fileFailure } from './program.js';

export class DeadLetter {
  /** What the stages write to (their onError). */
  readonly writable: Transform;
  private done: Promise<void> | undefined;
  private aborted = false;

  constructor(readonly path: string) {
    this.writable = new Transform({ writableObjectMode: true, transform: toLine });
  }

  /** Opens FILE (truncating it); rejects with a CliFailure. `onFailure` hears of a failed write later. */
  async open(onFailure: (error: Error) => void): Promise<void> {
    let handle;
    try {
      handle = await open(this.path, 'w');
    } catch (error) {
      throw fileFailure(`--dead-letter ${this.path}`, 'write', error);
    }
    this.done = pipeline(this.writable, handle.createWriteStream());
    this.done.catch((error: Error) => { if (!this.aborted) onFailure(error); });
  }

  /** Ends the file once every failure is written; rejects if a write failed. */
  async close(): Promise<void> {
    this.writable.end();
    await this.done;
  }

  /** Stops writing after a failed run (what was written stays). */
  abort(): void {
    this.aborted = true;
    this.writable.destroy();
  }
}

// An item that has no JSON form (a BigInt, a cycle) must not lose its
// failure: the line keeps the error and says why the item is missing.
function toLine(letter: { error: StageError; item: unknown }, _encoding: BufferEncoding, callback: TransformCallback): void {
  const error = failureJson(letter.error);
  let line: string | undefined;
  try {
    line = JSON.stringify({ error, item: letter.item });
  } catch (thrown) {
    line = undefined;
    error.message += ` (the item has no JSON form: ${describe(thrown)})`;
  }
  callback(null, (line ?? JSON.stringify({ error, item: null })) + '\n');
}
