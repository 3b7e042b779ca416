// The work done inside a worker thread: load the stage function once, then run
// batches of items through it. Knows nothing of threads.js (see worker.ts).

import { createBatchRunner } from './batch-runner.js';
import type { BatchRunner } from './batch-runner.js';
import { loadStep } from './load-step.js';
import { Outcome } from './protocol.js';
import type { BatchReply, InitReply, WorkerApi, WorkerInit } from './protocol.js';
import { serializeError } from './serialized-error.js';
import { replyTransferables, restoreBuffers } from './transfer.js';

// A reply whose results fail to clone is lost in transit; the main side then
// asks for it again (`salvage`) before it sends this worker anything else. At
// most two batches are in flight per worker, so its last three replies cover it.
const KEPT_REPLIES = 3;

/** How a reply leaves the worker: as is, or with a list of buffers to move. */
export type SendReply = (reply: BatchReply, transfer: ArrayBuffer[]) => BatchReply;

export function createWorkerApi(send: SendReply): WorkerApi {
  let runBatch: BatchRunner | undefined;
  let transfer = false;
  const kept = new Map<number, BatchReply>();

  async function init(message: WorkerInit): Promise<InitReply> {
    const step = message.steps[0];
    if (step === undefined) return { error: serializeError(new Error('no stage step given')) };
    try {
      const fn = await loadStep(step);
      transfer = message.transfer;
      runBatch = createBatchRunner({
        fn,
        context: message.context,
        fromSource: step.kind === 'source',
        storeError: serializeError,
      });
      return undefined;
    } catch (error) {
      return { error: serializeError(error) };
    }
  }

  async function run(batchId: number, inputs: unknown[]): Promise<BatchReply> {
    if (runBatch === undefined) throw new Error('worker used before init');
    if (transfer) restoreBuffers(inputs);
    const reply = await runBatch(inputs);
    kept.set(batchId, reply);
    if (kept.size > KEPT_REPLIES) kept.delete(kept.keys().next().value as number);
    return transfer ? send(reply, replyTransferables(reply.kinds, reply.values)) : reply;
  }

  function salvage(batchId: number): BatchReply | undefined {
    const reply = kept.get(batchId);
    if (reply === undefined) return undefined;
    const failed: number[] = [];
    for (let i = 0; i < reply.kinds.length; i++) {
      if (reply.kinds[i] === Outcome.Error || reply.kinds[i] === Outcome.Drop) continue;
      try {
        structuredClone(reply.values[i]);
      } catch (error) {
        reply.kinds[i] = Outcome.Error;
        reply.values[i] = serializeError(error);
        failed.push(i);
      }
    }
    reply.uncloneable = failed;
    return reply;
  }

  return { init, run, salvage };
}
