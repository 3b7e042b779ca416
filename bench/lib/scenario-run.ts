// The runners of one scenario, in this process, on the same data: each is
// timed (warm-up + median), its output checked against the first runner's,
// and its row kept for the table. `timeAlternating` runs a group of runners
// in turns (A B C, A B C, ...) so that a change in the machine's load hits
// every runner alike: their ratios come from the same stretch of time.

import type { BenchOptions } from './options.js';
import type { Trial } from './measure.js';
import { collectGarbage, measure, median } from './measure.js';
import { rowOf } from './report.js';
import type { Check, Row, ScenarioResult } from './report.js';
import { assertSameOutput } from './same-output.js';
import { formatRate } from './table.js';

/** One runner of an alternating group. */
export interface Runner {
  runner: string;
  items: number;
  prepare: () => Promise<Trial<unknown[]>>;
  extra?: Partial<Row>;
}

export class ScenarioRun {
  readonly rows: Row[] = [];
  readonly checks: Check[] = [];
  readonly notes: string[] = [];
  readonly figures: Record<string, number | string | boolean> = {};
  private reference: unknown[] | undefined;

  constructor(readonly id: string, readonly title: string, private readonly options: BenchOptions) {
    console.log(`\n-- ${id}. ${title}`);
  }

  /** Times one runner over `items` items; the first runner's output is the reference. */
  async time(runner: string, items: number, prepare: () => Promise<Trial<unknown[]>>, extra: Partial<Row> = {}): Promise<Row> {
    const measured = await measure({
      items,
      warmups: this.options.warmups,
      runs: this.options.runs,
      prepare,
      check: (output) => this.check(runner, output, items),
    });
    const row = rowOf(runner, items, measured, extra);
    this.rows.push(row);
    console.log(`   ${runner}: ${formatRate(row.itemsPerSecond)} items/s (runs ${measured.samplesMs.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    return row;
  }

  /**
   * Times the runners in turns: one warm-up round, then `runs` rounds (the
   * options' count unless given), each runner once per round. Rows come back
   * in the order given.
   */
  async timeAlternating(runners: readonly Runner[], runs = this.options.runs): Promise<Row[]> {
    const samples = runners.map(() => [] as number[]);
    for (let round = 0; round < this.options.warmups + runs; round++) {
      for (const [i, r] of runners.entries()) {
        const elapsed = await this.timeOnce(r);
        if (round >= this.options.warmups) samples[i]!.push(elapsed);
      }
    }
    return runners.map((r, i) => this.rowOfSamples(r, samples[i]!));
  }

  /** One trial of a runner, built, collected before and timed; its output checked. */
  private async timeOnce(r: Runner): Promise<number> {
    const trial = await r.prepare();
    collectGarbage();
    const started = performance.now();
    let output: unknown[];
    try {
      output = await trial.run();
    } finally {
      await trial.close?.();
    }
    const elapsed = performance.now() - started;
    this.check(r.runner, output, r.items);
    return elapsed;
  }

  private rowOfSamples(r: Runner, samples: number[]): Row {
    const medianMs = median(samples);
    const row = rowOf(r.runner, r.items, { itemsPerSecond: r.items / (medianMs / 1000), medianMs, samplesMs: samples }, r.extra ?? {});
    this.rows.push(row);
    console.log(`   ${r.runner}: ${formatRate(row.itemsPerSecond)} items/s (runs ${samples.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    return row;
  }

  /**
   * Two runners compared in fine turns, for a ratio that must hold in every
   * run: each run is `slices` short trials a side (each runner's `prepare`
   * gives one slice of `items` items), taken A B, B A, A B, ..., and a side's
   * run time is the sum of its slices. This machine's own speed drifts by
   * up to 1.45x in phases of seconds (a fixed single-thread loop of ~0.3 s,
   * run 12 times in a row: 285-427 ms, CPU time the same as wall time), so
   * one run of each side, a second apart, can land in different phases;
   * slices of ~0.1 s in turns put both sides in every phase alike. Rows
   * count `items` x `slices` items a run.
   */
  async timeSliced(runners: readonly [Runner, Runner], slices: number, runs = this.options.runs): Promise<[Row, Row]> {
    const samples: [number[], number[]] = [[], []];
    for (let round = 0; round < this.options.warmups + runs; round++) {
      const total = [0, 0];
      for (let s = 0; s < slices; s++) {
        for (const i of s % 2 === 0 ? [0, 1] : [1, 0]) {
          const r = runners[i]!;
          total[i]! += await this.timeOnce(r);
        }
      }
      if (round >= this.options.warmups) total.forEach((ms, i) => samples[i]!.push(ms));
    }
    const rows = runners.map((r, i) => this.rowOfSamples({ ...r, items: r.items * slices }, samples[i]!));
    return [rows[0]!, rows[1]!];
  }

  /** The runners after this compute something else (other data or stages): the next one's output is the reference. */
  newOutput(): void {
    this.reference = undefined;
  }

  /** Drops the reference output so that its memory is free for the next scenario. */
  result(): ScenarioResult {
    this.reference = undefined;
    return { id: this.id, title: this.title, rows: this.rows, checks: this.checks, notes: this.notes, figures: this.figures };
  }

  private check(runner: string, output: unknown[], items: number): void {
    if (this.reference === undefined) this.reference = output;
    else assertSameOutput(`scenario ${this.id}`, runner, this.reference, output, items);
  }
}
