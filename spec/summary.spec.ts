import { expect } from 'chai';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
import type { LatencySummary, Stage, StageError } from 'async-task-pipeline';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { collectGarbage, fixture, range, runThrough } from './helpers.js';

const SPIN_MS = 20;
const SPIN_SECONDS = SPIN_MS / 1000;
// Busy-waiting guarantees at least SPIN_MS; the clock may read a hair under.
const AT_LEAST = SPIN_SECONDS * 0.95;
// Far above anything real, far below a unit mistake (ms reported as seconds).
const AT_MOST = 2;

const STAGE_KEYS = ['avgLatency', 'minLatency', 'maxLatency', 'processedCount', 'avgProcessingTime', 'timingBreakdown'];
const BREAKDOWN_KEYS = ['avgComputationTime', 'avgQueueWaitTime', 'avgTransmissionTime', 'computationRatio'];
const SUMMARY_KEYS = [
  'totalItems', 'avgTotalLatency', 'minTotalLatency', 'maxTotalLatency',
  'p50TotalLatency', 'p95TotalLatency', 'p99TotalLatency', 'stageStatistics', 'overallEfficiency',
];

/** Five items through one worker that spins SPIN_MS on each. */
async function spinSummary(): Promise<LatencySummary> {
  const p = createPipeline([stage({ module: fixture('busy.js'), export: 'spin' }, { context: { ms: SPIN_MS }, concurrency: 1 })]);
  await runThrough(p, range(5));
  return p.getLatencySummary();
}

/** Every number in a nested object. */
function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(numbersIn);
}

describe('latency summary', () => {
  let summary: LatencySummary;

  before(async () => {
    summary = await spinSummary();
  });

  describe('keys', () => {
    it('has the documented top-level keys', () => {
      expect(summary).to.include.all.keys(...SUMMARY_KEYS);
    });

    it('has the documented keys for each stage, under the stage name', () => {
      expect(summary.stageStatistics).to.have.all.keys('spin');
      expect(summary.stageStatistics.spin).to.include.all.keys(...STAGE_KEYS);
      expect(summary.stageStatistics.spin!.timingBreakdown).to.include.all.keys(...BREAKDOWN_KEYS);
    });

    it('has the documented overall efficiency keys', () => {
      expect(summary.overallEfficiency).to.include.all.keys('computationEfficiency', 'overheadRatio');
    });

    it('holds only finite, non-negative numbers', () => {
      const numbers = numbersIn(summary);
      expect(numbers.length).to.be.above(20);
      for (const n of numbers) expect(Number.isFinite(n) && n >= 0, String(n)).to.equal(true);
    });
  });

  describe('figures against a stage that spins 20 ms per item', () => {
    it('counts the items that came out', () => {
      expect(summary.totalItems).to.equal(5);
      expect(summary.stageStatistics.spin!.processedCount).to.equal(5);
    });

    it('reports about 20 ms of computation per item, in seconds', () => {
      const { avgComputationTime } = summary.stageStatistics.spin!.timingBreakdown;
      expect(avgComputationTime).to.be.within(AT_LEAST, AT_MOST);
      expect(summary.stageStatistics.spin!.avgProcessingTime).to.be.closeTo(avgComputationTime, 1e-9);
    });

    it('reports stage latencies no shorter than the computation', () => {
      const s = summary.stageStatistics.spin!;
      expect(s.minLatency).to.be.within(AT_LEAST, AT_MOST);
      expect(s.avgLatency).to.be.at.least(s.timingBreakdown.avgComputationTime);
      expect(s.maxLatency).to.be.at.least(s.avgLatency);
      expect(s.avgLatency).to.be.at.least(s.minLatency);
    });

    it('splits a stage latency into queue wait, computation and transmission', () => {
      const s = summary.stageStatistics.spin!;
      const { avgComputationTime, avgQueueWaitTime, avgTransmissionTime } = s.timingBreakdown;
      expect(avgQueueWaitTime + avgComputationTime + avgTransmissionTime).to.be.closeTo(s.avgLatency, 1e-6);
    });

    it('shows the queue wait of items behind others on one worker', () => {
      // Five items arrive at once for one worker: the k-th waits k * 20 ms,
      // 40 ms on average; half of that is a safe floor.
      expect(summary.stageStatistics.spin!.timingBreakdown.avgQueueWaitTime).to.be.at.least(SPIN_SECONDS);
    });

    it('reports total latencies no shorter than the computation', () => {
      expect(summary.minTotalLatency).to.be.within(AT_LEAST, AT_MOST);
      expect(summary.avgTotalLatency).to.be.at.least(summary.stageStatistics.spin!.timingBreakdown.avgComputationTime);
      // The last of five items waited for all five computations.
      expect(summary.maxTotalLatency).to.be.within(5 * AT_LEAST, AT_MOST);
    });

    it('orders the percentiles between the minimum and the maximum', () => {
      // Percentiles come from a histogram, exact to 0.1 %: allow 1 %.
      const { minTotalLatency: min, p50TotalLatency: p50, p95TotalLatency: p95, p99TotalLatency: p99, maxTotalLatency: max } = summary;
      expect(p50).to.be.at.least(min * 0.99);
      expect(p95).to.be.at.least(p50);
      expect(p99).to.be.at.least(p95);
      expect(p99).to.be.at.most(max * 1.01);
    });

    it('gives ratios between 0 and 1 that add up', () => {
      const { computationEfficiency, overheadRatio } = summary.overallEfficiency;
      expect(computationEfficiency).to.be.within(0.01, 1);
      expect(computationEfficiency + overheadRatio).to.be.closeTo(1, 1e-9);
      expect(summary.stageStatistics.spin!.timingBreakdown.computationRatio).to.be.within(0.01, 1);
    });
  });

  describe('items that never ran', () => {
    it('count their whole time in the stage as queue wait, never as a negative or unbounded figure', async () => {
      // Item 1 kills its worker every time: with no retries it fails as
      // WORKER_DIED without a computation ever measured; 'emit' passes it on
      // in its envelope, so its timing is read like any other.
      const items = [0, 1, 2].map((id) => ({ id, crash: id === 1 ? 'exit' : 'ok' }));
      const p = createPipeline([stage({ module: fixture('crashes.js'), export: 'crash' }, { retries: 0, onError: 'emit' })]);
      const out = await runThrough(p, items);
      expect(out).to.have.length(3);
      const summary = p.getLatencySummary();
      for (const n of numbersIn(summary)) expect(Number.isFinite(n) && n >= 0, String(n)).to.equal(true);
      expect(summary.stageStatistics.crash!.timingBreakdown.avgQueueWaitTime).to.be.below(AT_MOST);
      const failed = p.getReport().recentItems.find((item) => item.seq === 1);
      expect(failed, 'the failed item in the report').to.not.equal(undefined);
      const breakdown = failed!.stages.crash!;
      expect(breakdown.computationTime).to.equal(0);
      expect(breakdown.queueWaitTime).to.be.closeTo(breakdown.totalStageTime, 1e-9);
    });
  });

  describe('counters', () => {
    function expectReconciled(s: Stage): void {
      const { received, emitted, fanOut, filtered, failed, skipped } = s.stats;
      expect(received, `stage ${s.name}`).to.equal(emitted - fanOut + filtered + failed + skipped);
    }

    it('reconcile in every stage: received = emitted - fanOut + filtered + failed + skipped', async () => {
      const errors: StageError[] = [];
      const stages = [
        stage(function* fan(x: number) { for (let i = 0; i < x % 3; i++) yield x * 10 + i; }),
        stage((x: number) => (x % 2 === 0 ? x : null), { name: 'evens' }),
        stage((x: number) => { if (x % 4 === 0) throw new Error('four'); return x; }, { name: 'skipper', onError: 'skip' }),
        stage((x: number) => { if (x % 7 === 0) throw new Error('seven'); return x; }, { name: 'handled', onError: (e) => errors.push(e) }),
      ];
      const p = createPipeline(stages);
      const out = await runThrough(p, range(60));
      for (const s of stages) expectReconciled(s);
      for (let i = 1; i < stages.length; i++) expect(stages[i]!.stats.received).to.equal(stages[i - 1]!.stats.emitted);
      expect(stages.map((s) => s.stats.fanOut + s.stats.filtered + s.stats.skipped + s.stats.failed)).to.satisfy((n: number[]) => n.every((k) => k > 0));
      expect(p.getLatencySummary().totalItems).to.equal(out.length);
      expect(errors).to.have.length(stages[3]!.stats.failed);
    });

    it('appear in the summary per stage', async () => {
      const skipper = stage((x: number) => { if (x % 5 === 0) throw new Error('five'); return x; }, { name: 'skipper', onError: 'skip' });
      const handled = stage((x: number) => { if (x % 7 === 0) throw new Error('seven'); return x; }, { name: 'handled', onError: () => undefined });
      const p = createPipeline([skipper, handled]);
      await runThrough(p, range(30));
      const { stageStatistics } = p.getLatencySummary();
      expect(stageStatistics.skipper!.skipped).to.equal(6);
      expect(stageStatistics.handled!.failed).to.equal(range(30).filter((x) => x % 5 !== 0 && x % 7 === 0).length);
    });
  });

  describe('before any item', () => {
    it('is all zeros for a pipeline', () => {
      const p = createPipeline([stage((x: number) => x, { name: 'a' }), stage((x: number) => x, { name: 'b' })]);
      const empty = p.getLatencySummary();
      p.destroy();
      expect(empty).to.include.all.keys(...SUMMARY_KEYS);
      expect(empty.stageStatistics).to.have.all.keys('a', 'b');
      expect(numbersIn(empty).every((n) => n === 0)).to.equal(true);
    });

    it('is all zeros for an AsyncTaskPipeline not yet started', () => {
      const p = new AsyncTaskPipeline({ enableTiming: true });
      p.addStage('only', (x: number) => x);
      const empty = p.getLatencySummary();
      expect(empty).to.include.all.keys(...SUMMARY_KEYS);
      expect(empty.stageStatistics).to.have.all.keys('only');
      expect(numbersIn(empty).every((n) => n === 0)).to.equal(true);
    });
  });

  describe('the recent items a report breaks down', () => {
    /** Runs objects through the pipeline into a sink that keeps only WeakRefs to them; how many are still alive after a GC. */
    async function aliveAfter(p: ReturnType<typeof createPipeline>, count: number): Promise<number> {
      const refs: Array<WeakRef<object>> = [];
      const sink = new Writable({
        objectMode: true,
        write(chunk: object, _encoding, callback) {
          refs.push(new WeakRef(chunk));
          callback();
        },
      });
      await pipeline(Readable.from(range(count)), p, sink);
      await collectGarbage();
      return refs.filter((ref) => ref.deref() !== undefined).length;
    }

    // The window keeps an item for its timings; it kept the item's output too,
    // so that with 1 MB outputs a pipeline held 100 MB after they had left.
    it('keep their timings, not their outputs (fused worker stages)', async () => {
      const p = createPipeline([stage((x: number) => x + 1, { name: 'add' }), stage((x: number) => ({ n: x, pad: 'x'.repeat(1000) }), { name: 'wrap' })]);
      expect(await aliveAfter(p, 40)).to.equal(0);
      const { recentItems } = p.getReport();
      expect(recentItems).to.have.length(40);
      expect(recentItems.every((item) => item.totalLatency > 0)).to.equal(true);
    });

    it('keep their timings, not their outputs (a main-thread stage)', async () => {
      const p = createPipeline([stage((x: number) => ({ n: x }), { thread: false })]);
      expect(await aliveAfter(p, 40)).to.equal(0);
      expect(p.getReport().recentItems).to.have.length(40);
      expect(p.getTrace().traceEvents.length).to.be.greaterThan(0);
    });
  });
});
