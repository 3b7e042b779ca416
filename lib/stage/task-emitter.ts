// The bottom layer of a Stage: how a task whose outcome is known leaves the
// stage. A value goes downstream in its envelope with this stage's timing, a
// fan-out gets one envelope per output, a fused chain's records are replayed,
// and a failure meets the onError policy. Order and dispatch sit above this
// (task-dispatcher.ts), the Transform's stream side above that (stage.ts).

import { Transform } from 'node:stream';
import { applyPolicy, deadLettersAmong, lettersWritten } from './error-policy.js';
import type { StageLetters } from './error-policy.js';
import { NOT_STRAIGHT, chainOutputs, passThroughChain, straightThrough } from './chain-replay.js';
import type { ChainMember } from './chain-replay.js';
import type { ReplyContext } from './reply.js';
import type { ResolvedStageOptions } from './stage-options.js';
import type { StagePlan } from './stage-plan.js';
import { StageStats } from './stage-stats.js';
import { TaskState } from './task.js';
import type { Task } from './task.js';
import { nowSeconds } from '../timing/clock.js';
import { DetailedTiming } from '../timing/detailed-timing.js';

export abstract class TaskEmitter extends Transform {
  /** The stage's name in errors and reports. */
  readonly name: string;
  /** Counts, items held and (for timed items) where the time went. */
  readonly stats = new StageStats();
  /** @internal What the stage runs and how: read by fusion. */
  readonly plan: StagePlan;
  protected readonly settings: ResolvedStageOptions;
  /** Set for a fused stage: the stages it runs, with their own counts. */
  protected readonly members: ChainMember[] | undefined;
  protected readonly replyContext: ReplyContext;
  /** Set in _destroy: cheaper to test per item than the stream's `destroyed` getter. */
  protected torn = false;
  /**
   * Set while an onError policy holds the output (an async handler, a full
   * dead-letter stream): nothing later leaves until it settles. Tasks stay
   * held meanwhile, so the writer waits once highWaterMark are inside.
   */
  protected holding = false;
  /** The dead-letter streams of this stage's policies (a fused stage: its members'). */
  protected readonly deadLetters: StageLetters[];
  /**
   * The clock read once per emission loop rather than once per item: a
   * loop's items leave together (a batch's reply), and performance.now()
   * costs ~60 ns (measured, Node 20), a tenth of a tiny item's timed cost.
   * So an item's exit time is when the loop that passed it on began. The
   * loops (task-dispatcher.ts) set it to 0 before and after, so that no
   * other path ever reads a stale one.
   */
  protected exitClock = 0;
  /** Outputs of a fused chain's item that come after the policy that holds. */
  private rest: unknown[] | undefined;
  private readonly endHold = (): void => {
    if (this.torn) return;
    this.holding = false;
    const rest = this.rest;
    this.rest = undefined;
    if (rest !== undefined) for (const chunk of rest) this.push(chunk);
    this.resumeEmission();
  };
  private readonly failHold = (error: Error): void => {
    if (!this.torn) this.destroy(error);
  };

  constructor(plan: StagePlan) {
    super({ objectMode: true, highWaterMark: plan.settings.highWaterMark });
    this.name = plan.name;
    this.plan = plan;
    this.settings = plan.settings;
    this.members = plan.members;
    // Made once: it is needed for every batch.
    this.replyContext = {
      name: plan.name,
      memberNames: plan.members?.map((m) => m.name),
      causeOf: (stored) => plan.executor.causeOf(stored),
    };
    this.deadLetters = deadLettersAmong(plan.members ?? [{ name: plan.name, policy: plan.settings.onError }]);
  }

  /** Emits what waited while the output was held, and goes on. */
  protected abstract resumeEmission(): void;

  /** Holds the output until `until` settles; a rejection destroys the stage with its error. */
  protected hold(until: Promise<void>): void {
    this.holding = true;
    until.then(this.endHold, this.failHold);
  }

  /**
   * Holds the output until the letters of a dead-letter stream are written,
   * so that a stage ends only once they are; false when none is in flight.
   */
  protected holdForLetters(): boolean {
    for (const { stage, letters } of this.deadLetters) {
      if (letters.inFlight > 0 || letters.failure !== undefined) {
        this.hold(lettersWritten(letters, stage));
        return true;
      }
    }
    return false;
  }

  /** Emits one settled task: its outputs downstream, or its failure to the policy. */
  protected finish(task: Task): void {
    this.stats.itemsHeld--;
    if (task.state === TaskState.Chain) {
      this.finishChain(task);
      return;
    }
    const timing = this.timingOf(task);
    switch (task.state) {
      case TaskState.Value:
        this.stats.emitted++;
        this.pushResult(task, task.value, timing, false);
        break;
      case TaskState.Drop:
        this.stats.filtered++;
        break;
      case TaskState.Many:
        this.pushMany(task, task.value as unknown[], timing);
        break;
      case TaskState.Error:
        this.finishError(task, timing);
        break;
      case TaskState.PassThrough:
        this.stats.emitted++;
        if (this.members !== undefined) passThroughChain(this.members);
        this.push(task.input);
        break;
    }
  }

  /** Tells the metrics the counts changed, once per settled batch (a fused stage: its members'). */
  protected publishCounts(): void {
    if (this.members === undefined) this.stats.publish();
    else for (const member of this.members) member.stats.publish();
  }

  /** Has the metrics take the counts now: the stage ended or was destroyed. */
  protected flushCounts(): void {
    if (this.members === undefined) this.stats.flushSink();
    else for (const member of this.members) member.stats.flushSink();
  }

  /** Replays a fused chain's records for one item and passes its outputs on. */
  private finishChain(task: Task): void {
    const exitTime = task.enteredAt === 0 ? 0 : this.exitNow();
    const straight = straightThrough(task, this.members!, exitTime);
    if (straight !== NOT_STRAIGHT) {
      this.stats.emitted++;
      this.push(straight);
      return;
    }
    const { chunks, fatal, waits, holdAt } = chainOutputs(task, this.members!, this.replyContext.causeOf, exitTime);
    this.stats.emitted += chunks.length;
    this.stats.fanOut += Math.max(0, chunks.length - 1);
    if (chunks.length === 0 && fatal === undefined) this.stats.filtered++;
    const free = waits === undefined || fatal !== undefined ? chunks.length : holdAt;
    for (let k = 0; k < free; k++) this.push(chunks[k]);
    if (fatal !== undefined) {
      this.destroy(fatal);
    } else if (waits !== undefined) {
      if (free < chunks.length) this.rest = chunks.slice(free);
      this.hold(waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => undefined));
    }
  }

  private pushMany(task: Task, values: unknown[], timing: DetailedTiming | undefined): void {
    if (values.length === 0) {
      this.stats.filtered++;
      return;
    }
    this.stats.emitted += values.length;
    this.stats.fanOut += values.length - 1;
    // Each output gets its own envelope (the original shared one timing
    // record between fan-out copies: its bug 7).
    for (let k = 0; k < values.length; k++) this.pushResult(task, values[k], timing, k > 0);
  }

  private finishError(task: Task, timing: DetailedTiming | undefined): void {
    // In a fused stage, a failure of the whole chain (a dead worker, an input
    // that cannot cross) is its first member's; an emitted error then passes
    // the other members untouched, as it would pass separate stages.
    const members = this.members;
    if (members !== undefined) members[0]!.stats.received++;
    const verdict = applyPolicy(this.settings.onError, task.error!, task.data, members?.[0]!.stats ?? this.stats);
    if (verdict.kind === 'fatal') {
      this.destroy(verdict.error);
    } else if (verdict.kind === 'emit') {
      if (members !== undefined) passThroughChain(members.slice(1));
      this.pushResult(task, task.error, timing, false);
    } else if (verdict.kind === 'wait') {
      this.hold(verdict.until);
    }
  }

  private timingOf(task: Task): DetailedTiming | undefined {
    if (task.enteredAt === 0 || task.state === TaskState.PassThrough) return undefined;
    const exit = this.exitNow();
    // An item that never ran to a reply (its worker died, it timed out, it
    // could not cross) has no computation measured: its time in the stage
    // counts as queue wait rather than as a span from the epoch.
    const ran = task.startedAt !== 0;
    const timing = new DetailedTiming(task.enteredAt, ran ? task.startedAt : exit, ran ? task.endedAt : exit, exit, task.threadId);
    this.stats.record(timing);
    return timing;
  }

  private exitNow(): number {
    if (this.exitClock === 0) this.exitClock = nowSeconds();
    return this.exitClock;
  }

  private pushResult(task: Task, value: unknown, timing: DetailedTiming | undefined, fork: boolean): void {
    const item = task.item;
    if (item === undefined) {
      this.push(value);
      return;
    }
    const out = fork ? item.fork(value) : item;
    out.data = value;
    if (timing !== undefined) {
      out.setTiming(this.name, timing);
      out.queuedSince = timing.queueExitTime;
    }
    this.push(out);
  }
}
