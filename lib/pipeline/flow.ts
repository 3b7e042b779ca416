// The figures bottleneck.ts judges, gathered from a pipeline's links: each
// member's time in its function (from its own stats, so a fused chain's
// members and a remote stage count as well as a stage on threads), the
// threads each may use, and the sampler's wait shares.

import { PoolExecutor } from '../run/pool-executor.js';
import { defaultWorkerPool } from '../run/worker-pool.js';
import type { Stage } from '../stage/stage.js';
import type { LinkFigures, RunFigures } from './bottleneck.js';
import type { RunSampler } from './run-sampler.js';

/** A link's member stages: a fused chain's, or the stage itself. */
export function membersOf(link: Stage): ReadonlyArray<{ name: string; stats: Stage['stats'] }> {
  return link.plan.members ?? [link];
}

function threadsOf(link: Stage): Pick<LinkFigures, 'threads' | 'poolThreads' | 'runsOn' | 'pool'> {
  const { executor, settings } = link.plan;
  if (executor instanceof PoolExecutor) {
    // With resourceLimits a stage has a pool of its own.
    const pool = settings.resourceLimits !== undefined ? executor : (settings.pool ?? defaultWorkerPool());
    const poolThreads = pool === executor ? executor.concurrency : (pool as { threads: number }).threads;
    return { threads: executor.concurrency, poolThreads, runsOn: 'pool', pool };
  }
  if (executor.parallelism !== undefined) {
    const threads = executor.parallelism();
    return { threads, poolThreads: threads, runsOn: 'remote', pool: undefined };
  }
  // The main thread: one, or `concurrency` calls of an async function at once.
  const threads = Number.isFinite(settings.concurrency) ? settings.concurrency : 1;
  return { threads, poolThreads: threads, runsOn: 'main', pool: undefined };
}

export function linkFigures(links: readonly Stage[], sampler: RunSampler): LinkFigures[] {
  const shares = sampler.shares();
  return links.map((link, i) => {
    const members = membersOf(link);
    return {
      names: members.map((m) => m.name),
      computationSeconds: members.map((m) => m.stats.computationTime),
      avgComputationSeconds: members.map((m) => (m.stats.latency.count === 0 ? 0 : m.stats.computationTime / m.stats.latency.count)),
      ...threadsOf(link),
      writerWaited: shares.writerWaited[i] ?? 0,
      readerWaited: shares.readerWaited[i] ?? 0,
    };
  });
}

export function runFigures(sampler: RunSampler, itemsOut: number): RunFigures {
  const shares = sampler.shares();
  return { elapsedSeconds: sampler.elapsedSeconds(), itemsOut, samples: shares.samples, sinkBehind: shares.sinkBehind, sourceIdle: shares.sourceIdle };
}
