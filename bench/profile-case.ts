// One case of the bench, run alone for a profiler: `node --cpu-prof
// --cpu-prof-dir=DIR dist/bench/profile-case.js fused|unfused|raw|raw-chain|writev|writev-chain|buffers|json`.
// Node writes one profile per thread (main and each worker).

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { runThrough } from './lib/drive.js';
import { startedPipeline, startedStages } from './lib/ours.js';
import type { Small } from './work.js';

const which = process.argv[2];

/**
 * CPU seconds of the main thread and of the whole process, from /proc (Linux):
 * under outside load, CPU time per item moves far less than wall time.
 */
function cpuSeconds(): { main: number; all: number } {
  const ticks = (path: string): number => {
    const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  try {
    return { main: ticks(`/proc/self/task/${process.pid}/stat`) / 100, all: ticks('/proc/self/stat') / 100 };
  } catch {
    const usage = process.cpuUsage();
    return { main: NaN, all: (usage.user + usage.system) / 1e6 };
  }
}

const cpuAtStart = { main: 0, all: 0 };
function startCpu(): void {
  Object.assign(cpuAtStart, cpuSeconds());
}
function cpuNote(items: number): string {
  const now = cpuSeconds();
  return `, CPU per item: main ${((now.main - cpuAtStart.main) / items * 1e6).toFixed(2)} us, process ${((now.all - cpuAtStart.all) / items * 1e6).toFixed(2)} us`;
}
const TINY = ['addOne', 'double', 'negate'] as const;

if (which === 'fused' || which === 'unfused') {
  const data: Small[] = Array.from({ length: 500_000 }, (_, i) => ({ id: i, value: i % 1000 }));
  const timing = process.argv[3] !== 'off';
  const chain = which === 'fused' ? [await startedPipeline([...TINY], { timing })] : await startedStages([...TINY]);
  startCpu();
  const started = performance.now();
  const out = await runThrough(data, chain);
  console.log(`${which}: ${out.length} items, ${(out.length / ((performance.now() - started) / 1000) / 1000).toFixed(1)}k/s${cpuNote(out.length)}`);
} else if (which === 'raw' || which === 'raw-chain') {
  const { rawChain, rawStages } = await import('./anchors/raw-workers.js');
  const data: Small[] = Array.from({ length: 500_000 }, (_, i) => ({ id: i, value: i % 1000 }));
  const chain = which === 'raw' ? await rawStages([...TINY], { concurrency: 1 }) : await rawChain([...TINY], { concurrency: 1, highWaterMark: 192 });
  startCpu();
  const started = performance.now();
  const out = await runThrough(data, chain);
  console.log(`${which}: ${out.length} items, ${(out.length / ((performance.now() - started) / 1000) / 1000).toFixed(1)}k/s${cpuNote(out.length)}`);
} else if (which === 'writev' || which === 'writev-chain') {
  const { writevChain, writevStages } = await import('./anchors/writev-workers.js');
  const data: Small[] = Array.from({ length: 500_000 }, (_, i) => ({ id: i, value: i % 1000 }));
  const chain = which === 'writev' ? await writevStages([...TINY], 64) : await writevChain([...TINY], 192);
  startCpu();
  const started = performance.now();
  const out = await runThrough(data, chain);
  console.log(`${which}: ${out.length} items, ${(out.length / ((performance.now() - started) / 1000) / 1000).toFixed(1)}k/s${cpuNote(out.length)}`);
} else if (which === 'buffers') {
  const stages = await startedStages(['hashBuffer'], { concurrency: os.availableParallelism(), transfer: process.argv[3] === 'move' });
  const source = function* (): Generator<Buffer> {
    for (let i = 0; i < 500; i++) yield Buffer.allocUnsafeSlow(2 ** 20).fill(i % 251);
  };
  startCpu();
  const started = performance.now();
  const out = await runThrough(source(), stages);
  console.log(`buffers: ${out.length} items, ${(out.length / ((performance.now() - started) / 1000)).toFixed(0)}/s${cpuNote(out.length)}`);
} else {
  throw new TypeError('profile-case: give fused, unfused, raw, raw-chain or buffers');
}
