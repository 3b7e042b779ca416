// Scenario 2, tiny items: three light stages over small `{ id, value }`
// objects. The work is nothing; what is measured is the cost of a stage and of
// crossing to a worker and back, per item.

import { inlineStages } from '../anchors/inline.js';
import { timeCrossingAnchors } from '../lib/crossing-anchors.js';
import { runThrough } from '../lib/drive.js';
import type { BenchOptions } from '../lib/options.js';
import { pipelineRunner, timeFusion } from '../lib/fusion.js';
import { startedStages } from '../lib/ours.js';
import { check, ratio } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Small } from '../work.js';

const STAGES: WorkName[] = ['addOne', 'double', 'negate'];
/** The Python original, 3 identity stages, timing off (python-original.md). */
export const PYTHON_ITEMS_PER_SECOND = 5_338;
const OURS = 'ours (stream.pipeline of stages)';

export async function runTinyItems(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 100_000 : 1_000_000;
  const nodeMapItems = options.quick ? 3_000 : 20_000;
  const run = new ScenarioRun('2', `Tiny items: 3 light stages over ${items.toLocaleString('en-US')} { id, value }`, options);
  const data: Small[] = Array.from({ length: items }, (_, i) => ({ id: i, value: i % 1000 }));

  await run.time('inline', items, () => Promise.resolve({ run: () => runThrough(data, inlineStages(STAGES)) }), { note: 'no crossing: the ceiling' });
  const ours = await run.time(OURS, items, async () => {
    const stages = await startedStages(STAGES);
    return { run: () => runThrough(data, stages) };
  });
  const fusion = await timeFusion(run, items, data, STAGES, OURS);
  const timed = await run.time('ours createPipeline (timing on)', items, pipelineRunner(data, STAGES, { timing: true }), { chart: false });
  const { raw, nodeMap } = await timeCrossingAnchors(run, data, STAGES, nodeMapItems);
  run.rows.push({ runner: 'python original (0.1.10)', items: 1000, itemsPerSecond: PYTHON_ITEMS_PER_SECOND, reference: true });

  run.checks.push(
    ratio('ours / raw-workers', ours.itemsPerSecond, raw.itemsPerSecond, 0.8),
    ratio('ours / node-map', ours.itemsPerSecond, nodeMap.itemsPerSecond, 10),
    ratio('ours / python original', ours.itemsPerSecond, PYTHON_ITEMS_PER_SECOND, 50),
    ratio(`createPipeline fused / ${fusion.unfusedLabel}`, fusion.fused.itemsPerSecond, fusion.unfused.itemsPerSecond, 2),
    check('createPipeline timing on / off (1 - cost)', timed.itemsPerSecond / fusion.fused.itemsPerSecond, 'x', { atLeast: 0.85 }),
  );
  run.notes.push(...fusion.notes);
  return run.result();
}
