// Scenario 8, JSON that crosses as text: the command line over a file of
// 1 KB JSON Lines records with one light module stage and 2 workers
// (`--format jsonl` runs its stages with `json: true`), against a plain
// single-threaded Node script doing the same (bench/json-plain.ts) and, when
// it is installed, `jq -c` doing the same edit. The file is generated in a
// temporary directory and deleted afterwards. Runs go in turns; every
// runner's output must be byte for byte the plain script's.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { check, issueTarget } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import { makeRecord } from './records.js';

const CLI = fileURLToPath(new URL('../../../bin/async-task-pipeline.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('../json-plain.js', import.meta.url));
const WORK = fileURLToPath(new URL('../work.js', import.meta.url));
const JQ_FILTER = '.name |= ascii_upcase | .email |= ascii_downcase | .total = (.scores | add)';
const MB = 1e6;

async function writeRecords(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let count = 0;
  while (written < bytes) {
    const line = JSON.stringify(makeRecord(count++)) + '\n';
    written += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return count;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs a command to the end; resolves with its wall time in ms. */
function timed(command: string, args: string[], stdoutTo?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', stdoutTo === undefined ? 'ignore' : 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    if (stdoutTo !== undefined) child.stdout!.pipe(createWriteStream(stdoutTo));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

async function jqVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('jq', ['--version']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

export async function runJsonCli(options: BenchOptions): Promise<ScenarioResult> {
  const bytes = (options.quick ? 2 : 200) * MB;
  const run = new ScenarioRun('8', `JSON Lines through the command line: ${bytes / MB} MB of ~1 KB records, one light module stage, 2 workers`, options);
  const dir = await mkdtemp(join(os.tmpdir(), 'atp-bench-json-'));
  try {
    const input = join(dir, 'in.jsonl');
    const records = await writeRecords(input, bytes);
    const size = (await stat(input)).size;
    const jq = await jqVersion();
    const runners: Array<{ runner: string; go: (out: string) => Promise<number> }> = [
      { runner: 'ours: the command line, --format jsonl, concurrency 2', go: (out) => timed(process.execPath, [CLI, '--stage', `${WORK}#normalizeRecord:concurrency=2`, '--input', input, '--output', out, '--quiet']) },
      { runner: 'plain Node script (readline, JSON.parse, the function, JSON.stringify)', go: (out) => timed(process.execPath, [PLAIN, input, out]) },
    ];
    if (jq !== undefined) runners.push({ runner: `${jq} -c (the same edit)`, go: (out) => timed('jq', ['-c', JQ_FILTER, input], out) });
    const samples = runners.map(() => [] as number[]);
    let expected: string | undefined;
    for (let round = 0; round < options.warmups + options.runs; round++) {
      for (const [i, r] of runners.entries()) {
        const out = join(dir, `out-${i}.jsonl`);
        const ms = await r.go(out);
        const digest = await sha256(out);
        expected ??= digest;
        if (digest !== expected) throw new OutputMismatch(`scenario 8: ${r.runner} wrote different bytes from ${runners[0]!.runner}`);
        await rm(out);
        if (round >= options.warmups) samples[i]!.push(ms);
      }
    }
    const rows = runners.map((r, i) => {
      const medianMs = median(samples[i]!);
      const row = { runner: r.runner, items: records, itemsPerSecond: records / (medianMs / 1000), medianMs, samplesMs: samples[i]! };
      run.rows.push(row);
      console.log(`   ${r.runner}: ${(size / MB / (medianMs / 1000)).toFixed(1)} MB/s (runs ${samples[i]!.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
      return row;
    });
    const [ours, plain, jqRow] = rows;
    const how = `medians of ${options.runs} alternating runs, each a fresh process over the same ${(size / MB).toFixed(0)} MB file`;
    run.checks.push(
      issueTarget('JSON Lines CLI, 2 workers / plain Node script', plain!.medianMs / ours!.medianMs, 'x', { atLeast: 1.3 }, how),
      check('MB/s through the command line', size / MB / (ours!.medianMs / 1000), 'MB/s'),
    );
    if (jqRow !== undefined) {
      run.checks.push(issueTarget('JSON Lines CLI / jq -c (reported, no target)', jqRow.medianMs / ours!.medianMs, 'x', undefined, how));
    } else {
      run.notes.push('jq not installed: no jq figure (apt-get install -y --no-install-recommends jq)');
      console.log('   jq not installed');
    }
    run.notes.push(`jq filter: ${JQ_FILTER}`, `${records.toLocaleString('en-US')} records, ${size.toLocaleString('en-US')} bytes; every output checked byte for byte against the first runner's`);
    return run.result();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
