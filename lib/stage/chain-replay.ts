// The main side of a fused chain: replays what the worker recorded (see
// ChainTrace) stage by stage, so that each member stage counts, times and
// applies its error policy exactly as it would have run alone.

import { applyPolicy } from './error-policy.js';
import { StageError } from '../errors.js';
import { Outcome } from '../run/protocol.js';
import type { ChainError, ChainTrace, SerializedError } from '../run/protocol.js';
import type { ErrorPolicy } from './stage-options.js';
import type { StageStats } from './stage-stats.js';
import type { Task } from './task.js';
import type { ChainTimes } from '../timing/chain-times.js';
import { DetailedTiming } from '../timing/detailed-timing.js';

/** What the replay needs of each member stage. */
export interface ChainMember {
  readonly name: string;
  readonly stats: StageStats;
  readonly policy: ErrorPolicy;
}

/** One value leaving the chain, with the timings of the stages it went through. */
export interface ChainOutput {
  value: unknown;
  timings: ReadonlyArray<readonly [string, DetailedTiming]>;
}

export interface ChainOutcome {
  outputs: ChainOutput[];
  /** Set when a member with `onError: 'fail'` failed: the stage must be destroyed with it. */
  fatal: Error | undefined;
  /** Policies that made the stage wait (an async handler, a full dead-letter stream). */
  waits: Array<Promise<void>> | undefined;
  /** How many outputs may leave before the waits have settled. */
  holdAt: number;
}

export interface ReplayInput {
  trace: ChainTrace;
  /** Index of this item's first record. */
  first: number;
  seq: number;
  /** When the item joined the chain's queue; 0 when it is not timed. */
  enteredAt: number;
  /** When its outputs leave the chain. */
  exitTime: number;
  /** The worker thread that ran the chain. */
  threadId: number;
  /** Records whose result could not be cloned back. */
  uncloneable: ReadonlySet<number> | undefined;
  causeOf: (stored: SerializedError) => unknown;
}

export function replayChain(members: readonly ChainMember[], input: ReplayInput): ChainOutcome {
  const { trace, seq, enteredAt, exitTime, threadId } = input;
  const last = members.length - 1;
  const outcome: ChainOutcome = { outputs: [], fatal: undefined, waits: undefined, holdAt: 0 };
  let r = input.first;

  // One stack of timings along the current branch, copied only for an output.
  const path: Array<readonly [string, DetailedTiming]> = [];

  function visit(k: number, enteredStep: number): void {
    const at = r++;
    const member = members[k]!;
    const stats = member.stats;
    const kind = trace.kinds[at];
    stats.received++;
    const timed = enteredStep !== 0 && kind !== Outcome.PassThrough;
    if (timed) {
      const end = trace.times[2 * at + 1]!;
      const timing = new DetailedTiming(enteredStep, trace.times[2 * at]!, end, k === last ? exitTime : end, threadId);
      stats.record(timing);
      path.push([member.name, timing]);
    }
    const next = enteredStep === 0 ? 0 : trace.times[2 * at + 1]!;
    if (kind === Outcome.Value) {
      stats.emitted++;
      if (k === last) outcome.outputs.push({ value: trace.values[at], timings: path.slice() });
      else visit(k + 1, next);
    } else if (kind === Outcome.Drop) {
      stats.filtered++;
    } else if (kind === Outcome.Many) {
      const yielded = k === last ? (trace.values[at] as unknown[]) : undefined;
      const count = yielded?.length ?? (trace.values[at] as number);
      if (count === 0) stats.filtered++;
      stats.emitted += count;
      stats.fanOut += Math.max(0, count - 1);
      for (let j = 0; j < count && outcome.fatal === undefined; j++) {
        if (yielded !== undefined) outcome.outputs.push({ value: yielded[j], timings: path.slice() });
        else visit(k + 1, next);
      }
    } else {
      failed(k, at);
    }
    if (timed) path.pop();
  }

  function failed(k: number, at: number): void {
    const member = members[k]!;
    const { error: stored, data } = input.trace.values[at] as ChainError;
    const cause = input.causeOf(stored);
    const error = input.uncloneable?.has(at) === true
      ? StageError.dataClone(member.name, seq, 'result', cause)
      : StageError.functionFailed(member.name, seq, cause);
    const verdict = applyPolicy(member.policy, error, data, member.stats);
    if (verdict.kind === 'fatal') {
      outcome.fatal = verdict.error;
    } else if (verdict.kind === 'wait') {
      // The replay goes on (it is already computed); the outputs after this
      // point wait with the stage. Within one item's fan-out a handler may so
      // be called again before its first promise settles.
      if (outcome.waits === undefined) {
        outcome.waits = [];
        outcome.holdAt = outcome.outputs.length;
      }
      outcome.waits.push(verdict.until);
    } else if (verdict.kind === 'emit') {
      // Later members pass the error through untouched, as separate stages do.
      for (let j = k + 1; j <= last; j++) {
        r++;
        members[j]!.stats.received++;
        members[j]!.stats.emitted++;
      }
      outcome.outputs.push({ value: error, timings: path.slice() });
    }
  }

  visit(0, enteredAt);
  return outcome;
}

/** Counts an upstream error passing through every member untouched. */
export function passThroughChain(members: readonly ChainMember[]): void {
  for (const member of members) {
    member.stats.received++;
    member.stats.emitted++;
  }
}

/** Where one item's records start in a fused chain's reply. */
export interface ChainSlice {
  trace: ChainTrace;
  first: number;
  uncloneable: ReadonlySet<number> | undefined;
  /** The batch's times for the items' envelopes; set when the batch was timed. */
  chainTimes: ChainTimes | undefined;
}

/**
 * Replays one item of a fused chain and makes the chunks to pass on: plain
 * values, or envelopes with each member's timing when the item came in one.
 */
export function chainOutputs(
  task: Task,
  members: readonly ChainMember[],
  causeOf: (stored: SerializedError) => unknown,
  exitTime: number,
): { chunks: unknown[]; fatal: Error | undefined; waits: Array<Promise<void>> | undefined; holdAt: number } {
  const { trace, first, uncloneable } = task.value as ChainSlice;
  const { outputs, fatal, waits, holdAt } = replayChain(members, { trace, first, seq: task.seq, enteredAt: task.enteredAt, exitTime, threadId: task.threadId, uncloneable, causeOf });
  const item = task.item;
  if (item === undefined) return { chunks: outputs.map((out) => out.value), fatal, waits, holdAt };
  // Forks are taken from the item as it came in, before the first output
  // writes its own timings into it.
  const pristine = outputs.length > 1 ? item.fork(item.data) : undefined;
  const passes = outputs.length > 1 ? new Map<DetailedTiming, number>() : undefined;
  const chunks = outputs.map(({ value, timings }, j) => {
    const out = j === 0 ? item : pristine!.fork(value);
    out.data = value;
    for (const [name, timing] of timings) out.setTiming(name, timing, passes);
    const lastTiming = timings[timings.length - 1];
    if (lastTiming !== undefined) out.queuedSince = lastTiming[1].queueExitTime;
    return out;
  });
  return { chunks, fatal, waits, holdAt };
}

/** What {@link straightThrough} returns when the item did not go straight through. */
export const NOT_STRAIGHT: unique symbol = Symbol('not straight through');

/**
 * The common case of a fused chain, replayed without the general walk: the
 * item went straight through, one Value record per member. Counts and times
 * each member as `replayChain` would and returns the one chunk to pass on;
 * anything else (a drop, a fan-out, an error) returns NOT_STRAIGHT for the
 * general replay. Measured: the general walk's closures, path arrays and
 * output objects were a tenth of the main thread's busy time on tiny items.
 */
export function straightThrough(task: Task, members: readonly ChainMember[], exitTime: number): unknown {
  const { trace, first, chainTimes } = task.value as ChainSlice;
  const count = members.length;
  for (let k = 0; k < count; k++) {
    if (trace.steps[first + k] !== k || trace.kinds[first + k] !== Outcome.Value) return NOT_STRAIGHT;
  }
  const timed = task.enteredAt !== 0;
  let entered = task.enteredAt;
  for (let k = 0; k < count; k++) {
    const stats = members[k]!.stats;
    stats.received++;
    stats.emitted++;
    if (!timed) continue;
    const start = trace.times[2 * (first + k)]!;
    const end = trace.times[2 * (first + k) + 1]!;
    stats.recordTimes(entered, start, end, k === count - 1 ? exitTime : end);
    entered = end;
  }
  const value = trace.values[first + count - 1];
  const item = task.item;
  if (item === undefined) return value;
  item.data = value;
  if (timed) {
    item.addChainTimings(chainTimes!, first, task.enteredAt, exitTime);
    item.queuedSince = exitTime;
  }
  return item;
}
