// The work done inside a worker thread: load the stage function once, then run
// batches of items through it. Knows nothing of threads.js (see worker.ts).

import { createBatchRunner } from './batch-runner.js';
import type { BatchRunner } from './batch-runner.js';
import { createChainRunner } from './chain-runner.js';
import type { ChainStep } from './chain-runner.js';
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
    if (message.steps.length === 0) return { error: serializeError(new Error('no stage step given')), step: 0 };
    const loaded: ChainStep[] = [];
    for (const [index, step] of message.steps.entries()) {
      try {
        loaded.push({ fn: await loadStep(step.spec), context: step.context, emitErrors: step.emitErrors, fromSource: step.spec.kind === 'source' });
      } catch (error) {
        return { error: serializeError(error), step: index };
      }
    }
    transfer = message.transfer;
    // One step keeps the flat reply and its tight loop; more make a fused chain.
    const only = loaded[0]!;
    runBatch = loaded.length > 1
      ? createChainRunner(loaded)
      : createBatchRunner({ fn: only.fn, context: only.context, fromSource: only.fromSource, storeError: serializeError });
    return undefined;
  }

  async function run(batchId: number, inputs: unknown[]): Promise<BatchReply> {
    if (runBatch === undefined) throw new Error('worker used before init');
    if (transfer) restoreBuffers(inputs);
    const reply = await runBatch(inputs);
    kept.set(batchId, reply);
    if (kept.size > KEPT_REPLIES) kept.delete(kept.keys().next().value as number);
    return transfer ? send(reply, replyTransferables(reply)) : reply;
  }

  function salvage(batchId: number): BatchReply | undefined {
    const reply = kept.get(batchId);
    if (reply === undefined) return undefined;
    const { kinds, values } = reply.chain ?? reply;
    const failed: number[] = [];
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] !== Outcome.Value && kinds[i] !== Outcome.Many && kinds[i] !== Outcome.Error) continue;
      try {
        structuredClone(values[i]);
      } catch (error) {
        kinds[i] = Outcome.Error;
        values[i] = reply.chain === undefined ? serializeError(error) : { error: serializeError(error), data: undefined };
        failed.push(i);
      }
    }
    reply.uncloneable = failed;
    return reply;
  }

  return { init, run, salvage };
}
