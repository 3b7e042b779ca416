// Fusion: adjacent worker stages run as one chain in one worker call, and
// every observable behaviour is the same as when they run apart. Each case
// runs twice, fused and unfused, and the two runs must agree.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { StageError, createPipeline, stage } from 'async-task-pipeline';
import type { Stage, StageOptions } from 'async-task-pipeline';
import { Collector, range, rejectionOf } from './helpers.js';

type Build = () => Stage[];

interface Run {
  out: unknown[];
  counts: Record<string, object>;
  fusedGroups: string[][];
}

async function runBoth(build: Build, inputs: unknown[]): Promise<{ fused: Run; unfused: Run }> {
  const run = async (fuse: boolean): Promise<Run> => {
    const stages = build();
    const p = createPipeline(stages, { fuse });
    const sink = new Collector();
    await pipeline(Readable.from(inputs), p, sink);
    const counts = Object.fromEntries(stages.map((s) => [s.name, s.stats.counts()]));
    return { out: sink.chunks.map((x) => (x instanceof StageError ? `${x.code}:${x.stage}:${x.seq}` : x)), counts, fusedGroups: p.getReport().fusedGroups };
  };
  return { fused: await run(true), unfused: await run(false) };
}

function expectSame({ fused, unfused }: { fused: Run; unfused: Run }, groups: string[][]): void {
  expect(fused.fusedGroups).to.deep.equal(groups);
  expect(unfused.fusedGroups).to.deep.equal([]);
  expect(fused.out).to.deep.equal(unfused.out);
  expect(fused.counts).to.deep.equal(unfused.counts);
}

const three = (options: StageOptions[] = [{}, {}, {}]): Build => () => [
  stage((x: number) => x * 2, { name: 'double', ...options[0] }),
  stage((x: number) => (x % 3 === 0 ? null : x), { name: 'notThrees', ...options[1] }),
  stage(function* (x: number) { yield x; if (x % 4 === 0) yield -x; }, { name: 'echo', ...options[2] }),
];

describe('fusion', function () {
  this.timeout(60_000);

  it('fuses adjacent worker stages and says so in the report', async () => {
    const runs = await runBoth(three(), range(30));
    expectSame(runs, [['double', 'notThrees', 'echo']]);
  });

  it('keeps filtering and fan-out the same, in order, with concurrency 2', async () => {
    const c2: StageOptions = { concurrency: 2 };
    const runs = await runBoth(three([c2, c2, c2]), range(500));
    expectSame(runs, [['double', 'notThrees', 'echo']]);
    expect(runs.fused.out.length).to.be.greaterThan(300);
  });

  it('fuses only neighbours with the same concurrency', async () => {
    const runs = await runBoth(three([{}, { concurrency: 2 }, { concurrency: 2 }]), range(40));
    expectSame(runs, [['notThrees', 'echo']]);
  });

  it('keeps skip, emit and handler policies and their counts the same', async () => {
    const build: Build = () => [
      stage((x: number) => { if (x % 5 === 0) throw new Error('five'); return x; }, { name: 'a', onError: 'skip' }),
      stage((x: number) => { if (x % 7 === 0) throw new Error('seven'); return x + 1; }, { name: 'b', onError: 'emit' }),
      stage((x: number) => { if (x % 11 === 0) throw new Error('eleven'); return x; }, { name: 'c', onError: () => undefined }),
    ];
    expectSame(await runBoth(build, range(100)), [['a', 'b', 'c']]);
  });

  it('emits an input that cannot cross as the first stage\'s DATA_CLONE and passes it through the rest, counted alike', async () => {
    const build: Build = () => [
      stage((x: unknown) => x, { name: 'first', onError: 'emit' }),
      stage((x: unknown) => x, { name: 'second' }),
    ];
    const runs = await runBoth(build, [1, { f: () => 2 }, 3]);
    expectSame(runs, [['first', 'second']]);
    expect(runs.fused.out).to.deep.equal([1, 'DATA_CLONE:first:1', 3]);
  });

  it('gives the same dead letters fused and unfused', async () => {
    const letters = async (fuse: boolean): Promise<unknown[]> => {
      const dead = new PassThrough({ objectMode: true });
      const seen: unknown[] = [];
      dead.on('data', (d: { error: StageError; item: unknown }) => seen.push([d.error.stage, d.error.seq, d.item]));
      const p = createPipeline([
        stage((x: number) => x + 1, { name: 'inc' }),
        stage((x: number) => { if (x % 4 === 0) throw new Error('four'); return x; }, { name: 'check', onError: dead }),
      ], { fuse });
      await pipeline(Readable.from(range(20)), p, new Collector());
      return seen;
    };
    expect(await letters(true)).to.deep.equal(await letters(false));
  });

  it('fails the pipeline with the same StageError under the default policy', async () => {
    const failure = async (fuse: boolean): Promise<unknown> => {
      const p = createPipeline([
        stage((x: number) => x, { name: 'first' }),
        stage((x: number) => { if (x === 6) throw new Error('six'); return x; }, { name: 'second' }),
      ], { fuse });
      const error = await rejectionOf(pipeline(Readable.from(range(10)), p, new Collector()));
      return [(error as StageError).code, (error as StageError).stage, (error as StageError).seq];
    };
    expect(await failure(true)).to.deep.equal(['FUNCTION_FAILED', 'second', 6]);
    expect(await failure(false)).to.deep.equal(['FUNCTION_FAILED', 'second', 6]);
  });

  it('records every stage\'s timing, in order, for fused items', async () => {
    const p = createPipeline(three()(), { fuse: true });
    await pipeline(Readable.from([1, 2, 4]), p, new Collector());
    const summary = p.getLatencySummary();
    for (const name of ['double', 'notThrees', 'echo']) {
      expect(summary.stageStatistics[name]!.processedCount, name).to.be.greaterThan(0);
      expect(summary.stageStatistics[name]!.fusedWith).to.deep.equal(['double', 'notThrees', 'echo']);
    }
    const recent = p.getReport().recentItems;
    // 2, 4 and 8 come out, and 4 and 8 are echoed negated: five items.
    expect(recent.length).to.equal(5);
    for (const item of recent) expect(Object.keys(item.stages)).to.deep.equal(['double', 'notThrees', 'echo']);
    // Stage latencies add up to the item's total latency.
    for (const item of recent) {
      const sum = Object.values(item.stages).reduce((a, s) => a + s.totalStageTime, 0);
      expect(sum).to.be.closeTo(item.totalLatency, 1e-6);
    }
  });

  it('runs unfused with fuse: false', async () => {
    const p = createPipeline(three()(), { fuse: false });
    await pipeline(Readable.from(range(5)), p, new Collector());
    expect(p.getReport().fusedGroups).to.deep.equal([]);
    expect(p.getLatencySummary().stageStatistics.double!.fusedWith).to.equal(null);
  });
});
