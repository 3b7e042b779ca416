// A redis-server and `async-task-pipeline worker` processes for the remote
// scenarios: started here on a loopback port with persistence off, stopped
// at the end. INFO commandstats and INFO cpu say what Redis did per batch.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/async-task-pipeline.js', import.meta.url));

export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export class BenchRedis {
  private constructor(readonly port: number, private readonly child: ChildProcess, private readonly workers: ChildProcess[] = []) {}

  static async start(): Promise<BenchRedis> {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text; });
    await waitFor(() => output.includes('Ready to accept connections') || child.exitCode !== null, 'redis-server is ready');
    return new BenchRedis(port, child);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a worker process serving `exports` of `module` with `threads` threads; resolves once it serves. */
  async startWorker(prefix: string, module: URL, exports: string[], threads: number): Promise<void> {
    const args = [BIN, 'worker', '--redis', this.url, '--prefix', prefix, '--concurrency', String(threads)];
    for (const name of exports) args.push('--stage', `${fileURLToPath(module)}#${name}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.workers.push(child);
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { output += text; });
    await waitFor(() => output.split('serving stage').length > exports.length || child.exitCode !== null, 'the worker serves');
    if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
  }

  /** Calls per command and Redis's CPU seconds so far. */
  stats(): RedisStats {
    const text = spawnSync('redis-cli', ['-p', String(this.port), 'INFO', 'all'], { encoding: 'utf8' }).stdout;
    const calls: Record<string, number> = {};
    for (const match of text.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
    const cpu = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return { calls, cpuSeconds: cpu('used_cpu_sys') + cpu('used_cpu_user') };
  }

  async stop(): Promise<void> {
    for (const child of [...this.workers, this.child]) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
}

export interface RedisStats {
  calls: Record<string, number>;
  cpuSeconds: number;
}

/** What Redis did between two readings, per batch (a batch is one XACK). */
export function perBatch(before: RedisStats, after: RedisStats): { batches: number; commands: Record<string, number>; cpuMicrosecondsPerBatch: number } {
  const delta = (name: string): number => (after.calls[name] ?? 0) - (before.calls[name] ?? 0);
  const batches = delta('xack');
  const commands: Record<string, number> = {};
  for (const name of Object.keys(after.calls)) {
    const count = delta(name);
    if (count > 0 && name !== 'info') commands[name] = Math.round((count / Math.max(1, batches)) * 100) / 100;
  }
  return { batches, commands, cpuMicrosecondsPerBatch: ((after.cpuSeconds - before.cpuSeconds) / Math.max(1, batches)) * 1e6 };
}
