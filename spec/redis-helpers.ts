// Helpers of the Redis transport specs: a real redis-server of their own on
// a loopback port with persistence off, worker processes started through the
// package's bin, and a supervisor that restarts the workers that die. Kept
// apart from helpers.ts: only the redis*.spec.ts files need them.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { fixturePath, makeTempDir, skipLoudlyUnlessRequired, waitUntil } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/async-task-pipeline.js', import.meta.url));

/** Whether a `redis-server` is on PATH. */
export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * In a `before` hook: skips the suite, loudly, when redis-server is missing,
 * unless ATP_REQUIRE_REDIS is set (as in CI), which makes it a failure.
 */
export function requireRedisServer(context: Mocha.Context): void {
  if (redisServerAvailable()) return;
  skipLoudlyUnlessRequired(context, 'ATP_REQUIRE_REDIS', 'ATP_REQUIRE_REDIS is set but redis-server is not on PATH (apt-get install redis-server)', [
    'SKIPPED: the Redis transport specs. redis-server is not on',
    'PATH. Install it (apt-get install redis-server) or set',
    'ATP_REQUIRE_REDIS=1 to make its absence a failure.',
  ]);
}

/**
 * In a `before` hook: as requireRedisServer, for Debian's `redis-sentinel`
 * (apt-get install redis-sentinel), which the Sentinel failover spec needs.
 */
export function requireRedisSentinel(context: Mocha.Context): void {
  const probe = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return;
  skipLoudlyUnlessRequired(context, 'ATP_REQUIRE_REDIS', 'ATP_REQUIRE_REDIS is set but redis-sentinel is not on PATH (apt-get install redis-sentinel)', [
    'SKIPPED: the Redis Sentinel failover spec. redis-sentinel is',
    'not on PATH. Install it (apt-get install redis-sentinel) or',
    'set ATP_REQUIRE_REDIS=1 to make its absence a failure.',
  ]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The spec CA and server certificate (spec/fixtures/tls, kept in the source tree). */
export const TLS_DIR = fileURLToPath(new URL('../../spec/fixtures/tls/', import.meta.url));

/** A redis-server of the spec's own: loopback only, nothing written to disk; `tls`: TLS only. */
export class RedisServer {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly extraArgs: string[] = [], private readonly tls = false) {}

  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  private portArgs(): string[] {
    if (!this.tls) return ['--port', String(this.port)];
    return [
      '--port', '0', '--tls-port', String(this.port), '--tls-cert-file', `${TLS_DIR}server.pem`,
      '--tls-key-file', `${TLS_DIR}server.key`, '--tls-ca-cert-file', `${TLS_DIR}ca.pem`, '--tls-auth-clients', 'no',
    ];
  }

  /** Starts it (again, on the same port once it has one). */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn('redis-server', [
      ...this.portArgs(), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { output += text; });
    await waitUntil(() => output.includes('Ready to accept connections') || child.exitCode !== null, 'redis-server is ready');
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
  }

  /** Stops it: SIGKILL for a crash, SIGTERM for a shutdown. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Sends it a signal (SIGSTOP: a server that stops answering; SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Runs redis-cli against it and returns the output. */
  cli(...args: string[]): string {
    return spawnSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8' }).stdout;
  }

  /**
   * Records every command the server runs, in the order it runs them
   * (redis-cli MONITOR; a transaction's commands as EXEC runs them), until
   * `stop()`, which resolves with the lines. Resolves `started` once recording.
   */
  monitor(): { started: Promise<void>; stop: () => Promise<string[]> } {
    const child = spawn('redis-cli', ['-p', String(this.port), 'MONITOR'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.setEncoding('latin1').on('data', (text: string) => { output += text; });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return {
      started: waitUntil(() => output.startsWith('OK'), 'MONITOR records'),
      stop: async () => {
        child.kill();
        await exited;
        return output.split('\n');
      },
    };
  }
}

/**
 * A redis-sentinel of the spec's own on a loopback port, monitoring
 * `mymaster` at `monitoredPort` with a quorum of 2 and a one-second
 * down-after, from a config file in `dir` (Sentinel rewrites it).
 */
export class RedisSentinel {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly dir: string, private readonly monitoredPort: number) {}

  async start(): Promise<void> {
    this.port = await freePort();
    const config = join(this.dir, `sentinel-${this.port}.conf`);
    writeFileSync(config, [
      `port ${this.port}`, 'bind 127.0.0.1', `dir ${this.dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${this.monitoredPort} 2`,
      'sentinel down-after-milliseconds mymaster 1000', 'sentinel failover-timeout mymaster 5000', '',
    ].join('\n'));
    const child = spawn('redis-sentinel', [config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { output += text; });
    await waitUntil(() => output.includes('+monitor') || child.exitCode !== null, 'redis-sentinel monitors mymaster');
    if (child.exitCode !== null) throw new Error(`redis-sentinel exited: ${output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs redis-cli against it and returns the output. */
  cli(...args: string[]): string {
    return spawnSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8' }).stdout;
  }

  /** The port of the primary it names now. */
  primaryPort(): number {
    return Number(this.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster').trim().split('\n')[1]);
  }
}

/** A prefix no other spec uses, so that specs sharing a server never meet. */
export function uniquePrefix(): string {
  return `spec-${randomUUID().slice(0, 8)}`;
}

export interface WorkerOptions {
  url: string;
  prefix: string;
  /** `--stage` values; default: the remote fixture's `square`. */
  stages?: string[];
  concurrency?: number;
  reclaimAfterMs?: number;
  extra?: string[];
  env?: Record<string, string>;
}

/** A worker process started through bin/async-task-pipeline.js. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  constructor(options: WorkerOptions) {
    const stages = options.stages ?? [`${fixturePath('remote.js')}#square`];
    const args = [
      BIN, 'worker', '--redis', options.url, '--prefix', options.prefix,
      ...stages.flatMap((s) => ['--stage', s]),
      '--concurrency', String(options.concurrency ?? 1),
      '--reclaim-after', String(options.reclaimAfterMs ?? 30_000),
      ...(options.extra ?? []),
    ];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => { this.stderr += text; });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once it serves its stages (it says so on standard error). */
  ready(): Promise<void> {
    return waitUntil(() => this.stderr.includes('serving stage') || this.child.exitCode !== null, 'the worker is serving', 15_000);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** Keeps `count` workers running: one that dies is replaced, and counted. */
export class Supervisor {
  readonly workers: WorkerProcess[] = [];
  deaths = 0;
  private stopped = false;

  constructor(private readonly options: WorkerOptions, count: number) {
    for (let i = 0; i < count; i++) this.spawn();
  }

  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const worker of this.workers) worker.kill();
    await Promise.all(this.workers.map((w) => w.exited));
  }

  private spawn(): void {
    const worker = new WorkerProcess(this.options);
    this.workers.push(worker);
    void worker.exited.then(() => {
      if (this.stopped) return;
      this.deaths++;
      this.spawn();
    });
  }
}

/**
 * The hooks every Redis spec file needs, registered in the calling describe():
 * a redis-server of its own (or the loud skip), every worker a spec started
 * killed after it, the server stopped and the temp directory removed at the end.
 */
export function redisSuite(tempPrefix: string): { server: RedisServer; workers: WorkerProcess[]; temp: { dir: string; remove: () => void } } {
  const server = new RedisServer();
  const workers: WorkerProcess[] = [];
  const temp = makeTempDir(tempPrefix);

  before(async function () {
    requireRedisServer(this);
    await server.start();
  });

  afterEach(async () => {
    for (const worker of workers) worker.kill();
    await Promise.all(workers.map((w) => w.exited));
    workers.length = 0;
  });

  after(async () => {
    await server.stop();
    temp.remove();
  });

  return { server, workers, temp };
}
