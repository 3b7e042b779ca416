// Measures the gulp example: the `minify` task (terser in worker threads)
// against `main-thread` (the same terser calls inline), each run with the
// real gulp CLI, alternating, a few rounds; prints the medians and the ratio.
//   node dist/examples/gulp/compare.js <folder> [files=200] [rounds=3]

import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSamples } from './generate.js';

const GULP = fileURLToPath(new URL('../../../node_modules/gulp/bin/gulp.js', import.meta.url));
const GULPFILE = fileURLToPath(new URL('./gulpfile.js', import.meta.url));

function timeTask(folder: string, task: string): number {
  const started = performance.now();
  execFileSync(process.execPath, [GULP, '--gulpfile', GULPFILE, '--cwd', folder, task], { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main([folderArg = 'dist/examples/gulp/sample', filesArg = '200', roundsArg = '3']: string[]): void {
  const folder = resolve(folderArg);
  const files = Number(filesArg);
  const rounds = Number(roundsArg);
  generateSamples(folder, files);
  const workers: number[] = [];
  const inline: number[] = [];
  for (let r = 0; r < rounds; r++) {
    workers.push(timeTask(folder, 'minify'));
    inline.push(timeTask(folder, 'main-thread'));
  }
  const w = median(workers);
  const m = median(inline);
  console.log(`${files} files, ${rounds} rounds, ${availableParallelism()} cores, worker threads = ${process.env.GULP_MINIFY_THREADS ?? availableParallelism()}`);
  console.log(`main-thread: median ${m.toFixed(2)} s  (${inline.map((t) => t.toFixed(2)).join(', ')})`);
  console.log(`workers:     median ${w.toFixed(2)} s  (${workers.map((t) => t.toFixed(2)).join(', ')})`);
  console.log(`speed-up:    ${(m / w).toFixed(2)}x`);
}

main(process.argv.slice(2));
