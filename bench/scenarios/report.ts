// Scenario "report" (issue 18): what the run report costs. Three light stages
// (fused, timing on) over small items, the case where any per-item cost
// shows most. Two figures:
// - the running cost: the same run with the pipeline's sampler (the timer
//   that reads the stages' waits and the time series, run-sampler.ts) on and
//   off, in turns. The sampler is the only thing the report adds while a run
//   lasts; switching it off is done here by stubbing its start().
// - the report of a run of `items`: its size in bytes and the time
//   getHtmlReport() takes (first call, and the median of the next ones).
// Targets from the issue: under 1 MB, under 50 ms, cost within the noise.

import { RunSampler } from '../../lib/pipeline/run-sampler.js';
import { runThrough } from '../lib/drive.js';
import { pipelineRunner } from '../lib/fusion.js';
import type { Trial } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { startedPipeline } from '../lib/ours.js';
import { check, spreadOf } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Small } from '../work.js';

const STAGES: WorkName[] = ['addOne', 'double', 'negate'];
const BUILDS = 5;

/** The trial with the sampler stubbed out while it runs. */
function withoutSampler(prepare: () => Promise<Trial<unknown[]>>): () => Promise<Trial<unknown[]>> {
  return async () => {
    const trial = await prepare();
    return {
      run: async () => {
        const proto = RunSampler.prototype;
        const start = Object.getOwnPropertyDescriptor(proto, 'start')!;
        Object.defineProperty(proto, 'start', { ...start, value: () => undefined });
        try {
          return await trial.run();
        } finally {
          Object.defineProperty(proto, 'start', start);
        }
      },
    };
  };
}

export async function runReport(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 100_000 : 1_000_000;
  const run = new ScenarioRun('report', `Run report: ${items.toLocaleString('en-US')} { id, value } through 3 light fused stages, timing on`, options);
  const data: Small[] = Array.from({ length: items }, (_, i) => ({ id: i, value: i % 1000 }));

  // The second run of a process is still warming up (JIT): one measured round in
  // quick mode read 0.74-0.82x for the runner that came first, as order, not cost.
  const rounds = options.quick ? 3 : 5;
  const [on, off] = await run.timeAlternating([
    { runner: 'ours createPipeline (sampler on, as shipped)', items, prepare: pipelineRunner(data, STAGES, { timing: true }) },
    { runner: 'ours createPipeline (sampler off)', items, prepare: withoutSampler(pipelineRunner(data, STAGES, { timing: true })), extra: { chart: false } },
  ], rounds);

  const pipeline = await startedPipeline(STAGES, { timing: true });
  await runThrough(data, [pipeline]);
  const buildMs: number[] = [];
  let html = '';
  for (let i = 0; i < BUILDS; i++) {
    const started = performance.now();
    html = pipeline.getHtmlReport({ title: `bench: ${items} items` });
    buildMs.push(performance.now() - started);
  }
  const bytes = Buffer.byteLength(html);
  const later = buildMs.slice(1).sort((a, b) => a - b);
  const medianMs = later[Math.floor(later.length / 2)]!;
  const cost = on!.itemsPerSecond / off!.itemsPerSecond;
  console.log(`   report of ${items.toLocaleString('en-US')} items: ${(bytes / 1024).toFixed(1)} KB, built in ${buildMs[0]!.toFixed(1)} ms (first), ${medianMs.toFixed(1)} ms (median of the next ${BUILDS - 1})`);
  const perRound = (on!.samplesMs ?? []).map((ms, i) => ((off!.samplesMs ?? [])[i]! / ms).toFixed(2)).join(' ');
  console.log(`   running cost: sampler on / off ${cost.toFixed(3)}x (on ${spreadOf(on!)}; off ${spreadOf(off!)}; per-round ratios ${perRound})`);
  run.checks.push(
    check(`report size, ${items} items`, bytes / 1024, 'KB', { atMost: 1024 }),
    check('report build, first call', buildMs[0]!, 'ms', { atMost: 50 }),
    check('report build, median', medianMs, 'ms', { atMost: 50 }),
    check('running cost: sampler on / off', cost, 'x', { atLeast: 0.95 }),
  );
  run.figures.reportBytes = bytes;
  run.figures.reportBuildFirstMs = buildMs[0]!;
  run.figures.reportBuildMedianMs = medianMs;
  run.notes.push(`the summary's verdict on this run: ${pipeline.getLatencySummary().throughput.advice}`);
  return run.result();
}
