// What an item's failure becomes under its stage's onError policy. One place
// for it, used by a stage on its own and by each stage of a fused chain.
// A policy may make the stage wait (an async handler, a full dead-letter
// stream): the verdict then carries the promise, and the stage emits nothing
// later until it settles (TaskEmitter.hold).

import { Writable } from 'node:stream';
import { StageError } from '../errors.js';
import { deadLettersOf } from './dead-letters.js';
import type { DeadLetters } from './dead-letters.js';
import type { ErrorPolicy } from './stage-options.js';
import type { StageStats } from './stage-stats.js';

/** What the stage must do after the policy has counted the failure. */
export type PolicyVerdict =
  /** Nothing: the item is dropped. */
  | { kind: 'drop' }
  /** Pass the StageError downstream in the item's place. */
  | { kind: 'emit' }
  /** Destroy the stage with this error ('fail', or a handler or dead-letter stream that failed). */
  | { kind: 'fatal'; error: Error }
  /** The item is dropped, but nothing later may leave before `until` settles; a rejection is fatal. */
  | { kind: 'wait'; until: Promise<void> };

const DROP: PolicyVerdict = { kind: 'drop' };
const EMIT: PolicyVerdict = { kind: 'emit' };

export function applyPolicy(policy: ErrorPolicy, error: StageError, data: unknown, stats: StageStats): PolicyVerdict {
  if (policy === 'fail') return { kind: 'fatal', error };
  if (policy === 'skip') {
    stats.skipped++;
    return DROP;
  }
  stats.failed++;
  if (policy === 'emit') return EMIT;
  if (typeof policy === 'function') return callHandler(policy, error, data);
  return writeLetter(deadLettersOf(policy), error, data);
}

/** A dead-letter stream and the stage whose policy it is. */
export interface StageLetters {
  stage: string;
  letters: DeadLetters;
}

/** The dead-letter streams among these stages' policies. */
export function deadLettersAmong(stages: ReadonlyArray<{ name: string; policy: ErrorPolicy }>): StageLetters[] {
  const found: StageLetters[] = [];
  for (const { name, policy } of stages) if (policy instanceof Writable) found.push({ stage: name, letters: deadLettersOf(policy) });
  return found;
}

/** Waits for the letters in flight; rejects with a StageError naming the stage if the stream failed. */
export function lettersWritten(letters: DeadLetters, stage: string): Promise<void> {
  return letters.whenWritten().catch((failure: unknown) => {
    throw StageError.deadLetterFailed(stage, undefined, `failed with ${letterCount(letters.lost)} not written`, failure);
  });
}

function callHandler(handler: (error: StageError, data: unknown) => unknown, error: StageError, data: unknown): PolicyVerdict {
  let result: unknown;
  try {
    result = handler(error, data);
  } catch (thrown) {
    return { kind: 'fatal', error: StageError.handlerFailed(error.stage, error.seq, thrown) };
  }
  // Only a thenable makes the stage wait: a synchronous handler's path stays
  // as it was, without a promise or a closure per failure.
  if (!isThenable(result)) return DROP;
  const until = Promise.resolve(result).then(
    () => undefined,
    (reason: unknown) => { throw StageError.handlerFailed(error.stage, error.seq, reason); },
  );
  return { kind: 'wait', until };
}

function writeLetter(letters: DeadLetters, error: StageError, data: unknown): PolicyVerdict {
  const problem = letters.unwritable();
  if (problem !== undefined) {
    const lost = letters.lost > 0 ? ` with ${letterCount(letters.lost)} not written` : '';
    const what = `${problem}${lost}, so the letter of item ${error.seq} cannot be written`;
    return { kind: 'fatal', error: StageError.deadLetterFailed(error.stage, error.seq, what, letters.failure ?? letters.stream.errored ?? undefined) };
  }
  let room: boolean;
  try {
    room = letters.write({ error, item: data });
  } catch (thrown) {
    // A Writable's write() throws on a chunk it cannot take (not in object mode after all).
    return { kind: 'fatal', error: StageError.deadLetterFailed(error.stage, error.seq, `refused the letter of item ${error.seq}`, thrown) };
  }
  if (room) return DROP;
  return { kind: 'wait', until: lettersWritten(letters, error.stage) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function';
}

function letterCount(count: number): string {
  return count === 1 ? '1 letter' : `${count} letters`;
}
