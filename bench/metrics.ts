// What the OpenTelemetry metrics cost (`npm run bench:metrics`). The same
// pipelines run in turns, in one process, under four settings:
// - no SDK (as shipped: the stage finds the API's no-op meter and keeps no sink);
// - no SDK again: the same thing measured twice, to show the noise;
// - no-op instruments: recording through the API's no-op instruments, what
//   the stages would pay without the no-op check;
// - SDK: a MeterProvider with an in-memory exporter registered.
// Each figure is the median of the turns; ratios are against the first.
// The machine's load moves single runs by far more than the differences
// measured here: read the 'again' row as the noise of this run.

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createNoopMeter, metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createPipeline, stage } from 'async-task-pipeline';
import type { Pipeline } from 'async-task-pipeline';
import { StageMetrics } from '../lib/stage/stage-metrics.js';
import { median } from './lib/measure.js';
import { WORK_MODULE } from './lib/work-module.js';
import type { Small } from './work.js';

interface Setting {
  name: string;
  /** Before the pipeline is built. */
  before?: () => void;
  /** After it started, before it runs. */
  started?: (p: Pipeline) => void;
  /** After the run. */
  after?: () => Promise<void>;
}

interface Shape {
  name: string;
  items: number;
  build: () => Pipeline;
}

const TURNS = Number(process.env.TURNS ?? 9);

const steps = ['addOne', 'double', 'negate'] as const;

const SHAPES: Shape[] = [
  {
    name: '3 stages on the main thread (thread: false)',
    items: 50_000,
    build: () => createPipeline(steps.map((name) => stage({ module: WORK_MODULE, export: name }, { name, thread: false }))),
  },
  {
    name: '3 worker stages, unfused',
    items: 50_000,
    build: () => createPipeline(steps.map((name) => stage({ module: WORK_MODULE, export: name }, { name })), { fuse: false }),
  },
];

let provider: MeterProvider | undefined;

const SETTINGS: Setting[] = [
  { name: 'no SDK (as shipped)' },
  { name: 'no SDK, again (noise)' },
  {
    name: 'no-op API instruments recording',
    started: (p) => { for (const s of p.stages) s.stats.sink = new StageMetrics(createNoopMeter(), s.name); },
  },
  {
    name: 'SDK registered (in-memory exporter)',
    before: () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] });
      metrics.setGlobalMeterProvider(provider);
    },
    after: async () => {
      metrics.disable();
      await provider?.shutdown();
    },
  },
];

async function timeOnce(shape: Shape, setting: Setting): Promise<number> {
  setting.before?.();
  const p = shape.build();
  await p.start();
  setting.started?.(p);
  const items: Small[] = Array.from({ length: shape.items }, (_, i) => ({ id: i, value: i }));
  let out = 0;
  const sink = new Writable({ objectMode: true, write: (_x, _e, callback) => { out++; callback(); } });
  const started = performance.now();
  await pipeline(Readable.from(items), p, sink);
  const elapsed = performance.now() - started;
  await setting.after?.();
  if (out !== shape.items) throw new Error(`${shape.name}, ${setting.name}: ${out} items out of ${shape.items}`);
  return elapsed;
}

for (const shape of SHAPES) {
  const samples = SETTINGS.map(() => [] as number[]);
  await timeOnce(shape, SETTINGS[0]!); // warm-up
  for (let turn = 0; turn < TURNS; turn++) {
    // Each turn starts with the next setting, so that none always runs first.
    for (let k = 0; k < SETTINGS.length; k++) {
      const i = (turn + k) % SETTINGS.length;
      samples[i]!.push(await timeOnce(shape, SETTINGS[i]!));
    }
  }
  const medians = samples.map((s) => median(s));
  console.log(`\n${shape.name}, ${shape.items} items, median of ${TURNS} turns`);
  for (const [i, setting] of SETTINGS.entries()) {
    const ms = medians[i]!;
    const perItemUs = (ms * 1000) / shape.items;
    console.log(`  ${setting.name.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms  ${perItemUs.toFixed(2).padStart(6)} µs/item  ×${(ms / medians[0]!).toFixed(3)}`);
  }
}
