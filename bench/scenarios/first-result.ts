// Scenario 7, first result: a fresh process imports a library, builds 3
// stages and waits for one item to come out. Ours is createPipeline at its
// defaults (fused: one worker); the hand-written anchor is one raw worker
// running the 3 functions (what fusion does), spawned by hand; piscina runs
// the 3 calls in turn. Runs go in turns; the figures are medians.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import type { FirstResultReport } from '../first-result-child.js';
import { median } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { check, issueTarget } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';

const CHILD = fileURLToPath(new URL('../first-result-child.js', import.meta.url));
const RUNNERS = ['ours', 'raw', 'piscina'] as const;
const EXPECTED = { id: 1, value: -6 };
const run = promisify(execFile);

async function once(runner: string): Promise<FirstResultReport> {
  const { stdout } = await run(process.execPath, [CHILD, runner], { maxBuffer: 2 ** 20 });
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as FirstResultReport;
  if (!isDeepStrictEqual(report.result, EXPECTED)) throw new OutputMismatch(`scenario 7: ${runner} gave ${JSON.stringify(report.result)}`);
  return report;
}

export async function runFirstResult(options: BenchOptions): Promise<ScenarioResult> {
  const rounds = options.quick ? 1 : 5;
  const scenario = new ScenarioRun('7', 'First result: 3 light stages in a fresh process, one item', options);
  const reports = new Map<string, FirstResultReport[]>(RUNNERS.map((r) => [r, []]));
  await once('ours'); // the first start of a process after a build reads files from disk
  for (let round = 0; round < rounds; round++) for (const runner of RUNNERS) reports.get(runner)!.push(await once(runner));
  const medians = new Map(RUNNERS.map((runner) => {
    const list = reports.get(runner)!;
    const figures = {
      firstResultMs: median(list.map((r) => r.firstResultMs)),
      importMs: median(list.map((r) => r.importMs)),
      constructMs: median(list.map((r) => r.constructMs)),
      importConstructMs: median(list.map((r) => r.importMs + r.constructMs)),
    };
    console.log(`   ${runner}: first result at ${figures.firstResultMs.toFixed(1)} ms after process start (runs ${list.map((r) => r.firstResultMs.toFixed(0)).join(' ')}); import ${figures.importMs.toFixed(1)} ms, construct ${figures.constructMs.toFixed(1)} ms`);
    return [runner, figures] as const;
  }));
  const ours = medians.get('ours')!;
  const raw = medians.get('raw')!;
  const piscina = medians.get('piscina')!;
  for (const [runner, figures] of medians) {
    scenario.checks.push(check(`${runner}: first result`, figures.firstResultMs, 'ms'), check(`${runner}: import + construct`, figures.importConstructMs, 'ms'));
  }
  const how = `medians of ${rounds} fresh processes each, in turns`;
  scenario.checks.push(
    issueTarget('first result: ours / hand-written worker', ours.firstResultMs / raw.firstResultMs, 'x', { atMost: 1.5 }, `${ours.firstResultMs.toFixed(0)} vs ${raw.firstResultMs.toFixed(0)} ms from process start, ${how}`),
    issueTarget('import + construct: ours / piscina', ours.importConstructMs / piscina.importConstructMs, 'x', { atMost: 1 }, `${ours.importConstructMs.toFixed(1)} vs ${piscina.importConstructMs.toFixed(1)} ms, ${how}`),
  );
  scenario.notes.push('times from process start (performance.now() in the child); the raw anchor spawns its worker while it is constructed, ours and piscina on first use');
  for (const [runner, figures] of medians) for (const [key, value] of Object.entries(figures)) scenario.figures[`${runner}: ${key}`] = value;
  return scenario.result();
}
