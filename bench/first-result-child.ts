// Child process of scenario 7: one fresh process per run. Everything is
// imported dynamically, after the clock starts, so that the time of each
// import counts for the runner that needs it. Prints one line of JSON.
// Times are `performance.now()`: milliseconds since the process started.

import { performance } from 'node:perf_hooks';
import type { WorkName } from './lib/work-module.js';

const STAGES: WorkName[] = ['addOne', 'double', 'negate'];
const ITEM = { id: 1, value: 2 };

export interface FirstResultReport {
  runner: string;
  /** When this script began to run (Node's own start-up before it). */
  scriptMs: number;
  /** Import of the library, then construction of the 3 stages (no worker yet where the library spawns lazily). */
  importMs: number;
  constructMs: number;
  /** When the first result came out. */
  firstResultMs: number;
  result: unknown;
}

async function ours(): Promise<[number, number, unknown]> {
  const lib = await import('async-task-pipeline');
  const { WORK_MODULE } = await import('./lib/work-module.js');
  const imported = performance.now();
  const flow = lib.createPipeline(STAGES.map((name, i) => lib.stage({ module: WORK_MODULE, export: name }, { name: `${name}-${i + 1}` })));
  const constructed = performance.now();
  flow.end(ITEM);
  const [result] = await flow.toArray();
  return [imported, constructed, result];
}

async function raw(): Promise<[number, number, unknown]> {
  const { rawChain } = await import('./anchors/raw-workers.js');
  const { Readable } = await import('node:stream');
  const imported = performance.now();
  // Spawning is part of constructing a hand-written stage.
  const [chain] = await rawChain(STAGES, { concurrency: 1 });
  const constructed = performance.now();
  const [result] = await Readable.from([ITEM]).pipe(chain!).toArray();
  return [imported, constructed, result];
}

async function piscina(): Promise<[number, number, unknown]> {
  const { Piscina } = await import('piscina');
  const imported = performance.now();
  const pool = new Piscina({ filename: new URL('./anchors/piscina-worker.js', import.meta.url).href, maxThreads: 2 });
  const constructed = performance.now();
  let value: unknown = ITEM;
  for (const name of STAGES) value = await pool.run(value, { name });
  await pool.close();
  return [imported, constructed, value];
}

const RUNNERS: Record<string, () => Promise<[number, number, unknown]>> = { ours, raw, piscina };

const runner = process.argv[2] ?? '';
const scriptMs = performance.now();
const body = RUNNERS[runner];
if (body === undefined) throw new TypeError(`unknown runner ${runner}; known: ${Object.keys(RUNNERS).join(', ')}`);
const [imported, constructed, result] = await body();
const report: FirstResultReport = { runner, scriptMs, importMs: imported - scriptMs, constructMs: constructed - imported, firstResultMs: performance.now(), result };
process.stdout.write(JSON.stringify(report) + '\n');
process.exit(0);
