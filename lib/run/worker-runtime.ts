// The work done inside a worker thread: load the stage functions once, then
// answer batches on the batch port. Knows nothing of threads.js (see worker.ts).

import { threadId } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { createBatchRunner } from './batch-runner.js';
import type { BatchRunner } from './batch-runner.js';
import { createChainRunner } from './chain-runner.js';
import type { ChainStep } from './chain-runner.js';
import { parsingInput, stringifyingResults } from './json-text.js';
import { loadStep } from './load-step.js';
import { Outcome } from './protocol.js';
import type { BatchAnswer, BatchReply, BatchRequest, InitReply, WorkerApi, WorkerInit } from './protocol.js';
import { serializeError } from './serialized-error.js';
import { replyTransferables, restoreBuffers } from './transfer.js';

export function createWorkerApi(): WorkerApi {
  async function init(message: WorkerInit, batches: MessagePort): Promise<InitReply> {
    if (message.steps.length === 0) return { error: serializeError(new Error('no stage step given')), step: 0 };
    const loaded: ChainStep[] = [];
    for (const [index, step] of message.steps.entries()) {
      try {
        loaded.push({ fn: await loadStep(step.spec), context: step.context, emitErrors: step.emitErrors, fromSource: step.spec.kind === 'source' });
      } catch (error) {
        return { error: serializeError(error), step: index };
      }
    }
    if (message.json) loaded[0]!.fn = parsingInput(loaded[0]!.fn);
    // One step keeps the flat reply and its tight loop; more make a fused chain.
    const only = loaded[0]!;
    let runBatch = loaded.length > 1
      ? createChainRunner(loaded)
      : createBatchRunner({ fn: only.fn, context: only.context, fromSource: only.fromSource, storeError: serializeError });
    if (message.json) runBatch = stringifyingResults(runBatch, loaded.length - 1, serializeError);
    serveBatches(batches, runBatch, message.transfer);
    return undefined;
  }

  return { init };
}

function serveBatches(port: MessagePort, runBatch: BatchRunner, transfer: boolean): void {
  port.on('message', ({ id, inputs, timed }: BatchRequest) => {
    // Structured clone turns a Buffer into a plain Uint8Array, moved or copied.
    restoreBuffers(inputs);
    runBatch(inputs, timed).then(
      (reply) => answer(port, id, reply, transfer),
      (error: unknown) => port.postMessage({ id, error: serializeError(error) } satisfies BatchAnswer),
    );
  });
}

function answer(port: MessagePort, id: number, reply: BatchReply, transfer: boolean): void {
  reply.threadId = threadId;
  try {
    port.postMessage({ id, reply } satisfies BatchAnswer, transfer ? replyTransferables(reply) : []);
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'DataCloneError') throw error;
    // Some result cannot be cloned (nothing was sent): those items fail alone.
    markUncloneable(reply);
    port.postMessage({ id, reply } satisfies BatchAnswer, transfer ? replyTransferables(reply) : []);
  }
}

/** Turns each result that cannot be cloned into an error, and lists them. */
function markUncloneable(reply: BatchReply): void {
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
}
