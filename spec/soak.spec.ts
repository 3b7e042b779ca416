// Nothing lost: items through faulty stages are all accounted for, and every
// item that did not fail comes out once, in order. Faults are seeded, so a
// failure reproduces.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import fc from 'fast-check';
import { createPipeline, stage } from 'async-task-pipeline';
import type { Stage } from 'async-task-pipeline';
import type { Fault, FaultyItem } from './fixtures/faults.js';
import { Collector, fixture, seededRandom } from './helpers.js';

const faulty = { module: fixture('faults.js'), export: 'faulty' };

/** What must come out: the ids of items no stage fails or filters, in input order. */
function survivors(items: FaultyItem[], stages: number): number[] {
  const fatal = new Set<Fault>(['throw', 'reject', 'filter', 'exit']);
  return items.filter((item) => item.faults.slice(0, stages).every((f) => !fatal.has(f))).map((item) => item.id);
}

function faultyStages(count: number, itemCount: number, concurrency: number, ordered = true): Stage[] {
  const exited = new SharedArrayBuffer(itemCount);
  return Array.from({ length: count }, (_, i) =>
    stage(faulty, { name: `s${i}`, concurrency, ordered, onError: 'skip', context: { stage: i, exited } }));
}

function expectReconciled(stages: Stage[], received: number): void {
  let flowing = received;
  for (const s of stages) {
    const c = s.stats;
    expect(c.received, `${s.name} received`).to.equal(flowing);
    expect(c.received, `${s.name} accounts for every item`).to.equal(c.emitted - c.fanOut + c.filtered + c.failed + c.skipped);
    expect(c.itemsHeld, `${s.name} holds nothing at the end`).to.equal(0);
    flowing = c.emitted;
  }
}

describe('nothing lost', function () {
  this.timeout(180_000);

  it('a soak of 100k items through 3 faulty stages with concurrency 2 reconciles exactly and keeps order', async () => {
    const random = seededRandom(20261127);
    const count = 100_000;
    const pick = (): Fault => {
      const r = random();
      if (r < 0.00004) return 'exit';
      if (r < 0.00008) return 'exit-once';
      if (r < 0.005) return 'throw';
      if (r < 0.008) return 'filter';
      if (r < 0.0085) return 'slow';
      return 'none';
    };
    const items: FaultyItem[] = Array.from({ length: count }, (_, id) => ({ id, faults: [pick(), pick(), pick()], passed: 0 }));
    const stages = faultyStages(3, count, 2);
    const sink = new Collector();
    const run = createPipeline(stages);
    await pipeline(Readable.from(items), run, sink);

    const out = sink.chunks as FaultyItem[];
    expect(out.map((item) => item.id)).to.deep.equal(survivors(items, 3));
    expect(out.every((item) => item.passed === 3)).to.equal(true);
    expectReconciled(stages, count);
    const summary = run.getLatencySummary();
    expect(summary.counts.received).to.equal(count);
    expect(summary.counts.received).to.equal(summary.counts.emitted + summary.counts.filtered + summary.counts.skipped + summary.counts.failed);
    const exits = items.filter((item) => item.faults.some((f) => f === 'exit' || f === 'exit-once')).length;
    expect(exits, 'the seed injects worker crashes').to.be.greaterThan(5);
    expect(summary.counts.retried, 'crashed batches were re-run').to.be.greaterThan(0);
  });

  it('keeps order and accounts for every item under random delays and faults (property)', async () => {
    const fault = fc.constantFrom<Fault>('none', 'none', 'none', 'none', 'throw', 'reject', 'filter', 'slow', 'exit-once');
    const scenario = fc.record({
      faults: fc.array(fc.tuple(fault, fault), { minLength: 1, maxLength: 60 }),
      concurrency: fc.integer({ min: 1, max: 2 }),
      highWaterMark: fc.integer({ min: 1, max: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ faults, concurrency, highWaterMark }) => {
        const items: FaultyItem[] = faults.map((pair, id) => ({ id, faults: pair, passed: 0 }));
        const exited = new SharedArrayBuffer(items.length);
        const stages = [0, 1].map((i) =>
          stage(faulty, { name: `p${i}`, concurrency, highWaterMark, onError: 'skip', context: { stage: i, exited } }));
        const sink = new Collector();
        await pipeline(Readable.from(items), ...(stages as [Stage, Stage]), sink);
        expect((sink.chunks as FaultyItem[]).map((item) => item.id)).to.deep.equal(survivors(items, 2));
        expectReconciled(stages, items.length);
      }),
      { numRuns: 25, seed: 42 },
    );
  });

  it('emits every surviving item exactly once in completion order when unordered (property)', async () => {
    const fault = fc.constantFrom<Fault>('none', 'none', 'slow', 'throw', 'filter');
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { minLength: 1, maxLength: 80 }), async (faults) => {
        const items: FaultyItem[] = faults.map((f, id) => ({ id, faults: [f], passed: 0 }));
        const stages = faultyStages(1, items.length, 2, false);
        const sink = new Collector();
        await pipeline(Readable.from(items), stages[0]!, sink);
        const ids = (sink.chunks as FaultyItem[]).map((item) => item.id);
        expect([...ids].sort((a, b) => a - b)).to.deep.equal(survivors(items, 1));
        expectReconciled(stages, items.length);
      }),
      { numRuns: 15, seed: 7 },
    );
  });
});
