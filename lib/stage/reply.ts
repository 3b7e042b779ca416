// A batch's reply, written into its tasks: each task's outcome, timing and,
// for a failure, its StageError. The stage then emits them (stage.ts).

import type { ChainSlice } from './chain-replay.js';
import { StageError } from '../errors.js';
import type { RunResult } from '../run/executor.js';
import type { ChainError, SerializedError } from '../run/protocol.js';
import { ChainTimes } from '../timing/chain-times.js';
import { TaskState, anyTimed } from './task.js';
import type { Task } from './task.js';

export interface ReplyContext {
  /** The stage's name. */
  name: string;
  /** For a fused stage, its members' names, by step. */
  memberNames: readonly string[] | undefined;
  causeOf: (stored: SerializedError) => unknown;
}

/**
 * Fills in the batch's tasks from the reply. Returns the error that must
 * destroy the stage (a function that used a variable of its scope: no item
 * could succeed), or undefined.
 */
export function applyReply(batch: Task[], reply: RunResult, context: ReplyContext): StageError | undefined {
  if (reply.closureVariable !== undefined) return closureError(reply, reply.closureVariable, context);
  const chain = reply.chain;
  const uncloneable = chain !== undefined && reply.uncloneable !== undefined ? new Set(reply.uncloneable) : undefined;
  let first = 0;
  const threadId = reply.threadId ?? 0;
  // One home for the timed items' chain timings (they point into it), not an array each.
  const chainTimes = chain !== undefined && context.memberNames !== undefined && anyTimed(batch)
    ? new ChainTimes(context.memberNames, chain.times, threadId, chain.steps.length)
    : undefined;
  for (let i = 0; i < batch.length; i++) {
    const task = batch[i]!;
    task.threadId = threadId;
    task.state = reply.kinds[i] as TaskState;
    task.value = reply.values[i];
    task.startedAt = reply.times[2 * i]!;
    task.endedAt = reply.times[2 * i + 1]!;
    if (task.state === TaskState.Chain) {
      task.value = { trace: chain!, first, uncloneable, chainTimes } satisfies ChainSlice;
      first += chain!.counts[i]!;
    } else if (task.state === TaskState.Error) {
      task.error = errorOf(task, reply, i, context);
    }
  }
  return undefined;
}

function errorOf(task: Task, reply: RunResult, i: number, { name, memberNames, causeOf }: ReplyContext): StageError {
  const cause = causeOf(task.value as SerializedError);
  // An input that cannot cross never reached the first stage of a chain.
  if (reply.uncloneableInputs?.includes(i) === true) return StageError.dataClone(memberNames?.[0] ?? name, task.seq, 'input', cause);
  // A chain's `uncloneable` names records, handled by its replay.
  if (reply.chain === undefined && reply.uncloneable?.includes(i) === true) return StageError.dataClone(name, task.seq, 'result', cause);
  return StageError.functionFailed(name, task.seq, cause);
}

/** Names the variable and, in a fused stage, the member whose function used it. */
function closureError(reply: RunResult, variable: string, { name, memberNames, causeOf }: ReplyContext): StageError {
  const { kinds, steps, values } = reply.chain ?? { kinds: reply.kinds, steps: undefined, values: reply.values };
  for (let at = 0; at < kinds.length; at++) {
    if (kinds[at] !== TaskState.Error) continue;
    const stored = steps === undefined ? values[at] : (values[at] as ChainError).error;
    const cause = causeOf(stored as SerializedError);
    if (!(cause instanceof Error) || !cause.message.startsWith(`${variable} is not defined`)) continue;
    const culprit = steps === undefined || memberNames === undefined ? name : memberNames[steps[at]!]!;
    return StageError.closureReference(culprit, variable, cause);
  }
  return StageError.closureReference(name, variable, undefined);
}
