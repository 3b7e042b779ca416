// Anchor `raw-workers`: a minimal hand-written worker_threads stage, the
// practical ceiling for crossing a thread. Items that arrive while every
// worker is busy are sent together as one batch; each worker keeps up to two
// batches in flight (it starts the next while the last reply crosses back);
// results leave in input order. No error handling, timing or retries: only
// what moving items through threads needs.

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';
import type { WorkName } from '../lib/work-module.js';
import type { RawBatch, RawReply, RawWorkerData } from './raw-protocol.js';

const WORKER = new URL('./raw-worker.js', import.meta.url);
const IN_FLIGHT_PER_WORKER = 2;

export interface RawStageOptions {
  concurrency: number;
  /** Items held at once (queued or in flight), as our stages' highWaterMark. @default 64 */
  highWaterMark?: number;
  /** Move the ArrayBuffer of each Uint8Array that owns all of it, instead of copying it. @default false */
  transfer?: boolean;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface SentBatch {
  slot: Slot;
  size: number;
  results: unknown[] | undefined;
}

export class RawStage extends Transform {
  private readonly slots: Slot[];
  private readonly limit: number;
  private readonly transfer: boolean;
  private pending: unknown[] = [];
  private readonly sent = new Map<number, SentBatch>();
  private readonly order: number[] = [];
  private nextId = 0;
  private held = 0;
  private waitingWrite: TransformCallback | null = null;
  private waitingFlush: TransformCallback | null = null;
  private readonly releaseWriterBound = (): void => this.releaseWriter();

  private constructor(workers: Worker[], options: RawStageOptions) {
    const limit = options.highWaterMark ?? 64;
    super({ objectMode: true, highWaterMark: limit });
    this.limit = limit;
    this.transfer = options.transfer ?? false;
    this.slots = workers.map((worker) => ({ worker, inFlight: 0 }));
    for (const slot of this.slots) slot.worker.on('message', (reply: RawReply) => this.onReply(reply));
  }

  /** Spawns the workers and waits until each has loaded its function. */
  static async create(exportNames: WorkName[], options: RawStageOptions): Promise<RawStage> {
    const workerData: RawWorkerData = { exportNames };
    const workers = await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        const worker = new Worker(WORKER, { workerData });
        await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        return worker;
      }),
    );
    return new RawStage(workers, options);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.held++;
    this.dispatch();
    if (this.hasRoom()) callback();
    else this.waitingWrite = callback;
  }

  // Readable.read() calls _read before it takes the chunk off the buffer, and
  // calls it no more until the next push: a release checked here would still
  // see a full buffer and, with nothing in flight to push, wait for ever.
  // Checking on the next tick sees the buffer after the read.
  override _read(size: number): void {
    super._read(size);
    process.nextTick(this.releaseWriterBound);
  }

  override _flush(callback: TransformCallback): void {
    this.waitingFlush = callback;
    this.maybeFinish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    Promise.all(this.slots.map((slot) => slot.worker.terminate())).then(() => callback(error), () => callback(error));
  }

  private hasRoom(): boolean {
    return this.held < this.limit && this.readableLength < this.readableHighWaterMark;
  }

  private releaseWriter(): void {
    if (this.waitingWrite === null || !this.hasRoom()) return;
    const callback = this.waitingWrite;
    this.waitingWrite = null;
    callback();
  }

  private dispatch(): void {
    while (this.pending.length > 0) {
      const slot = this.leastBusy();
      if (slot.inFlight >= IN_FLIGHT_PER_WORKER) return;
      const items = this.pending;
      this.pending = [];
      const batch: RawBatch = { id: this.nextId++, items };
      slot.inFlight++;
      this.sent.set(batch.id, { slot, size: items.length, results: undefined });
      this.order.push(batch.id);
      slot.worker.postMessage(batch, this.transfer ? transferablesOf(items) : undefined);
    }
  }

  private leastBusy(): Slot {
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.inFlight < best.inFlight) best = slot;
    return best;
  }

  private onReply(reply: RawReply): void {
    const batch = this.sent.get(reply.id)!;
    batch.results = reply.results;
    batch.slot.inFlight--;
    // Emit finished batches in the order they were sent: that is input order.
    while (this.order.length > 0) {
      const head = this.sent.get(this.order[0]!)!;
      if (head.results === undefined) break;
      this.sent.delete(this.order.shift()!);
      this.held -= head.size;
      for (const result of head.results) this.push(result);
    }
    this.dispatch();
    this.releaseWriter();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.waitingFlush === null || this.held > 0) return;
    const callback = this.waitingFlush;
    this.waitingFlush = null;
    Promise.all(this.slots.map((slot) => slot.worker.terminate())).then(() => callback(), (error: unknown) => callback(error as Error));
  }
}

/** The ArrayBuffers that can move with the batch: only those a Uint8Array owns whole. */
function transferablesOf(items: readonly unknown[]): Transferable[] {
  const list: Transferable[] = [];
  for (const item of items) {
    if (item instanceof Uint8Array && item.byteOffset === 0 && item.byteLength === item.buffer.byteLength && item.buffer instanceof ArrayBuffer) {
      list.push(item.buffer);
    }
  }
  return list;
}

export async function rawStages(names: readonly WorkName[], options: RawStageOptions): Promise<RawStage[]> {
  return Promise.all(names.map((name) => RawStage.create([name], options)));
}

/** One hand-written crossing for a whole chain: each item runs through every function in one worker call, as a fused chain does. */
export async function rawChain(names: readonly WorkName[], options: RawStageOptions): Promise<RawStage[]> {
  return [await RawStage.create([...names], options)];
}
