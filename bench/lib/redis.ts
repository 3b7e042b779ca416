// A redis-server and `async-task-pipeline worker` processes for the remote
// scenarios: started here on a loopback port with persistence off, stopped
// at the end. INFO commandstats and INFO cpu say what Redis did per batch.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../spec/helpers.js';
import { RedisServer } from '../../spec/redis-helpers.js';

export { redisServerAvailable } from '../../spec/redis-helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/async-task-pipeline.js', import.meta.url));

/** The specs' RedisServer, with the worker processes of a scenario and Redis's own figures. */
export class BenchRedis {
  private readonly workers: ChildProcess[] = [];

  private constructor(private readonly server: RedisServer) {}

  static async start(): Promise<BenchRedis> {
    const server = new RedisServer();
    await server.start();
    return new BenchRedis(server);
  }

  get url(): string {
    return this.server.url;
  }

  /** Starts a worker process serving `exports` of `module` with `threads` threads; resolves once it serves. */
  async startWorker(prefix: string, module: URL, exports: string[], threads: number): Promise<void> {
    const args = [BIN, 'worker', '--redis', this.url, '--prefix', prefix, '--concurrency', String(threads)];
    for (const name of exports) args.push('--stage', `${fileURLToPath(module)}#${name}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.workers.push(child);
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { output += text; });
    await waitUntil(() => output.split('serving stage').length > exports.length || child.exitCode !== null, 'the worker serves', 15_000);
    if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
  }

  /** Calls per command and Redis's CPU seconds so far. */
  stats(): RedisStats {
    const text = this.server.cli('INFO', 'all');
    const calls: Record<string, number> = {};
    for (const match of text.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
    const cpu = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return { calls, cpuSeconds: cpu('used_cpu_sys') + cpu('used_cpu_user') };
  }

  async stop(): Promise<void> {
    for (const child of this.workers) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await this.server.stop();
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
