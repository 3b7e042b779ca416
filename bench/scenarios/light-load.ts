// Scenario 5, light load: one item per millisecond through 1 and 3 trivial
// stages; the latency each stage adds, p50 and p99. Latency is timed by the
// bench itself, from the moment the source hands an item on to the moment the
// sink receives it, so every runner is measured the same way; our timed
// pipeline's own per-stage figures (getLatencySummary) are reported beside.

import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { inlineStages } from '../anchors/inline.js';
import { rawStages } from '../anchors/raw-workers.js';
import { percentile } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { startedPipeline, startedStages } from '../lib/ours.js';
import { check } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Small } from '../work.js';

const ONE: WorkName[] = ['identity'];
const THREE: WorkName[] = ['identity', 'identity', 'identity'];
const WARM_UP_ITEMS = 100;

/** Items due one per millisecond; each one's hand-off time is written to `sentAt`. */
async function* paced(count: number, sentAt: Float64Array): AsyncGenerator<Small> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + i - performance.now();
    if (wait >= 1) await sleep(wait);
    sentAt[i] = performance.now();
    yield { id: i, value: i };
  }
}

interface Latencies {
  p50Ms: number;
  p99Ms: number;
  seconds: number;
}

async function latencyOf(count: number, chain: readonly Duplex[]): Promise<Latencies> {
  const sentAt = new Float64Array(count);
  const latencies: number[] = [];
  let next = 0;
  const sink = new Writable({
    objectMode: true,
    write(item: Small, _encoding, callback) {
      latencies.push(performance.now() - sentAt[item.id]!);
      if (!isDeepStrictEqual(item, { id: next, value: next })) {
        callback(new OutputMismatch(`scenario 5: expected item ${next}, got ${JSON.stringify(item)}`));
        return;
      }
      next++;
      callback();
    },
  });
  const started = performance.now();
  await pipeline([Readable.from(paced(count, sentAt)), ...chain, sink]);
  if (next !== count) throw new OutputMismatch(`scenario 5: ${next} items came out of ${count}`);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), seconds: (performance.now() - started) / 1000 };
}

export async function runLightLoad(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 300 : 2_000;
  const run = new ScenarioRun('5', `Light load: 1 item per ms, ${items.toLocaleString('en-US')} items, through 1 and 3 trivial stages`, options);
  const table: Array<[string, number, Latencies]> = [];

  async function timeLatency(runner: string, stageCount: number, build: () => Promise<Duplex[]>): Promise<Latencies> {
    await latencyOf(WARM_UP_ITEMS, await build());
    const measured = await latencyOf(items, await build());
    table.push([runner, stageCount, measured]);
    console.log(`   ${runner}: p50 ${measured.p50Ms.toFixed(3)} ms, p99 ${measured.p99Ms.toFixed(3)} ms end to end`);
    return measured;
  }

  await timeLatency('inline, 1 stage', 1, () => Promise.resolve(inlineStages(ONE)));
  await timeLatency('inline, 3 stages', 3, () => Promise.resolve(inlineStages(THREE)));
  const ours1 = await timeLatency('ours, 1 stage', 1, () => startedStages(ONE));
  const ours3 = await timeLatency('ours, 3 stages', 3, () => startedStages(THREE));
  await timeLatency('raw-workers, 1 stage', 1, () => rawStages(ONE, { concurrency: 1 }));
  await timeLatency('raw-workers, 3 stages', 3, () => rawStages(THREE, { concurrency: 1 }));
  const timed = await startedPipeline(THREE, { timing: true });
  await latencyOf(items, [timed]);
  const summary = timed.getLatencySummary();

  for (const [runner, stageCount, latency] of table) {
    run.figures[`${runner}: p50 ms per stage`] = latency.p50Ms / stageCount;
    run.figures[`${runner}: p99 ms per stage`] = latency.p99Ms / stageCount;
  }
  for (const [name, stats] of Object.entries(summary.stageStatistics)) {
    run.figures[`createPipeline summary ${name}: p50 ms`] = stats.p50Latency * 1000;
    run.figures[`createPipeline summary ${name}: p99 ms`] = stats.p99Latency * 1000;
  }
  run.checks.push(
    check('ours 1 stage: p50 added per stage', ours1.p50Ms, 'ms', { atMost: 0.5 }),
    check('ours 1 stage: p99 added per stage', ours1.p99Ms, 'ms', { atMost: 2 }),
    check('ours 3 stages: p50 added per stage', ours3.p50Ms / 3, 'ms', { atMost: 0.5 }),
    check('ours 3 stages: p99 added per stage', ours3.p99Ms / 3, 'ms', { atMost: 2 }),
  );
  for (const [runner, stageCount, latency] of table) {
    if (runner.startsWith('ours')) continue;
    run.checks.push(check(`${runner}: p50 per stage`, latency.p50Ms / stageCount, 'ms'), check(`${runner}: p99 per stage`, latency.p99Ms / stageCount, 'ms'));
  }
  const stageP50 = Object.values(summary.stageStatistics).map((stats) => (stats.p50Latency * 1000).toFixed(3));
  const stageP99 = Object.values(summary.stageStatistics).map((stats) => (stats.p99Latency * 1000).toFixed(3));
  run.notes.push(
    `latency per stage = end-to-end latency / stages; each runner had a ${WARM_UP_ITEMS}-item warm-up run first`,
    `createPipeline (timing on, 3 stages) getLatencySummary per stage p50 [${stageP50.join(', ')}] ms, p99 [${stageP99.join(', ')}] ms`,
  );
  return run.result();
}
