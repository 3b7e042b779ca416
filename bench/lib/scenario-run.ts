// The runners of one scenario, one after another in this process, on the same
// data: each is timed (warm-up + median), its output checked against the
// first runner's, and its row kept for the table.

import type { BenchOptions } from './options.js';
import type { Trial } from './measure.js';
import { measure } from './measure.js';
import { rowOf } from './report.js';
import type { Check, Row, ScenarioResult } from './report.js';
import { assertSameOutput } from './same-output.js';
import { formatRate } from './table.js';

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
      check: (output) => {
        if (this.reference === undefined) this.reference = output;
        else assertSameOutput(`scenario ${this.id}`, runner, this.reference, output, items);
      },
    });
    const row = rowOf(runner, items, measured, extra);
    this.rows.push(row);
    console.log(`   ${runner}: ${formatRate(row.itemsPerSecond)} items/s (runs ${measured.samplesMs.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    return row;
  }

  /** Drops the reference output so that its memory is free for the next scenario. */
  result(): ScenarioResult {
    this.reference = undefined;
    return { id: this.id, title: this.title, rows: this.rows, checks: this.checks, notes: this.notes, figures: this.figures };
  }
}
