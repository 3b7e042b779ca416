// Scenario 1, CPU-bound: three stages of about 1 ms of busy work per item,
// `concurrency` equal to the cores. The ceiling is the core count (2.0x
// inline here); what is left is how well each runner keeps every core busy.

import os from 'node:os';
import { inlineStages } from '../anchors/inline.js';
import { NodeMapAnchor } from '../anchors/node-map.js';
import { rawStages } from '../anchors/raw-workers.js';
import { runThrough } from '../lib/drive.js';
import type { BenchOptions } from '../lib/options.js';
import { ourStages, startedPipeline, startedStages } from '../lib/ours.js';
import { issueTarget, ratio } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Small } from '../work.js';

const STAGES: WorkName[] = ['busy1ms', 'busy1ms', 'busy1ms'];
const ONE: WorkName[] = ['busy1ms'];
/** Issue 17's case: one stage, 600 items, made inside the timed run, as a script or a request would. */
const FRESH_ITEMS = 600;

export async function runCpuBound(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 300 : 2_000;
  const concurrency = os.availableParallelism();
  const run = new ScenarioRun('1', `CPU-bound: 3 stages of ~1 ms per item, ${items.toLocaleString('en-US')} items, concurrency ${concurrency}`, options);
  const data: Small[] = Array.from({ length: items }, (_, i) => ({ id: i, value: i }));

  const inline = await run.time('inline', items, () => Promise.resolve({ run: () => runThrough(data, inlineStages(STAGES)) }));
  const ours = await run.time('ours (stream.pipeline of stages)', items, async () => {
    const stages = await startedStages(STAGES, { concurrency });
    return { run: () => runThrough(data, stages) };
  });
  // createPipeline fuses the three stages (same concurrency) into one chain:
  // `concurrency` workers in all, rather than `concurrency` per stage.
  const fused = await run.time('ours createPipeline (fused)', items, async () => {
    const pipeline = await startedPipeline(STAGES, { timing: false }, { concurrency });
    return { run: () => runThrough(data, [pipeline]) };
  });
  const raw = await run.time('raw-workers', items, async () => {
    const stages = await rawStages(STAGES, { concurrency });
    return { run: () => runThrough(data, stages) };
  });
  const anchor = new NodeMapAnchor(concurrency);
  const nodeMap = await run.time('node-map (piscina)', items, () => Promise.resolve({ run: () => anchor.run(data, STAGES) }));
  await anchor.close();

  // A fresh stage per run on the default pool (warm from the runs before, as
  // in a long-lived process), its making and start-up inside the time.
  const freshData = data.slice(0, options.quick ? 100 : FRESH_ITEMS);
  run.newOutput();
  const [freshInline, fresh] = await run.timeAlternating([
    { runner: `inline, 1 stage, ${freshData.length} items`, items: freshData.length, prepare: () => Promise.resolve({ run: () => runThrough(freshData, inlineStages(ONE)) }), extra: { chart: false } },
    { runner: `ours, a fresh stage per run (1 stage, ${freshData.length} items, default pool)`, items: freshData.length, prepare: () => Promise.resolve({
      run: () => runThrough(freshData, ourStages(ONE, { concurrency })),
    }), extra: { chart: false } },
  ], options.quick ? 1 : 5);

  run.checks.push(
    issueTarget(`CPU-bound 1 ms items, ${freshData.length}, a fresh stage per run on the default pool / inline`, fresh!.itemsPerSecond / freshInline!.itemsPerSecond, 'x', { atLeast: 1.8 },
      `medians of ${fresh!.samplesMs!.length} alternating runs; per-run ratios ${fresh!.samplesMs!.map((ms, i) => (freshInline!.samplesMs![i]! / ms).toFixed(2)).join(' ')}`),
    ratio('ours createPipeline / inline', fused.itemsPerSecond, inline.itemsPerSecond, 1.8),
    ratio('ours createPipeline / node-map', fused.itemsPerSecond, nodeMap.itemsPerSecond, 1.0),
    ratio('ours stream.pipeline / inline', ours.itemsPerSecond, inline.itemsPerSecond, 1.8),
    ratio('ours stream.pipeline / node-map', ours.itemsPerSecond, nodeMap.itemsPerSecond, 1.0),
    ratio('ours stream.pipeline / raw-workers', ours.itemsPerSecond, raw.itemsPerSecond),
  );
  run.notes.push(`stream.pipeline of stages runs ${concurrency} workers per stage (${concurrency * STAGES.length} threads on ${concurrency} cores); createPipeline fuses them into ${concurrency}`);
  run.notes.push(`ceiling: ${concurrency}.0x inline (one busy core per thread; ${concurrency} cores)`);
  return run.result();
}
