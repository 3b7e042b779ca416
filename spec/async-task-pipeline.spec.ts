import { expect } from 'chai';
import { AsyncTaskPipeline, StageError } from 'async-task-pipeline';
import { Gate, fixture, range, rejectionOf, sleep } from './helpers.js';

async function readAll(p: AsyncTaskPipeline): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of p.generateOutputStream()) out.push(x);
  return out;
}

/** The seed's data generator, with a shorter sleep to keep the spec quick. */
async function* dataGenerator(): AsyncGenerator<number> {
  for (let i = 0; i < 20; i++) {
    yield i;
    await sleep(5);
  }
}

describe('AsyncTaskPipeline', () => {
  describe("the seed's quick start, ported", () => {
    let results: unknown[];
    let pipeline: AsyncTaskPipeline;

    before(async () => {
      pipeline = new AsyncTaskPipeline({ maxQueueSize: 100, enableTiming: true });
      pipeline.addStage('process', (x: number) => x * 2);
      pipeline.addStage('filter', (x: number) => (x > 10 ? x : null));
      await pipeline.start();
      await pipeline.processInputStream(dataGenerator());
      results = await readAll(pipeline);
    });

    after(async () => {
      await pipeline.stop();
    });

    it('finishes and yields the doubled values above 10, in order', () => {
      expect(results).to.deep.equal(range(20).map((x) => x * 2).filter((x) => x > 10));
    });

    it('reports a summary of the items processed', () => {
      const stats = pipeline.getLatencySummary();
      expect(stats.totalItems).to.equal(14);
      expect(stats.avgTotalLatency).to.be.above(0);
      expect(stats.stageStatistics).to.have.all.keys('process', 'filter');
      expect(stats.stageStatistics.process!.processedCount).to.equal(20);
      expect(stats.stageStatistics.filter!.filtered).to.equal(6);
    });

    it('stops without discarding anything', async () => {
      expect(await pipeline.stop()).to.deep.equal({ discarded: 0 });
    });
  });

  describe('lifecycle', () => {
    it('rejects a second start()', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('id', (x: unknown) => x);
      await p.start();
      try {
        const error = await rejectionOf(p.start());
        expect(error).to.be.instanceOf(StageError);
        expect((error as StageError).code).to.equal('INVALID_STATE');
      } finally {
        await p.stop();
      }
    });

    it('throws from addStage() after start()', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('id', (x: unknown) => x);
      await p.start();
      try {
        expect(() => p.addStage('late', (x: unknown) => x)).to.throw(StageError, /before start/);
      } finally {
        await p.stop();
      }
    });

    it('rejects start() with LOAD_FAILED when a stage cannot load', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('missing', { module: fixture('double.js'), export: 'nope' });
      const error = await rejectionOf(p.start());
      expect(error).to.be.instanceOf(StageError);
      expect((error as StageError).code).to.equal('LOAD_FAILED');
      expect((error as StageError).stage).to.equal('missing');
    });

    it('yields items fed one at a time with processInputData()', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('inc', (x: number) => x + 1);
      await p.start();
      for (const x of range(5)) await p.processInputData(x);
      p.endInput();
      expect(await readAll(p)).to.deep.equal([1, 2, 3, 4, 5]);
      await p.stop();
    });
  });

  describe('stop()', () => {
    it('drains: every accepted item is still readable after stop()', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 4 });
      p.addStage('slow', async (x: number) => { await new Promise((resolve) => setTimeout(resolve, 2)); return x; });
      await p.start();
      await p.processInputStream(range(10), { end: false });
      expect(await p.stop()).to.deep.equal({ discarded: 0 });
      expect(await readAll(p)).to.deep.equal(range(10));
    });

    it('with drain: false reports how many items it discarded', async () => {
      const gate = new Gate();
      const p = new AsyncTaskPipeline();
      p.addStage('gated', { module: fixture('gate.js'), export: 'gated' }, { context: { gate: gate.buffer } });
      await p.start();
      await p.processInputStream(range(5), { end: false });
      await gate.whenEntered(1);
      // The count is taken when stop() is called; the gate opens after so the
      // worker is not left waiting while it is terminated.
      const stopping = p.stop({ drain: false });
      gate.open();
      const { discarded } = await stopping;
      expect(discarded).to.be.within(1, 5);
    });

    it('returns the same result when called twice', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('id', (x: unknown) => x);
      await p.start();
      const first = p.stop();
      expect(p.stop()).to.equal(first);
      await first;
    });
  });

  describe('errors are never silent', () => {
    async function failingPipeline(): Promise<AsyncTaskPipeline> {
      const p = new AsyncTaskPipeline();
      p.addStage('picky', (x: number) => { if (x === 3) throw new Error('three'); return x; });
      await p.start();
      // Feeding may itself reject once the failure is seen; reading must show it either way.
      await p.processInputStream(range(6)).catch(() => undefined);
      return p;
    }

    it('makes generateOutputStream() throw the StageError after the items before it', async () => {
      const p = await failingPipeline();
      const out: unknown[] = [];
      const error = await rejectionOf((async () => { for await (const x of p.generateOutputStream()) out.push(x); })());
      expect(error).to.be.instanceOf(StageError);
      expect((error as StageError).stage).to.equal('picky');
      expect((error as StageError).seq).to.equal(3);
      expect(out).to.deep.equal([0, 1, 2]);
      await p.stop().catch(() => undefined);
    });

    it('makes stop() reject with the StageError', async () => {
      const p = await failingPipeline();
      const error = await rejectionOf(p.stop());
      expect(error).to.be.instanceOf(StageError);
      expect((error as StageError).code).to.equal('FUNCTION_FAILED');
    });

    it('passes StageErrors in the output, in place, with returnExceptions', async () => {
      const p = new AsyncTaskPipeline({ returnExceptions: true });
      p.addStage('picky', (x: number) => { if (x % 4 === 1) throw new Error('bad'); return x; });
      p.addStage('inc', (x: number) => x + 1);
      await p.start();
      await p.processInputStream(range(8));
      const out = await readAll(p);
      expect(out).to.have.length(8);
      out.forEach((x, i) => {
        if (i % 4 === 1) {
          expect(x).to.be.instanceOf(StageError);
          expect((x as StageError).seq).to.equal(i);
        } else {
          expect(x).to.equal(i + 1);
        }
      });
      expect(await p.stop()).to.deep.equal({ discarded: 0 });
    });
  });

  describe('stream()', () => {
    it('returns the Duplex that carries the items', async () => {
      const p = new AsyncTaskPipeline();
      p.addStage('double', (x: number) => x * 2);
      await p.start();
      const duplex = p.stream();
      duplex.end(21);
      const out: unknown[] = [];
      for await (const x of duplex) out.push(x);
      expect(out).to.deep.equal([42]);
      await p.stop();
    });
  });
});
