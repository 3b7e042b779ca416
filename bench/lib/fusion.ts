// createPipeline runs, fused (as it runs by default) and unfused, shared by
// the scenarios that compare them.

import { runThrough } from './drive.js';
import type { Trial } from './measure.js';
import { fuseOptionSupported, fusionNote, startedPipeline } from './ours.js';
import type { OurPipelineOptions } from './ours.js';
import type { Row } from './report.js';
import type { ScenarioRun } from './scenario-run.js';
import type { WorkName } from './work-module.js';

/** A trial that runs data through a started createPipeline. */
export function pipelineRunner(data: readonly unknown[], stages: readonly WorkName[], options: OurPipelineOptions): () => Promise<Trial<unknown[]>> {
  return async () => {
    const pipeline = await startedPipeline(stages, options);
    return { run: () => runThrough(data, [pipeline]) };
  };
}

export interface FusionRows {
  fused: Row;
  unfused: Row;
  unfusedLabel: string;
  notes: string[];
}

/**
 * createPipeline with timing off, fused where the library fuses, against the
 * same stages unfused: `fuse: false` when the option exists, else the
 * stream.pipeline row the scenario already timed (`unfusedRunner`).
 */
export async function timeFusion(run: ScenarioRun, items: number, data: readonly unknown[], stages: readonly WorkName[], unfusedRunner: string): Promise<FusionRows> {
  const notes: string[] = [];
  let lastNote: string | undefined;
  const fused = await run.time('ours createPipeline (timing off)', items, async () => {
    const pipeline = await startedPipeline(stages, { timing: false });
    return {
      run: async () => {
        const out = await runThrough(data, [pipeline]);
        lastNote = fusionNote(pipeline);
        return out;
      },
    };
  });
  notes.push(lastNote === undefined ? 'the pipeline report says nothing about fusion' : `report: ${lastNote}`);
  if (fuseOptionSupported()) {
    const unfused = await run.time('ours createPipeline (fuse: false, timing off)', items, pipelineRunner(data, stages, { timing: false, fuse: false }), { chart: false });
    return { fused, unfused, unfusedLabel: 'fuse: false', notes };
  }
  notes.push('createPipeline has no `fuse` option yet (no fusion in lib/): "unfused" is stream.pipeline of the same stages');
  const unfused = run.rows.find((row) => row.runner === unfusedRunner);
  if (unfused === undefined) throw new Error(`no row "${unfusedRunner}" to compare fusion with`);
  return { fused, unfused, unfusedLabel: 'stream.pipeline (unfused)', notes };
}
