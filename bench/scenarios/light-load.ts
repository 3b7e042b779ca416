// Scenario 5, light load: one item per millisecond through 1 and 3 trivial
// stages; the latency each stage adds, p50 and p99. The runners go in turns,
// round after round, and each figure is the median of its rounds. Latency is timed by the
// bench itself, from the moment the source hands an item on to the moment the
// sink receives it, so every runner is measured the same way; our timed
// pipeline's own per-stage figures (getLatencySummary) are reported beside.

import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import os from 'node:os';
import { inlineStages } from '../anchors/inline.js';
import { NodeMapAnchor } from '../anchors/node-map.js';
import { rawChain, rawStages } from '../anchors/raw-workers.js';
import { median, percentile } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { startedPipeline, startedStages } from '../lib/ours.js';
import { check, issueTarget } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Pipeline } from 'async-task-pipeline';
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

/** The streams an item passes, given the paced source: the source piped through a chain, or one Readable made from it. */
type Through = (source: Readable) => Array<Readable | Duplex>;

async function latencyOf(count: number, through: Through): Promise<Latencies> {
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
  await pipeline([...through(Readable.from(paced(count, sentAt))), sink]);
  if (next !== count) throw new OutputMismatch(`scenario 5: ${next} items came out of ${count}`);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), seconds: (performance.now() - started) / 1000 };
}

function chained(chain: readonly Duplex[]): Through {
  return (source) => [source, ...chain];
}

interface LatencyRunner {
  runner: string;
  stages: number;
  build: () => Promise<Through>;
}

export async function runLightLoad(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 300 : 2_000;
  const run = new ScenarioRun('5', `Light load: 1 item per ms, ${items.toLocaleString('en-US')} items, through 1 and 3 trivial stages`, options);
  const piscina = new NodeMapAnchor(os.availableParallelism());
  let timed: Pipeline | undefined;
  const runners: LatencyRunner[] = [
    { runner: 'inline, 1 stage', stages: 1, build: () => Promise.resolve(chained(inlineStages(ONE))) },
    { runner: 'inline, 3 stages', stages: 3, build: () => Promise.resolve(chained(inlineStages(THREE))) },
    { runner: 'ours, 1 stage', stages: 1, build: async () => chained(await startedStages(ONE)) },
    { runner: 'ours, 3 stages (unfused)', stages: 3, build: async () => chained(await startedStages(THREE)) },
    { runner: 'ours createPipeline, 3 stages (fused, timing on)', stages: 3, build: async () => {
      timed = await startedPipeline(THREE, { timing: true });
      return chained([timed]);
    } },
    { runner: 'raw-workers, 1 stage', stages: 1, build: async () => chained(await rawStages(ONE, { concurrency: 1 })) },
    { runner: 'raw-workers, 3 stages', stages: 3, build: async () => chained(await rawStages(THREE, { concurrency: 1 })) },
    { runner: 'raw-workers, one crossing for 3 stages', stages: 3, build: async () => chained(await rawChain(THREE, { concurrency: 1 })) },
    { runner: 'piscina, 3 stages (per item)', stages: 3, build: () => Promise.resolve((source: Readable) => [piscina.through(source, THREE)]) },
  ];
  const rounds = runners.map(() => [] as Latencies[]);
  for (let round = 0; round < options.warmups + options.runs; round++) {
    const warmUp = round < options.warmups;
    for (const [i, r] of runners.entries()) {
      const measured = await latencyOf(warmUp ? WARM_UP_ITEMS : items, await r.build());
      if (!warmUp) rounds[i]!.push(measured);
    }
  }
  await piscina.close();
  const table = runners.map((r, i) => {
    const latency = { p50Ms: median(rounds[i]!.map((l) => l.p50Ms)), p99Ms: median(rounds[i]!.map((l) => l.p99Ms)) };
    console.log(`   ${r.runner}: p50 ${latency.p50Ms.toFixed(3)} ms, p99 ${latency.p99Ms.toFixed(3)} ms end to end (p50 of runs ${rounds[i]!.map((l) => l.p50Ms.toFixed(3)).join(' ')})`);
    return { ...r, ...latency };
  });
  const byName = (name: string): { p50Ms: number; p99Ms: number } => table.find((t) => t.runner === name)!;
  const summary = timed!.getLatencySummary();

  for (const t of table) {
    run.figures[`${t.runner}: p50 ms end to end`] = t.p50Ms;
    run.figures[`${t.runner}: p99 ms end to end`] = t.p99Ms;
  }
  for (const [name, stats] of Object.entries(summary.stageStatistics)) {
    run.figures[`createPipeline summary ${name}: p50 ms`] = stats.p50Latency * 1000;
    run.figures[`createPipeline summary ${name}: p99 ms`] = stats.p99Latency * 1000;
  }
  const ours1 = byName('ours, 1 stage');
  const ours3 = byName('ours, 3 stages (unfused)');
  const fused = byName('ours createPipeline, 3 stages (fused, timing on)');
  const piscina3 = byName('piscina, 3 stages (per item)');
  const how = `medians of ${options.runs} rounds in turns`;
  run.checks.push(
    check('ours 1 stage: p50 added per stage', ours1.p50Ms, 'ms', { atMost: 0.5 }),
    check('ours 1 stage: p99 added per stage', ours1.p99Ms, 'ms', { atMost: 2 }),
    check('ours 3 stages: p50 added per stage', ours3.p50Ms / 3, 'ms', { atMost: 0.5 }),
    check('ours 3 stages: p99 added per stage', ours3.p99Ms / 3, 'ms', { atMost: 2 }),
    issueTarget('light load: unfused p50 through 3 stages / piscina\'s', ours3.p50Ms / piscina3.p50Ms, 'x', { atMost: 1 }, `${ours3.p50Ms.toFixed(3)} vs ${piscina3.p50Ms.toFixed(3)} ms, ${how}`),
    issueTarget('light load: fused p50 through 3 stages', fused.p50Ms, 'ms', { atMost: 0.1 }, `p99 ${fused.p99Ms.toFixed(3)} ms, ${how}`),
  );
  for (const t of table) {
    if (t.runner.startsWith('ours')) continue;
    run.checks.push(check(`${t.runner}: p50 end to end`, t.p50Ms, 'ms'), check(`${t.runner}: p99 end to end`, t.p99Ms, 'ms'));
  }
  const stageP50 = Object.values(summary.stageStatistics).map((stats) => (stats.p50Latency * 1000).toFixed(3));
  const stageP99 = Object.values(summary.stageStatistics).map((stats) => (stats.p99Latency * 1000).toFixed(3));
  run.notes.push(
    `end-to-end latency, from the source handing an item on to the sink receiving it; a ${WARM_UP_ITEMS}-item warm-up round first`,
    `createPipeline (timing on, 3 stages) getLatencySummary per stage p50 [${stageP50.join(', ')}] ms, p99 [${stageP99.join(', ')}] ms`,
  );
  return run.result();
}
