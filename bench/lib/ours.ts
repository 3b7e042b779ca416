// Our stages over bench/work.ts, built through the package's public API, the
// way a user would: `stage({ module, export })`.

import { createPipeline, stage } from 'async-task-pipeline';
import type { Pipeline, PipelineOptions, Stage, StageOptions } from 'async-task-pipeline';
import { WORK_MODULE } from './work-module.js';
import type { WorkName } from './work-module.js';

/** One stage per name; repeated names get a numeric suffix, as pipeline stage names must differ. */
export function ourStages(names: readonly WorkName[], options: StageOptions = {}): Stage[] {
  return names.map((name, i) => stage({ module: WORK_MODULE, export: name }, { ...options, name: `${name}-${i + 1}` }));
}

/** Our stages with their workers spawned and the function loaded, so that start-up is not timed. */
export async function startedStages(names: readonly WorkName[], options: StageOptions = {}): Promise<Stage[]> {
  const stages = ourStages(names, options);
  await Promise.all(stages.map((s) => s.start()));
  return stages;
}

/**
 * Whether createPipeline knows `fuse` (issue 4's fusion). Probed with a
 * main-thread stage that is never written to, so nothing is spawned.
 */
export function fuseOptionSupported(): boolean {
  try {
    createPipeline([stage((x: unknown) => x, { thread: false })], { fuse: false });
    return true;
  } catch (error) {
    if (error instanceof TypeError && /fuse/.test(error.message)) return false;
    throw error;
  }
}

/** Whether stage() knows `transfer` (moving Buffers instead of copying them). */
export function transferOptionSupported(): boolean {
  try {
    stage((x: unknown) => x, { thread: false, transfer: true });
    return true;
  } catch (error) {
    if (error instanceof TypeError && /transfer/.test(error.message)) return false;
    throw error;
  }
}

export interface OurPipelineOptions {
  timing: boolean;
  /** false asks for no fusion; only passed when the option exists. */
  fuse?: boolean;
}

export async function startedPipeline(names: readonly WorkName[], pipelineOptions: OurPipelineOptions, stageOptions: StageOptions = {}): Promise<Pipeline> {
  const options: Record<string, unknown> = { timing: pipelineOptions.timing };
  if (pipelineOptions.fuse === false) options.fuse = false;
  const pipeline = createPipeline(ourStages(names, stageOptions), options as PipelineOptions);
  await pipeline.start();
  return pipeline;
}

/** What the report says about fusion, if it says anything (the key is not settled yet). */
export function fusionNote(pipeline: Pipeline): string | undefined {
  const report = pipeline.getReport() as unknown as Record<string, unknown>;
  const summary = report.summary as Record<string, unknown> | undefined;
  for (const source of [report, summary ?? {}]) {
    for (const [key, value] of Object.entries(source)) if (/fus/i.test(key)) return `${key}: ${JSON.stringify(value)}`;
  }
  return undefined;
}
