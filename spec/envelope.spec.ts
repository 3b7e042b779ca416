import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { DetailedTiming, PipelineItem, createPipeline, stage } from 'async-task-pipeline';
import { Collector, range, runThrough } from './helpers.js';
import { ChainTimes } from '../lib/timing/chain-times.js';

// Timestamps come from different threads on one aligned clock (see
// clock.spec.ts): no slack is allowed between them.
function expectInOrder(timing: DetailedTiming): void {
  expect(timing.processingStartTime).to.be.at.least(timing.queueEnterTime);
  expect(timing.processingEndTime).to.be.at.least(timing.processingStartTime);
  expect(timing.queueExitTime).to.be.at.least(timing.processingEndTime);
}

describe('the envelope rule', () => {
  it('emits plain values for plain values in', async () => {
    const out = await runThrough(stage((x: number) => x * 2), [1, 2, 3]);
    expect(out).to.deep.equal([2, 4, 6]);
    for (const x of out) expect(x).to.not.be.instanceOf(PipelineItem);
  });

  it('emits the same PipelineItem with its seq kept and data replaced', async () => {
    const inputs = [new PipelineItem(1, 10), new PipelineItem(2, 11)];
    const out = (await runThrough(stage((x: number) => `n${x}`), inputs)) as PipelineItem[];
    expect(out).to.have.length(2);
    out.forEach((item) => expect(item).to.be.instanceOf(PipelineItem));
    expect(out.map((item) => item.seq)).to.deep.equal([10, 11]);
    expect(out.map((item) => item.data)).to.deep.equal(['n1', 'n2']);
  });

  it("adds the stage's DetailedTiming under its name", async () => {
    const [item] = (await runThrough(stage((x: number) => x + 1, { name: 'inc' }), [new PipelineItem(1, 0)])) as PipelineItem[];
    const timing = item!.stageTimings.get('inc');
    expect(timing).to.be.instanceOf(DetailedTiming);
    expectInOrder(timing!);
    expect(timing!.queueEnterTime).to.be.at.least(item!.createdAt);
  });

  it('records a timing that reads the same from a main-thread stage', async () => {
    const [item] = (await runThrough(stage((x: number) => x + 1, { name: 'inline', thread: false }), [new PipelineItem(1, 0)])) as PipelineItem[];
    const timing = item!.stageTimings.get('inline');
    expect(timing).to.be.instanceOf(DetailedTiming);
    expectInOrder(timing!);
  });

  it('adds one timing per stage, in the order the stages were passed', async () => {
    const first = stage((x: number) => x + 1, { name: 'first' });
    const second = stage((x: number) => x * 3, { name: 'second' });
    const sink = new Collector();
    await pipeline(Readable.from([new PipelineItem(1, 4)]), first, second, sink);
    const [item] = sink.chunks as PipelineItem[];
    expect(item!.data).to.equal(6);
    expect(item!.seq).to.equal(4);
    expect([...item!.stageTimings.keys()]).to.deep.equal(['first', 'second']);
    const a = item!.stageTimings.get('first')!;
    const b = item!.stageTimings.get('second')!;
    expect(b.queueEnterTime).to.be.at.least(a.queueExitTime);
    expect(item!.getTotalLatency()).to.be.at.least(a.totalStageTime + b.totalStageTime);
  });

  it('records no timing for an item created untimed', async () => {
    const [item] = (await runThrough(stage((x: number) => x), [new PipelineItem(1, 0, 0, false)])) as PipelineItem[];
    expect(item).to.be.instanceOf(PipelineItem);
    expect(item!.stageTimings.size).to.equal(0);
  });

  it('createPipeline takes plain values and gives plain values', async () => {
    const p = createPipeline([stage((x: number) => x + 1, { name: 'a' }), stage((x: number) => x * 2, { name: 'b' })]);
    const out = await runThrough(p, range(10));
    expect(out).to.deep.equal(range(10).map((x) => (x + 1) * 2));
    for (const x of out) expect(x).to.not.be.instanceOf(PipelineItem);
  });

  it('createPipeline gives plain objects back unchanged in shape', async () => {
    const p = createPipeline([stage((x: { id: number }) => ({ ...x, seen: true }))]);
    expect(await runThrough(p, [{ id: 1 }, { id: 2 }])).to.deep.equal([{ id: 1, seen: true }, { id: 2, seen: true }]);
  });

  it('createPipeline times every item through every stage', async () => {
    const p = createPipeline([stage((x: number) => x + 1, { name: 'a' }), stage((x: number) => x * 2, { name: 'b' })]);
    await runThrough(p, range(5));
    const report = p.getReport();
    expect(report.recentItems.map((r) => r.seq)).to.deep.equal(range(5));
    for (const r of report.recentItems) expect(Object.keys(r.stages)).to.deep.equal(['a', 'b']);
  });
});

describe('timings of a fused chain in the envelope', () => {
  it('times every item through a fused pair and the stage after it', async () => {
    // c runs two at a time: it is not fused with a and b.
    const p = createPipeline([
      stage((x: number) => x + 1, { name: 'a' }),
      stage((x: number) => x * 2, { name: 'b' }),
      stage((x: number) => x - 1, { name: 'c', concurrency: 2 }),
    ]);
    const out = await runThrough(p, range(50));
    expect(out).to.deep.equal(range(50).map((x) => (x + 1) * 2 - 1));
    expect(p.getReport().fusedGroups).to.deep.equal([['a', 'b']]);
    const items = p.getReport().recentItems;
    expect(items).to.have.length(50);
    for (const r of items) {
      expect(Object.keys(r.stages)).to.deep.equal(['a', 'b', 'c']);
      for (const name of ['a', 'b', 'c']) expect(r.stages[name]!.totalStageTime).to.be.above(0);
    }
  });

  it('keeps the names a chain gave when an item adds a stage, and forks apart', () => {
    const names = ['a', 'b'];
    const times = [10, 11, 11, 12];
    const item = new PipelineItem(1, 0, 9);
    item.addChainTimings(new ChainTimes(names, times, 1, 2), 0, 9, 13);
    const copy = item.fork(2);
    item.addTiming('c', 13, 14, 15, 16, 1);
    copy.addTiming('d', 13, 14, 15, 16, 1);
    expect(names).to.deep.equal(['a', 'b']);
    expect([...item.stageTimings.keys()]).to.deep.equal(['a', 'b', 'c']);
    expect([...copy.stageTimings.keys()]).to.deep.equal(['a', 'b', 'd']);
    expect(item.stageTimings.get('a')).to.deep.equal(new DetailedTiming(9, 10, 11, 11, 1));
    expect(item.stageTimings.get('b')).to.deep.equal(new DetailedTiming(11, 11, 12, 13, 1));
    expect(copy.stageTimings.get('d')).to.deep.equal(new DetailedTiming(13, 14, 15, 16, 1));
  });

  it('gives each item of a chain batch its own timings, read at any time after', () => {
    // Two items of one batch through a chain of two: records 0-1 and 2-3.
    const chain = new ChainTimes(['a', 'b'], [10, 11, 11, 12, 20, 21, 21, 22], 7, 4);
    const one = new PipelineItem('x', 0, 1);
    const two = new PipelineItem('y', 1, 2);
    one.addChainTimings(chain, 0, 9, 13);
    two.addChainTimings(chain, 2, 19, 23);
    expect(two.getStageLatencies()).to.deep.equal({ a: 2, b: 2 });
    expect(two.stageTimings.get('b')).to.deep.equal(new DetailedTiming(21, 21, 22, 23, 7));
    expect(one.stageTimings.get('a')).to.deep.equal(new DetailedTiming(9, 10, 11, 11, 7));
    expect(one.stageTimings.get('b')).to.deep.equal(new DetailedTiming(11, 11, 12, 13, 7));
    expect(one.getTotalLatency()).to.equal(12);
    // A second chain after the first adds to the timings made so far.
    const next = new ChainTimes(['c'], [30, 31], 8, 1);
    one.addChainTimings(next, 0, 29, 32);
    expect([...one.stageTimings.keys()]).to.deep.equal(['a', 'b', 'c']);
    expect(one.stageTimings.get('c')).to.deep.equal(new DetailedTiming(29, 30, 31, 32, 8));
    // Each stage a pass of its own; a fork shares them.
    const passes = one.passes().map((p) => p.pass);
    expect(new Set(passes).size).to.equal(3);
    const fork = two.fork('z');
    expect(fork.passes().map((p) => p.pass)).to.deep.equal(two.passes().map((p) => p.pass));
  });
});
