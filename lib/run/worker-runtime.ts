// The work done inside a worker thread: answer batches on the batch port,
// loading each stage's program the first time a batch of it arrives. Knows nothing of threads.js (see worker.ts).

import { threadId } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { createBatchRunner } from './batch-runner.js';
import type { BatchRunner } from './batch-runner.js';
import { createChainRunner } from './chain-runner.js';
import type { ChainStep } from './chain-runner.js';
import { parsingInput, stringifyingResults } from './json-text.js';
import { loadStep } from './load-step.js';
import { Outcome } from './protocol.js';
import type { BatchAnswer, BatchReply, BatchRequest, ForgetRequest, LoadFailure, WorkerApi, WorkerInit } from './protocol.js';
import { serializeError } from './serialized-error.js';
import { replyTransferables, restoreBuffers } from './transfer.js';

export function createWorkerApi(): WorkerApi {
  return {
    init(batches: MessagePort): Promise<void> {
      serveBatches(batches);
      return Promise.resolve();
    },
  };
}

/** A loaded program: how to run a batch of it, and whether its bytes move. */
interface Program {
  runBatch: BatchRunner;
  transfer: boolean;
}

/** Loads a program's steps in order; a step that fails names itself. */
async function loadProgram(message: WorkerInit): Promise<Program> {
  if (message.steps.length === 0) throw new ProgramLoadFailure({ error: serializeError(new Error('no stage step given')), step: 0 });
  const loaded: ChainStep[] = [];
  for (const [index, step] of message.steps.entries()) {
    try {
      loaded.push({ fn: await loadStep(step.spec), context: step.context, emitErrors: step.emitErrors, fromSource: step.spec.kind === 'source' });
    } catch (error) {
      throw new ProgramLoadFailure({ error: serializeError(error), step: index });
    }
  }
  if (message.json) loaded[0]!.fn = parsingInput(loaded[0]!.fn);
  // One step keeps the flat reply and its tight loop; more make a fused chain.
  const only = loaded[0]!;
  let runBatch = loaded.length > 1
    ? createChainRunner(loaded)
    : createBatchRunner({ fn: only.fn, context: only.context, fromSource: only.fromSource, storeError: serializeError });
  if (message.json) runBatch = stringifyingResults(runBatch, loaded.length - 1, serializeError);
  return { runBatch, transfer: message.transfer };
}

class ProgramLoadFailure extends Error {
  constructor(readonly failure: LoadFailure) {
    super('program failed to load');
  }
}

// Programs this thread has run, by the number the pool gave them. A thread
// loads a program with the first batch of it and keeps it, so that many
// short-lived stages of one module (a pipeline per request) load it once per
// thread. A promise while loading: batches that arrive meanwhile wait on it.
function serveBatches(port: MessagePort): void {
  const programs = new Map<number, Program | Promise<Program>>();
  port.on('message', (message: BatchRequest | ForgetRequest) => {
    if ('forget' in message) {
      programs.delete(message.forget);
      return;
    }
    const { id, program, load, inputs, timed } = message;
    // Structured clone turns a Buffer into a plain Uint8Array, moved or copied.
    restoreBuffers(inputs);
    if (load !== undefined) {
      const loading = loadProgram(load);
      programs.set(program, loading);
      loading.then((loaded) => { if (programs.get(program) === loading) programs.set(program, loaded); }, () => {
        if (programs.get(program) === loading) programs.delete(program);
      });
    }
    const found = programs.get(program);
    if (found === undefined) {
      port.postMessage({ id, error: serializeError(new Error(`program ${program} is not loaded on this thread`)) } satisfies BatchAnswer);
    } else if (found instanceof Promise) {
      found.then((loaded) => run(port, id, loaded, inputs, timed), (error: unknown) => {
        if (error instanceof ProgramLoadFailure) port.postMessage({ id, loadFailed: error.failure } satisfies BatchAnswer);
        else port.postMessage({ id, error: serializeError(error) } satisfies BatchAnswer);
      });
    } else {
      run(port, id, found, inputs, timed);
    }
  });
}

function run(port: MessagePort, id: number, program: Program, inputs: unknown[], timed: boolean): void {
  program.runBatch(inputs, timed).then(
    (reply) => answer(port, id, reply, program.transfer),
    (error: unknown) => port.postMessage({ id, error: serializeError(error) } satisfies BatchAnswer),
  );
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
