// The bottleneck named (issue 18): on real work, with a stage that spins five
// times as long per item as the others, the verdict names it in every run;
// a sink that waits, or a source that trickles, leaves no stage named and
// says which end limits; fused, the heaviest member is named. No wall-clock
// figure is asserted: the ratios are large enough to hold on a noisy machine.

import { availableParallelism } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
import type { LatencySummary, Pipeline, Stage } from 'async-task-pipeline';
import { findBottleneck } from '../lib/pipeline/bottleneck.js';
import type { LinkFigures, RunFigures } from '../lib/pipeline/bottleneck.js';
import { fixture, range, runThrough, sleep } from './helpers.js';

const LIGHT_MS = 1;
const HEAVY_MS = 5 * LIGHT_MS;
const ITEMS = 200;

function spin(name: string, ms: number, options: Record<string, unknown> = {}): Stage {
  return stage({ module: fixture('busy.js'), export: 'spin' }, { name, context: { ms }, ...options });
}

function threeStages(): Stage[] {
  return [spin('parse', LIGHT_MS), spin('score', HEAVY_MS), spin('format', LIGHT_MS)];
}

async function summaryOf(p: Pipeline, sink?: Writable, source: Iterable<unknown> | AsyncIterable<unknown> = range(ITEMS)): Promise<LatencySummary> {
  if (sink === undefined) await runThrough(p, source);
  else await pipeline(Readable.from(source), p, sink);
  return p.getLatencySummary();
}

/** A consumer that takes each item only after `ms`. */
function slowSink(ms: number): Writable {
  return new Writable({ objectMode: true, highWaterMark: 1, write: (_item, _encoding, callback) => { setTimeout(callback, ms); } });
}

async function* trickle(count: number, ms: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    await sleep(ms);
    yield i;
  }
}

describe('the bottleneck', () => {
  describe('on worker threads', () => {
    it('names the stage with five times the work, apart from its neighbours, in every one of three runs', async () => {
      for (let run = 0; run < 3; run++) {
        const summary = await summaryOf(createPipeline(threeStages(), { fuse: false }));
        expect(summary.bottleneck?.stage, `run ${run}: ${summary.throughput.advice}`).to.equal('score');
        expect(summary.bottleneck!.fusedWith).to.equal(null);
        expect(summary.throughput.limitedBy).to.equal('stage');
      }
    });

    it('rates the named stage busier than each of the others, with shares between 0 and 1', async () => {
      const summary = await summaryOf(createPipeline(threeStages(), { fuse: false }));
      const busy = (name: string): number => summary.stageStatistics[name]!.busyShare;
      expect(busy('score')).to.be.above(busy('parse') * 2).and.above(busy('format') * 2);
      const b = summary.bottleneck!;
      for (const share of [b.busyShare, b.writerWaitShare, b.readerWaitShare, b.confidence]) expect(share).to.be.within(0, 1);
      expect(b.confidence).to.be.at.least(0.5);
      expect(b.threads).to.be.at.least(1);
    });

    it('names the heaviest member of a fused chain, with the chain it ran in', async () => {
      const p = createPipeline(threeStages());
      expect(p.fusedGroups).to.deep.equal([['parse', 'score', 'format']]);
      const summary = await summaryOf(p);
      expect(summary.bottleneck?.stage).to.equal('score');
      expect(summary.bottleneck!.fusedWith).to.deep.equal(['parse', 'score', 'format']);
      expect(summary.bottleneck!.advice).to.match(/fuse: false/);
    });

    it('advises more concurrency to a stage held to one thread of a larger pool', async function () {
      // The default pool has availableParallelism() threads: on one core, one thread is all there is.
      if (availableParallelism() < 2) this.skip();
      const p = createPipeline([spin('parse', LIGHT_MS), spin('score', HEAVY_MS, { concurrency: 1 }), spin('format', LIGHT_MS)], { fuse: false });
      const summary = await summaryOf(p);
      expect(summary.bottleneck?.stage).to.equal('score');
      expect(summary.bottleneck!.threads).to.equal(1);
      expect(summary.bottleneck!.advice).to.match(/higher `concurrency`/);
    });
  });

  describe('on the main thread', () => {
    it('names a thread: false stage that spins, and says it runs on the main thread', async () => {
      const p = createPipeline([
        stage((x: number) => x, { name: 'pass', thread: false }),
        stage((x: number) => { const end = performance.now() + 2; while (performance.now() < end); return x; }, { name: 'grind', thread: false }),
      ]);
      const summary = await summaryOf(p, undefined, range(150));
      expect(summary.bottleneck?.stage).to.equal('grind');
      expect(summary.bottleneck!.advice).to.match(/main thread/);
    });
  });

  describe('when no stage limits', () => {
    it('is null with a sink slower than every stage, and says the sink limits', async () => {
      const p = createPipeline([spin('parse', 0.05), spin('score', 0.25), spin('format', 0.05)], { fuse: false });
      const summary = await summaryOf(p, slowSink(4), range(150));
      expect(summary.bottleneck, summary.throughput.advice).to.equal(null);
      expect(summary.throughput.limitedBy).to.equal('sink');
      expect(summary.throughput.sinkWaitShare).to.be.above(0.5);
      expect(summary.throughput.advice).to.match(/sink limits/);
    });

    it('is null with a source slower than every stage, and says the source limits', async () => {
      const p = createPipeline([spin('parse', 0.05), spin('score', 0.25), spin('format', 0.05)], { fuse: false });
      const summary = await summaryOf(p, undefined, trickle(80, 5));
      expect(summary.bottleneck, summary.throughput.advice).to.equal(null);
      expect(summary.throughput.limitedBy).to.equal('source');
      expect(summary.throughput.advice).to.match(/source limits/);
    });

    it('is null, limited by nothing known, in an untimed pipeline', async () => {
      const summary = await summaryOf(createPipeline([spin('parse', 0)], { timing: false }), undefined, range(10));
      expect(summary.bottleneck).to.equal(null);
      expect(summary.throughput.limitedBy).to.equal('unknown');
      expect(summary.throughput.advice).to.match(/Timing is off/);
    });
  });

  describe('on AsyncTaskPipeline', () => {
    it('names the heavy stage in getLatencySummary() and getReport()', async () => {
      const p = new AsyncTaskPipeline({ enableTiming: true })
        .addStage('parse', { module: fixture('busy.js'), export: 'spin' }, { context: { ms: LIGHT_MS } })
        .addStage('score', { module: fixture('busy.js'), export: 'spin' }, { context: { ms: HEAVY_MS }, concurrency: 2 })
        .addStage('format', { module: fixture('busy.js'), export: 'spin' }, { context: { ms: LIGHT_MS } });
      expect(p.getLatencySummary().bottleneck).to.equal(null);
      await p.start();
      const fed = p.processInputStream(range(ITEMS));
      for await (const item of p.generateOutputStream()) void item;
      await fed;
      await p.stop();
      expect(p.getLatencySummary().bottleneck?.stage).to.equal('score');
      expect(p.getReport().summary.bottleneck?.stage).to.equal('score');
    });
  });

  describe('the verdict from figures', () => {
    const link = (name: string, busySeconds: number, waits: [number, number], extra: Partial<LinkFigures> = {}): LinkFigures => ({
      names: [name], computationSeconds: [busySeconds], avgComputationSeconds: [0.001], threads: 2, poolThreads: 2, runsOn: 'pool',
      pool: undefined, writerWaited: waits[0], readerWaited: waits[1], ...extra,
    });
    const run: RunFigures = { elapsedSeconds: 1, itemsOut: 1000, samples: 50, sinkBehind: 0, sourceIdle: 0 };

    it('names the link where the writer waits and the reader starves, though no link is busy', () => {
      const { bottleneck } = findBottleneck([link('a', 0.1, [0.9, 0]), link('b', 0.1, [0.9, 0.9]), link('c', 0.1, [0, 0.9])], run);
      expect(bottleneck?.stage).to.equal('b');
    });

    it('names the last link whose writer waits, when the next one holds items but never blocks its writer', () => {
      const { bottleneck } = findBottleneck([link('a', 0.1, [0.9, 0]), link('b', 0.1, [0.9, 0.1]), link('c', 0.1, [0.05, 0.2])], run);
      expect(bottleneck?.stage).to.equal('b');
    });

    it('advises larger items per call, not threads, to a link named by pressure whose threads sat idle', () => {
      const { bottleneck } = findBottleneck([link('a', 0.1, [0.9, 0]), link('b', 0.6, [0.9, 0.1]), link('c', 0.1, [0.05, 0.2])], run);
      expect(bottleneck?.stage).to.equal('b');
      expect(bottleneck?.advice).to.match(/larger items per call/).and.not.match(/more threads \(/);
    });

    it('leaves the stages unnamed when the sink was behind and none was busy', () => {
      const verdict = findBottleneck([link('a', 0.2, [0.9, 0]), link('b', 0.2, [0.9, 0])], { ...run, sinkBehind: 0.9 });
      expect(verdict.bottleneck).to.equal(null);
      expect(verdict.throughput.limitedBy).to.equal('sink');
    });

    it('names a stage busy on all its threads even when the sink was behind', () => {
      const verdict = findBottleneck([link('a', 0.2, [0.9, 0]), link('b', 1.9, [0.9, 0.1])], { ...run, sinkBehind: 0.9 });
      expect(verdict.bottleneck?.stage).to.equal('b');
    });

    it('says the run was too short when it has fewer than three samples', () => {
      const verdict = findBottleneck([link('a', 0.1, [0, 0])], { ...run, samples: 1 });
      expect(verdict.throughput.limitedBy).to.equal('unknown');
    });

    it('advises thread: false to a stage whose items take less than a crossing', () => {
      const { bottleneck } = findBottleneck([link('a', 0.01, [0.9, 0.9], { avgComputationSeconds: [2e-6] })], run);
      expect(bottleneck?.advice).to.match(/thread: false/);
    });

    it('advises more concurrency to a busy stage that may use fewer threads than its pool has', () => {
      const { bottleneck } = findBottleneck([link('a', 0.95, [0.9, 0.9], { threads: 1, poolThreads: 4 })], run);
      expect(bottleneck?.advice).to.match(/higher `concurrency`/);
    });
  });
});
