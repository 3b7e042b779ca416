// Entry of the benchmark suite: `npm run bench` (full, about ten minutes) or
// `npm run bench -- --quick` (a smoke test under a minute). Every scenario
// runs ours and its anchors in this process, checks that their outputs are
// equal and prints items/s and ratios against issue 4's targets. Only a
// wrong output or a crash makes the exit code non-zero, never a time.

import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { printMicro, runMicro } from './micro.js';
import { parseOptions, selects } from './lib/options.js';
import type { BenchOptions } from './lib/options.js';
import type { ScenarioResult } from './lib/report.js';
import { machineInfo, writeResults } from './lib/results.js';
import type { MicroResult } from './lib/results.js';
import { printIssueTargets, printScenario } from './lib/table.js';
import { runBuffers } from './scenarios/buffers.js';
import { runCpuBound } from './scenarios/cpu-bound.js';
import { runFirstResult } from './scenarios/first-result.js';
import { runJsonCli } from './scenarios/json-cli.js';
import { runLightLoad } from './scenarios/light-load.js';
import { runMemory } from './scenarios/memory.js';
import { runRecords } from './scenarios/records.js';
import { runRemoteScaling, runRemoteTiny } from './scenarios/remote.js';
import { runReport } from './scenarios/report.js';
import { runServer } from './scenarios/server.js';
import { runTinyItems } from './scenarios/tiny-items.js';

const SCENARIOS: Array<[string, (options: BenchOptions) => Promise<ScenarioResult>]> = [
  ['1', runCpuBound],
  ['2', runTinyItems],
  ['3', runRecords],
  ['4', runBuffers],
  ['5', runLightLoad],
  ['6', runMemory],
  ['7', runFirstResult],
  ['8', runJsonCli],
  ['server', runServer],
  // The run report's size, build time and running cost (issue 18).
  ['report', runReport],
  // Through Redis to worker processes (skipped, saying so, without redis-server).
  ['redis-1', runRemoteTiny],
  ['redis-2', runRemoteScaling],
];

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const machine = machineInfo();
  console.log(`async-task-pipeline bench, ${options.quick ? 'quick' : 'full'} run: Node ${machine.node}, ${machine.availableParallelism} cores (${machine.cpu}), load ${machine.loadAverage.join(' ')}`);
  console.log(`median of ${options.runs} run(s) after ${options.warmups} warm-up; figures are noisy on a shared machine`);

  const scenarios: ScenarioResult[] = [];
  for (const [id, runScenario] of SCENARIOS) if (selects(options, id)) scenarios.push(await runScenario(options));
  const micro: MicroResult[] = selects(options, 'micro') ? await runMicro(options) : [];

  console.log('\n================ results ================');
  for (const scenario of scenarios) printScenario(scenario);
  if (micro.length > 0) printMicro(micro);
  printIssueTargets(scenarios.flatMap((s) => s.checks.filter((c) => c.issue === 10)));
  const checks = scenarios.flatMap((s) => s.checks.filter((c) => c.pass !== undefined));
  console.log(`\ntargets: ${checks.filter((c) => c.pass === true).length} PASS, ${checks.filter((c) => c.pass === false).length} MISS (a MISS never fails the bench)`);

  const durationSeconds = (performance.now() - started) / 1000;
  console.log(`bench took ${durationSeconds.toFixed(1)} s`);
  if (options.write) {
    const written = await writeResults({
      date: new Date().toISOString(),
      mode: options.quick ? 'quick' : 'full',
      machine,
      loadAverageAtEnd: os.loadavg().map((load) => Math.round(load * 100) / 100),
      durationSeconds,
      scenarios,
      micro,
    });
    console.log(`wrote ${written.join(', ')}`);
  }
}

try {
  await main();
  // Piscina and spawned workers may keep handles; the bench is done.
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
