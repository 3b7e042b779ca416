// Anchor `writev-workers`: the hand-written worker stage as the issue 17
// harness wrote it, and as a careful user would: a Transform whose _writev
// sends every chunk Node buffered meanwhile as one batch to one worker,
// acknowledges at once while fewer than two batches are in flight, and
// pushes results in input order. Its bound is the writable highWaterMark,
// as a user sets it; the batches in flight come on top of it.

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { WorkName } from '../lib/work-module.js';
import type { RawBatch, RawReply, RawWorkerData } from './raw-protocol.js';

const WORKER = new URL('./raw-worker.js', import.meta.url);
const IN_FLIGHT = 2;

export class WritevStage extends Transform {
  private inFlight = 0;
  private nextId = 0;
  private readonly results = new Map<number, unknown[]>();
  private nextOut = 0;
  private waitingWrite: TransformCallback | null = null;
  private waitingFlush: TransformCallback | null = null;

  private constructor(private readonly worker: Worker, highWaterMark: number) {
    super({ objectMode: true, highWaterMark });
    worker.on('message', (reply: RawReply) => this.onReply(reply));
  }

  /** Spawns the worker and waits until it has loaded its function(s): several names run as one chain. */
  static async create(exportNames: WorkName[], highWaterMark: number): Promise<WritevStage> {
    const workerData: RawWorkerData = { exportNames };
    const worker = new Worker(WORKER, { workerData });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new WritevStage(worker, highWaterMark);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.send([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, callback: (error?: Error | null) => void): void {
    this.send(chunks.map((c) => c.chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.waitingFlush = callback;
    this.maybeFinish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.worker.terminate().then(() => callback(error), () => callback(error));
  }

  private send(items: unknown[], callback: TransformCallback): void {
    const batch: RawBatch = { id: this.nextId++, items };
    this.inFlight++;
    this.worker.postMessage(batch);
    if (this.inFlight < IN_FLIGHT) callback();
    else this.waitingWrite = callback;
  }

  private onReply(reply: RawReply): void {
    this.inFlight--;
    this.results.set(reply.id, reply.results);
    for (let out = this.results.get(this.nextOut); out !== undefined; out = this.results.get(this.nextOut)) {
      this.results.delete(this.nextOut++);
      for (const result of out) this.push(result);
    }
    const callback = this.waitingWrite;
    this.waitingWrite = null;
    callback?.();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.waitingFlush === null || this.inFlight > 0) return;
    const callback = this.waitingFlush;
    this.waitingFlush = null;
    this.worker.terminate().then(() => callback(), (error: unknown) => callback(error as Error));
  }
}

/** One writev stage per function. */
export function writevStages(names: readonly WorkName[], highWaterMark: number): Promise<WritevStage[]> {
  return Promise.all(names.map((name) => WritevStage.create([name], highWaterMark)));
}

/** One writev stage for the whole chain: each item through every function in one call. */
export async function writevChain(names: readonly WorkName[], highWaterMark: number): Promise<WritevStage[]> {
  return [await WritevStage.create([...names], highWaterMark)];
}
