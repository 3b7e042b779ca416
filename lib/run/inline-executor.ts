// `thread: false`: the stage function runs on the main thread, through the
// same batch runner as in a worker, so timing, filtering and fan-out agree.

import { createBatchRunner } from './batch-runner.js';
import type { BatchRunner, StageFn } from './batch-runner.js';
import { StageError } from '../errors.js';
import type { Executor, RunResult } from './executor.js';
import { parsingInput, stringifyingResults } from './json-text.js';
import { loadStep } from './load-step.js';
import type { StepSpec } from './protocol.js';

export interface InlineExecutorOptions {
  stage: string;
  target: string;
  /** The function itself, or undefined to load `step` (a module) on start. */
  fn: StageFn | undefined;
  step: StepSpec;
  context: unknown;
  concurrency: number;
  /** Items and results are JSON text (see json-text.ts). */
  json: boolean;
}

export class InlineExecutor implements Executor {
  private runBatch: BatchRunner | undefined;
  private starting: Promise<void> | undefined;
  private inFlight = 0;

  constructor(private readonly options: InlineExecutorOptions) {}

  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  // No thread can die here, so `alone` changes nothing.
  hasRoom(): boolean {
    return this.inFlight < this.options.concurrency;
  }

  // One item per call: an async function gets `concurrency` calls in flight.
  batchLimit(): number {
    return 1;
  }

  async run(inputs: unknown[], _alone = false, timed = true): Promise<RunResult> {
    this.inFlight++;
    try {
      await this.start();
      return await this.runBatch!(inputs, timed);
    } finally {
      this.inFlight--;
    }
  }

  causeOf(stored: unknown): unknown {
    return stored;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async load(): Promise<void> {
    const { fn, step, context, stage, target } = this.options;
    let loaded: StageFn;
    try {
      loaded = fn ?? (await loadStep(step));
    } catch (error) {
      throw StageError.loadFailed(stage, target, error);
    }
    const keep = (error: unknown): unknown => error;
    if (this.options.json) {
      this.runBatch = stringifyingResults(createBatchRunner({ fn: parsingInput(loaded), context, fromSource: false, storeError: keep }), 0, keep);
    } else {
      this.runBatch = createBatchRunner({ fn: loaded, context, fromSource: false, storeError: keep });
    }
  }
}
