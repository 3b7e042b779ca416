import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { finished } from 'node:stream/promises';
import { expect } from 'chai';
import { createPipeline, stage } from 'async-task-pipeline';
import type { Pipeline, Stage } from 'async-task-pipeline';
import { range, removeScripts, runNode, runThrough, sleep, writeScript } from './helpers.js';

const OUTCOMES = ['emitted', 'filtered', 'failed', 'skipped'] as const;

/** An SDK registered globally, as a user's program would, exporting to memory on demand. */
class Sdk {
  private readonly exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  private readonly reader = new PeriodicExportingMetricReader({ exporter: this.exporter, exportIntervalMillis: 3_600_000 });
  private readonly provider = new MeterProvider({ readers: [this.reader] });

  register(): this {
    metrics.setGlobalMeterProvider(this.provider);
    return this;
  }

  /** Every metric of our meter, as exported now. */
  async collect(): Promise<MetricData[]> {
    await this.reader.forceFlush();
    const exported = this.exporter.getMetrics();
    const latest = exported[exported.length - 1];
    const scopes = latest?.scopeMetrics.filter((s) => s.scope.name === 'async-task-pipeline') ?? [];
    return scopes.flatMap((s) => s.metrics);
  }

  async shutdown(): Promise<void> {
    metrics.disable();
    await this.provider.shutdown();
  }
}

function metric(all: MetricData[], name: string): MetricData | undefined {
  return all.find((m) => m.descriptor.name === name);
}

function points(all: MetricData[], name: string): Array<DataPoint<unknown>> {
  return (metric(all, name)?.dataPoints ?? []);
}

/** The counter's value for one stage and outcome (0 when it has no point). */
function itemCount(all: MetricData[], stageName: string, outcome: string): number {
  const point = points(all, 'atp.stage.items').find((p) => p.attributes['atp.stage'] === stageName && p.attributes['atp.outcome'] === outcome);
  return (point?.value as number | undefined) ?? 0;
}

function durations(all: MetricData[], stageName: string): Histogram | undefined {
  return points(all, 'atp.stage.duration').find((p) => p.attributes['atp.stage'] === stageName)?.value as Histogram | undefined;
}

/** Three stages whose items meet every outcome: filtered, skipped, failed (to a handler) and emitted. */
function mixedStages(): Stage[] {
  return [
    stage((x: number) => (x % 5 === 0 ? null : x), { name: 'dropFives' }),
    stage((x: number) => { if (x % 7 === 0) throw new Error('seven'); return x; }, { name: 'skipSevens', onError: 'skip' }),
    stage((x: number) => { if (x % 3 === 0) throw new Error('three'); return x * 2; }, { name: 'failThrees', onError: () => undefined }),
  ];
}

function expectCountsMatchStats(all: MetricData[], p: Pipeline): void {
  for (const s of p.stages) {
    for (const outcome of OUTCOMES) expect(itemCount(all, s.name, outcome), `${s.name} ${outcome}`).to.equal(s.stats[outcome]);
  }
}

describe('OpenTelemetry metrics', () => {
  let sdk: Sdk;

  beforeEach(() => { sdk = new Sdk().register(); });
  afterEach(() => sdk.shutdown());

  it('counts atp.stage.items per stage and outcome exactly as stage.stats does', async () => {
    const p = createPipeline(mixedStages(), { fuse: false });
    await runThrough(p, range(200));
    const all = await sdk.collect();
    expectCountsMatchStats(all, p);
    // The items met every outcome, so the spec checks each one.
    for (const outcome of OUTCOMES) expect(p.stages.some((s) => s.stats[outcome] > 0), outcome).to.equal(true);
  });

  it('records one atp.stage.duration per timed item, in seconds, adding up to the stage latency', async () => {
    const p = createPipeline(mixedStages(), { fuse: false });
    await runThrough(p, range(200));
    const all = await sdk.collect();
    expect(metric(all, 'atp.stage.duration')!.descriptor.unit).to.equal('s');
    for (const s of p.stages) {
      const histogram = durations(all, s.name)!;
      expect(histogram.count, s.name).to.equal(s.stats.latency.count);
      expect(histogram.sum!, s.name).to.be.closeTo(s.stats.latency.sum, 1e-9);
    }
  });

  it('gives each stage of a fused chain its own figures, and none to the chain', async () => {
    const p = createPipeline(mixedStages());
    await runThrough(p, range(200));
    expect(p.fusedGroups).to.deep.equal([['dropFives', 'skipSevens', 'failThrees']]);
    const all = await sdk.collect();
    expectCountsMatchStats(all, p);
    for (const s of p.stages) expect(durations(all, s.name)!.count, s.name).to.equal(s.stats.latency.count);
    const names = new Set(points(all, 'atp.stage.items').map((pt) => pt.attributes['atp.stage']));
    expect([...names].sort()).to.deep.equal(['dropFives', 'failThrees', 'skipSevens']);
  });

  it('counts the items of a stage used alone, which has no durations as its items are not timed', async () => {
    const s = stage((x: number) => (x > 4 ? x : null), { name: 'alone' });
    await runThrough(s, range(10));
    const all = await sdk.collect();
    expect(itemCount(all, 'alone', 'emitted')).to.equal(5);
    expect(itemCount(all, 'alone', 'filtered')).to.equal(5);
    expect(durations(all, 'alone')).to.equal(undefined);
  });

  it('adds the counts of a stage that is still running, without waiting for its end', async () => {
    const s = stage((x: number) => x, { name: 'running' });
    s.resume();
    for (const x of range(10)) s.write(x);
    let seen = 0;
    for (let waited = 0; seen < 10 && waited < 10_000; waited += 20) {
      seen = itemCount(await sdk.collect(), 'running', 'emitted');
      if (seen < 10) await sleep(20);
    }
    expect(seen).to.equal(10);
    expect(s.writableEnded).to.equal(false);
    s.end();
    await finished(s);
  });

  it('counts the items a failing stage handled before it failed', async () => {
    const failing = stage((x: number) => { if (x === 30) throw new Error('thirty'); return x; }, { name: 'failing' });
    await runThrough(failing, range(50)).catch(() => undefined);
    const all = await sdk.collect();
    expect(failing.destroyed).to.equal(true);
    expect(itemCount(all, 'failing', 'emitted')).to.equal(failing.stats.emitted);
    expect(failing.stats.emitted).to.be.at.least(30);
  });
});

describe('OpenTelemetry metrics without an SDK', () => {
  it('records nothing when no MeterProvider is registered: the stage keeps no sink', async () => {
    const s = stage((x: number) => x, { name: 'quiet' });
    await runThrough(s, range(5));
    expect(s.stats.sink).to.equal(undefined);
  });

  it('records nothing for a stage that started before the SDK was registered', async () => {
    const p = createPipeline([stage((x: number) => x, { name: 'early' })]);
    await p.start();
    const sdk = new Sdk().register();
    try {
      await runThrough(p, range(5));
      expect(await sdk.collect()).to.deep.equal([]);
    } finally {
      await sdk.shutdown();
    }
  });
});

describe('OpenTelemetry metrics without @opentelemetry/api installed', () => {
  after(removeScripts);

  it('runs a pipeline as usual when the package cannot be imported', async () => {
    // A resolve hook makes @opentelemetry/* missing, as in a project that
    // never installed it. module.registerHooks() (in-thread, synchronous)
    // where the line has it: module.register() warns DEP0205 on Node 26.
    const hide = `(specifier, context, next) => {
      if (specifier.startsWith('@opentelemetry/')) {
        const error = new Error('Cannot find package ' + specifier);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }`;
    const script = writeScript('no-otel', `
      import * as module from 'node:module';
      const hide = ${hide};
      if (typeof module.registerHooks === 'function') module.registerHooks({ resolve: hide });
      else module.register('data:text/javascript,' + encodeURIComponent('export const resolve = ' + ${JSON.stringify(hide)}));
      await import('@opentelemetry/api').then(() => { throw new Error('the hook did not hide the package'); }, () => undefined);
      const { createPipeline, stage } = await import('async-task-pipeline');
      const { Readable, Writable } = await import('node:stream');
      const { pipeline } = await import('node:stream/promises');
      const p = createPipeline([stage((x) => x * 2, { name: 'double' })]);
      const out = [];
      await pipeline(Readable.from([1, 2, 3]), p, new Writable({ objectMode: true, write: (x, _e, cb) => { out.push(x); cb(); } }));
      console.log(JSON.stringify({ out, sink: p.stages[0].stats.sink === undefined }));
    `);
    const child = await runNode(script);
    expect(child.stderr).to.equal('');
    expect(child.code).to.equal(0);
    expect(JSON.parse(child.stdout)).to.deep.equal({ out: [2, 4, 6], sink: true });
  });
});
