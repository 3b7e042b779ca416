// Micro-benchmarks with `benchmark`: the cost per item of a stage on the main
// thread, of a worker crossing with one item per batch and with batches, and
// of timing. Each benchmark keeps one chain open and, per cycle, writes a
// fixed number of items into it and waits until they are all out, so stream
// construction and worker start-up are not counted.

import { once } from 'node:events';
import type { Duplex, Readable, Writable } from 'node:stream';
import Benchmark from 'benchmark';
import { createPipeline, stage } from 'async-task-pipeline';
import { inlineStage } from './anchors/inline.js';
import type { BenchOptions } from './lib/options.js';
import type { MicroResult } from './lib/results.js';
import { printTable } from './lib/table.js';
import { WORK_MODULE } from './lib/work-module.js';
import type { Small } from './work.js';

/** A chain kept open between cycles: write n items, resolve when n came out. */
class LiveChain {
  private remaining = 0;
  private done: (() => void) | undefined;

  constructor(private readonly head: Writable, private readonly tail: Readable) {
    tail.on('data', () => {
      if (--this.remaining === 0) this.done?.();
    });
  }

  async push(count: number): Promise<void> {
    this.remaining = count;
    const finished = new Promise<void>((resolve) => { this.done = resolve; });
    for (let i = 0; i < count; i++) {
      const item: Small = { id: i, value: i };
      if (!this.head.write(item)) await once(this.head, 'drain');
    }
    await finished;
  }

  async close(): Promise<void> {
    this.head.end();
    this.tail.resume();
    await once(this.tail, 'end');
  }
}

interface MicroCase {
  name: string;
  /** Items per cycle. */
  items: number;
  build: () => Promise<{ head: Writable; tail: Readable }>;
}

function same(chain: Duplex): Promise<{ head: Writable; tail: Readable }> {
  return Promise.resolve({ head: chain, tail: chain });
}

/** A worker stage, started so that spawning is not timed; its bound sets the batch size. */
async function workerStage(highWaterMark: number): Promise<{ head: Duplex; tail: Duplex }> {
  const s = stage({ module: WORK_MODULE, export: 'addOne' }, { highWaterMark });
  await s.start();
  return { head: s, tail: s };
}

const CASES: MicroCase[] = [
  { name: 'inline Transform (no stage, reference)', items: 1000, build: () => same(inlineStage('addOne')) },
  { name: 'stage, thread: false', items: 1000, build: () => same(stage({ module: WORK_MODULE, export: 'addOne' }, { thread: false })) },
  { name: 'worker crossing, batch of 1 (highWaterMark 1)', items: 200, build: () => workerStage(1) },
  { name: 'worker crossing, batches up to 64 (highWaterMark 64)', items: 2000, build: () => workerStage(64) },
  {
    name: 'createPipeline, thread: false stage, timing off',
    items: 1000,
    build: () => same(createPipeline([stage({ module: WORK_MODULE, export: 'addOne' }, { thread: false })], { timing: false })),
  },
  {
    name: 'createPipeline, thread: false stage, timing on',
    items: 1000,
    build: () => same(createPipeline([stage({ module: WORK_MODULE, export: 'addOne' }, { thread: false })], { timing: true })),
  },
];

function runBenchmark(name: string, chain: LiveChain, items: number, options: BenchOptions): Promise<Benchmark> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void => reject(error instanceof Error ? error : new Error(String(error)));
    const bench = new Benchmark(name, {
      defer: true,
      maxTime: options.quick ? 0.4 : 3,
      minSamples: 5,
      fn(deferred: { resolve(): void }) {
        chain.push(items).then(() => deferred.resolve(), fail);
      },
      onComplete: () => resolve(bench),
      onError: (event: { target: { error: unknown } }) => fail(event.target.error),
    });
    bench.run({ async: true });
  });
}

export async function runMicro(options: BenchOptions): Promise<MicroResult[]> {
  console.log('\n-- micro: cost per item (benchmark.js)');
  const results: MicroResult[] = [];
  for (const micro of CASES) {
    const { head, tail } = await micro.build();
    const chain = new LiveChain(head, tail);
    const bench = await runBenchmark(micro.name, chain, micro.items, options);
    await chain.close();
    const result: MicroResult = {
      name: micro.name,
      usPerItem: (bench.stats.mean / micro.items) * 1e6,
      rmePercent: bench.stats.rme,
      samples: bench.stats.sample.length,
    };
    results.push(result);
    console.log(`   ${result.name}: ${result.usPerItem.toFixed(3)} us/item ±${result.rmePercent.toFixed(1)}%`);
  }
  return results;
}

export function printMicro(results: readonly MicroResult[]): void {
  console.log('\n== micro: cost per item');
  printTable(
    ['case', 'us/item', 'items/s', '±%', 'samples'],
    results.map((r) => [r.name, r.usPerItem.toFixed(3), Math.round(1e6 / r.usPerItem).toLocaleString('en-US'), r.rmePercent.toFixed(1), String(r.samples)]),
  );
  const off = results.find((r) => r.name.endsWith('timing off'));
  const on = results.find((r) => r.name.endsWith('timing on'));
  if (off !== undefined && on !== undefined) console.log(`timing on costs ${(on.usPerItem - off.usPerItem).toFixed(3)} us per item (${((on.usPerItem / off.usPerItem - 1) * 100).toFixed(0)}% on a main-thread stage)`);
}
