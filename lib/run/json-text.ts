// Items that cross as JSON text (`json: true`). Parsing a record on the main
// thread and then cloning the object to a worker is two full passes over it
// on the thread that is the bottleneck; a string crosses as one copy. So the
// text is parsed where the function runs, just before the first step, and
// the results are stringified there, just after the last: in a fused chain,
// once for the whole chain. Used by the worker entry and, for
// `thread: false`, by the inline executor, so both behave alike.

import type { BatchRunner, StageFn } from './batch-runner.js';
import { Outcome } from './protocol.js';
import type { BatchReply } from './protocol.js';

/** An item of a `json: true` stage that is not JSON text: the cause of its StageError. */
export class JsonInputError extends SyntaxError {
  override name = 'JsonInputError';
  readonly code = 'ERR_INVALID_JSON';
}

/** A result of a `json: true` stage that JSON cannot hold (a BigInt, a cycle, a function). */
export class JsonOutputError extends TypeError {
  override name = 'JsonOutputError';
  readonly code = 'ERR_JSON_RESULT';
}

/**
 * The step function behind a parse of its input. Parsing counts in the
 * item's computation time. JSON `null` is dropped, as a null result is.
 */
export function parsingInput(fn: StageFn): StageFn {
  return function parseThenCall(text, context) {
    if (typeof text !== 'string') throw new JsonInputError(`json: true expects each item to be JSON text (a string), got ${describe(text)}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new JsonInputError((error as Error).message, { cause: error });
    }
    return value === null ? null : fn(value, context);
  };
}

/**
 * A runner whose results leave as JSON text: each value (each yielded value
 * of a generator) of the last step is stringified; one that cannot be
 * becomes the item's error. `storeError` is how the reply holds an error.
 */
export function stringifyingResults(runBatch: BatchRunner, lastStep: number, storeError: (error: unknown) => unknown): BatchRunner {
  return async function runAndStringify(inputs, timed) {
    const reply = await runBatch(inputs, timed);
    if (reply.chain === undefined) stringifyFlat(reply, storeError);
    else stringifyChain(reply, lastStep, storeError);
    return reply;
  };
}

function stringifyFlat(reply: BatchReply, storeError: (error: unknown) => unknown): void {
  const { kinds, values } = reply;
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] !== Outcome.Value && kinds[i] !== Outcome.Many) continue;
    try {
      values[i] = kinds[i] === Outcome.Value ? toText(values[i]) : (values[i] as unknown[]).map(toText);
    } catch (error) {
      kinds[i] = Outcome.Error;
      values[i] = storeError(error);
    }
  }
}

function stringifyChain(reply: BatchReply, lastStep: number, storeError: (error: unknown) => unknown): void {
  const { steps, kinds, values } = reply.chain!;
  for (let r = 0; r < kinds.length; r++) {
    if (steps[r] !== lastStep || (kinds[r] !== Outcome.Value && kinds[r] !== Outcome.Many)) continue;
    try {
      values[r] = kinds[r] === Outcome.Value ? toText(values[r]) : (values[r] as unknown[]).map(toText);
    } catch (error) {
      kinds[r] = Outcome.Error;
      values[r] = { error: storeError(error), data: undefined };
    }
  }
}

function toText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new JsonOutputError(`the result cannot be written as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new JsonOutputError(`the result cannot be written as JSON: ${typeof value}`);
  return text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
