// Scenario 6, memory: items from an endless-style generator into a sink that
// reads slowly (one setImmediate per item). Backpressure must hold: RSS stays
// flat and no stage ever holds more than its highWaterMark.
//
// Each runner runs in a child process of its own, so that memory left over
// by earlier scenarios (or by another runner) neither hides growth nor adds
// to it.

import { execFile } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { Stage } from 'async-task-pipeline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inlineStages } from '../anchors/inline.js';
import { rawStages } from '../anchors/raw-workers.js';
import type { BenchOptions } from '../lib/options.js';
import { startedPipeline, startedStages } from '../lib/ours.js';
import { check } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Small } from '../work.js';

const STAGES: WorkName[] = ['addOne', 'double'];
const HIGH_WATER_MARK = 64;
const SAMPLE_MS = 10;
const RUNNERS = ['inline', 'ours (stream.pipeline of stages)', 'ours createPipeline', 'raw-workers'] as const;
type Runner = (typeof RUNNERS)[number];

interface ChildReport {
  runner: Runner;
  items: number;
  seconds: number;
  peakRssGrowthMb: number;
  /** The most items any one stage held, where the runner counts them (ours). */
  maxItemsHeld: number | undefined;
  /** That stage's bound: its highWaterMark (a fused chain's is the sum of its stages'). */
  heldBound: number | undefined;
  /** The most items sampled inside the whole pipeline (createPipeline only). */
  maxItemsInside: number | undefined;
}

/** Numbers that would go on for ever; the count only stops the bench. */
function* endless(limit: number): Generator<Small> {
  for (let id = 0; ; id++) {
    if (id === limit) return;
    yield { id, value: id };
  }
}

function slowSink(onItem: (item: Small) => void): Writable {
  return new Writable({
    objectMode: true,
    write(item: Small, _encoding, callback) {
      onItem(item);
      setImmediate(callback);
    },
  });
}

/** The stage that came closest to its bound: [most held, its bound]. */
function fullest(stages: readonly Stage[]): [number, number] {
  let best: [number, number] = [0, HIGH_WATER_MARK];
  for (const s of stages) {
    if (s.stats.maxItemsHeld - s.writableHighWaterMark > best[0] - best[1]) best = [s.stats.maxItemsHeld, s.writableHighWaterMark];
  }
  return best;
}

async function buildChain(runner: Runner): Promise<{ chain: Duplex[]; held: () => [number, number] | undefined; inside: () => number | undefined }> {
  if (runner === 'inline') return { chain: inlineStages(STAGES), held: () => undefined, inside: () => undefined };
  if (runner === 'raw-workers') return { chain: await rawStages(STAGES, { concurrency: 1, highWaterMark: HIGH_WATER_MARK }), held: () => undefined, inside: () => undefined };
  if (runner === 'ours createPipeline') {
    const timed = await startedPipeline(STAGES, { timing: true }, { highWaterMark: HIGH_WATER_MARK });
    // Fused stages do not run as streams of their own: the links are what hold items.
    return { chain: [timed], held: () => fullest(timed.links), inside: () => timed.itemsInside() };
  }
  const stages = await startedStages(STAGES, { highWaterMark: HIGH_WATER_MARK });
  return { chain: stages, held: () => fullest(stages), inside: () => undefined };
}

/** Child side: one runner, sampled, reported as JSON on stdout. */
async function child(runner: Runner, items: number): Promise<void> {
  const { chain, held, inside } = await buildChain(runner);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let maxInside: number | undefined;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().rss);
    const now = inside();
    if (now !== undefined) maxInside = Math.max(maxInside ?? 0, now);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  let next = 0;
  const started = performance.now();
  await pipeline([
    Readable.from(endless(items)),
    ...chain,
    slowSink((item) => {
      if (item.id !== next || item.value !== (next + 1) * 2) throw new OutputMismatch(`scenario 6 (${runner}): expected item ${next}, got ${JSON.stringify(item)}`);
      next++;
    }),
  ]);
  clearInterval(timer);
  sample();
  if (next !== items) throw new OutputMismatch(`scenario 6 (${runner}): ${next} items came out of ${items}`);
  const report: ChildReport = {
    runner,
    items,
    seconds: (performance.now() - started) / 1000,
    peakRssGrowthMb: (peak - baseline) / 2 ** 20,
    maxItemsHeld: held()?.[0],
    heldBound: held()?.[1],
    maxItemsInside: maxInside,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

const run = promisify(execFile);

export async function runMemory(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 100_000 : 1_000_000;
  const scenario = new ScenarioRun('6', `Memory: ${items.toLocaleString('en-US')} items from an endless generator into a slow sink, 2 stages, highWaterMark ${HIGH_WATER_MARK}`, options);
  const reports: ChildReport[] = [];
  for (const runner of RUNNERS) {
    const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--child', runner, String(items)], { maxBuffer: 2 ** 20 });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport;
    reports.push(report);
    console.log(`   ${runner}: peak RSS growth ${report.peakRssGrowthMb.toFixed(1)} MB, ${(items / report.seconds / 1000).toFixed(1)}k items/s` +
      (report.maxItemsHeld === undefined ? '' : `, most held in a stage ${report.maxItemsHeld}`) +
      (report.maxItemsInside === undefined ? '' : `, most inside the pipeline ${report.maxItemsInside}`));
  }
  for (const report of reports) {
    const ours = report.runner.startsWith('ours');
    scenario.checks.push(check(`${report.runner}: peak RSS growth`, report.peakRssGrowthMb, 'MB', ours ? { atMost: 100 } : undefined));
    if (report.maxItemsHeld !== undefined) {
      scenario.checks.push(check(`${report.runner}: most items held in one stage`, report.maxItemsHeld, 'items', { atMost: report.heldBound ?? HIGH_WATER_MARK }));
    }
    if (report.maxItemsInside !== undefined) scenario.checks.push(check(`${report.runner}: most items inside the pipeline (sampled)`, report.maxItemsInside, 'items'));
    scenario.figures[`${report.runner}: seconds`] = report.seconds;
  }
  scenario.notes.push(`each runner ran in its own child process; RSS sampled every ${SAMPLE_MS} ms against the RSS after its workers started`);
  return scenario.result();
}

if (process.argv[2] === '--child') {
  const runner = process.argv[3] as Runner;
  if (!RUNNERS.includes(runner)) throw new TypeError(`unknown runner ${runner}`);
  await child(runner, Number(process.argv[4]));
}
