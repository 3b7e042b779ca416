// What a Stage is made of, decided once in its constructor: its name, its
// settings and where its function runs. A fused stage is planned from the
// stages it runs as one chain.

import type { Executor } from '../run/executor.js';
import { InlineExecutor } from '../run/inline-executor.js';
import type { ChainMember } from './chain-replay.js';
import type { WorkerStep } from '../run/protocol.js';
import { resolveStageOptions } from './stage-options.js';
import type { ResolvedStageOptions, StageOptions } from './stage-options.js';
import type { StageStats } from './stage-stats.js';
import { resolveTarget } from './stage-target.js';
import type { ResolvedTarget } from './stage-target.js';
import { availableParallelism } from 'node:os';
import { PoolExecutor } from '../run/pool-executor.js';
import type { ThreadPool } from '../run/thread-pool.js';
import { defaultWorkerPool, innerPool, ownPool } from '../run/worker-pool.js';
import { transportExecutor } from '../run/transport.js';

/** What fusion needs of a member stage. */
export interface FusableStage {
  readonly name: string;
  readonly stats: StageStats;
  readonly plan: StagePlan;
}

/** Stages to run as one chain in one worker call (see fusion.ts). */
export class FusedTarget {
  constructor(readonly members: readonly FusableStage[]) {}
}

export interface StagePlan {
  name: string;
  settings: ResolvedStageOptions;
  target: ResolvedTarget | undefined;
  executor: Executor;
  /** For a fused stage: its members, which keep their own counts and policies. */
  members: ChainMember[] | undefined;
}

export function planStage(target: unknown, options: StageOptions | undefined): StagePlan {
  if (target instanceof FusedTarget) return planFused(target.members);
  const settings = resolveStageOptions(options);
  const resolved = resolveTarget(target, settings.name);
  return { name: resolved.step.name, settings, target: resolved, executor: createExecutor(resolved, settings), members: undefined };
}

function workerStep(target: ResolvedTarget, settings: ResolvedStageOptions): WorkerStep {
  return { spec: target.step, context: settings.context, emitErrors: settings.onError === 'emit' };
}

function createExecutor(target: ResolvedTarget, settings: ResolvedStageOptions): Executor {
  if (settings.transport !== undefined) return remoteExecutor(target, settings);
  const { step, fn, description } = target;
  const { concurrency, context } = settings;
  if (!settings.thread) return new InlineExecutor({ stage: step.name, target: description, fn, step, context, concurrency, json: settings.json });
  if (fn !== undefined && step.kind === 'source' && /\{\s*\[native code\]\s*\}\s*$/.test(step.source)) {
    throw new TypeError(
      `stage "${step.name}": a native or bound function has no source to send to a worker; ` +
        'wrap it in a function of your own, use a module stage, or pass options.thread = false',
    );
  }
  return new PoolExecutor({
    stage: step.name,
    steps: [{ name: step.name, target: description }],
    init: { steps: [workerStep(target, settings)], transfer: settings.transfer, json: settings.json },
    concurrency,
    timeoutMs: settings.timeout,
    ...poolOf(settings),
  });
}

/**
 * The threads a stage runs on: its `pool`, the default pool, or (with
 * `resourceLimits`, which a shared thread cannot take per stage) a pool of
 * its own, closed with it.
 */
function poolOf(settings: ResolvedStageOptions): { pool: ThreadPool; ownsPool: boolean } {
  if (settings.resourceLimits !== undefined) {
    const threads = Number.isFinite(settings.concurrency) ? settings.concurrency : availableParallelism();
    return { pool: ownPool(threads, settings.resourceLimits), ownsPool: true };
  }
  return { pool: innerPool('options.pool', settings.pool ?? defaultWorkerPool()), ownsPool: false };
}

/** A module stage whose batches run on worker processes elsewhere, through its transport. */
function remoteExecutor(target: ResolvedTarget, settings: ResolvedStageOptions): Executor {
  const { step, description } = target;
  if (step.kind !== 'module') {
    throw new TypeError(
      `stage "${step.name}": options.transport runs module stages only ({ module, export }): ` +
        'a worker process loads the modules named on its command line and never runs code sent to it',
    );
  }
  return transportExecutor(settings.transport!, { name: step.name, target: description, highWaterMark: settings.highWaterMark });
}

function planFused(members: readonly FusableStage[]): StagePlan {
  const first = members[0]!;
  const name = members.map((m) => m.name).join('+');
  // The chain's own policy only meets failures of the whole chain (a dead
  // worker, an input that cannot cross): those are the first member's.
  const base = first.plan.settings;
  // The chain may hold what its members could hold between them: the same
  // bound on memory as unfused, and batches deep enough to keep its one
  // crossing busy (measured: 64 items in flight left the worker and the main
  // thread each idle about half the time, waiting on the round trip).
  const highWaterMark = members.reduce((sum, m) => sum + m.plan.settings.highWaterMark, 0);
  const settings: ResolvedStageOptions = { ...base, name, context: undefined, highWaterMark };
  const executor = new PoolExecutor({
    stage: name,
    steps: members.map((m) => ({ name: m.name, target: m.plan.target!.description })),
    init: { steps: members.map((m) => workerStep(m.plan.target!, m.plan.settings)), transfer: base.transfer, json: base.json },
    concurrency: base.concurrency,
    timeoutMs: undefined,
    ...poolOf(base),
  });
  const chain = members.map((m) => ({ name: m.name, stats: m.stats, policy: m.plan.settings.onError }));
  return { name, settings, target: undefined, executor, members: chain };
}
