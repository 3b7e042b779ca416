// The Redis transport when things break: a worker killed with kill -9, a
// poison item that kills every process that runs it, a slow worker that must
// not be robbed, Redis down or killed, and a worker drained by SIGTERM.
// Reclaim times are short here (300 ms) to keep the suite quick.

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { StageError, stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, range, rejectionOf, runThrough, waitUntil } from './helpers.js';
import { RedisServer, Supervisor, WorkerProcess, redisSuite, uniquePrefix } from './redis-helpers.js';
import type { WorkerOptions } from './redis-helpers.js';
import type { RemoteItem } from './fixtures/remote.js';

type Squared = { n: number; square: number; pid: number };
const SQUARE = { module: fixture('remote.js'), export: 'square' };
const RECLAIM_AFTER_MS = 300;

describe('a Redis transport under faults', function () {
  this.timeout(60_000);
  const { server, workers, temp } = redisSuite('atp-redis-faults');
  let dirs = 0;

  function freshDir(): string {
    const dir = join(temp.dir, String(dirs++));
    mkdirSync(dir);
    return dir;
  }

  async function startWorkers(count: number, options: Omit<WorkerOptions, 'url'>): Promise<WorkerProcess[]> {
    const started = range(count).map(() => new WorkerProcess({ url: server.url, reclaimAfterMs: RECLAIM_AFTER_MS, ...options }));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  /** The pid of the process holding a 'hold' item, once one does. */
  async function heldBy(dir: string): Promise<number> {
    let held: string | undefined;
    await waitUntil(() => (held = readdirSync(dir).find((f) => f.startsWith('held-'))) !== undefined, 'a worker holds the item', 20_000);
    return Number(held!.slice('held-'.length));
  }

  it('loses and duplicates nothing when a worker is killed with kill -9 mid-run', async () => {
    const prefix = uniquePrefix();
    const dir = freshDir();
    const pair = await startWorkers(2, { prefix });
    const inputs: RemoteItem[] = range(400).map((n) => (n === 100 ? { n, mode: 'hold', dir } : { n }));
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), highWaterMark: 64 });
    const sink = new Collector();
    const done = pipeline(Readable.from(inputs), s, sink);
    const pid = await heldBy(dir);
    const killed = pair.find((w) => w.pid === pid);
    expect(killed, `worker ${pid}`).to.not.equal(undefined);
    killed!.kill('SIGKILL');
    await killed!.exited;
    writeFileSync(join(dir, 'release'), '');
    await done;
    const out = sink.chunks as Squared[];
    expect(out.map((r) => r.n)).to.deep.equal(range(400));
    expect(out[100]!.pid).to.not.equal(pid);
    expect(s.stats.retried).to.be.greaterThan(0);
  });

  it('drops the late answer of a worker that stalled past the reclaim time (SIGSTOP) and outputs each item once', async () => {
    const prefix = uniquePrefix();
    const [first, later] = [freshDir(), freshDir()];
    const pair = await startWorkers(2, { prefix });
    // Item 5 pins the worker to be stopped; item 30 keeps the run going until that worker has answered late.
    const inputs: RemoteItem[] = range(40).map((n) => (n === 5 ? { n, mode: 'hold', dir: first } : n === 30 ? { n, mode: 'hold', dir: later } : { n }));
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }) });
    const executor = s.plan.executor as unknown as { duplicates: number };
    const sink = new Collector();
    const done = pipeline(Readable.from(inputs), s, sink);
    const stalledPid = await heldBy(first);
    const stalled = pair.find((w) => w.pid === stalledPid)!;
    stalled.kill('SIGSTOP');
    writeFileSync(join(first, 'release'), '');
    await heldBy(later);
    // Its batches have been reclaimed from it, answered as a death, and queued to run again.
    await waitUntil(() => s.stats.retried > 0, "the stalled worker's batches are taken");
    stalled.kill('SIGCONT');
    await waitUntil(() => executor.duplicates > 0, 'the stalled worker has answered');
    writeFileSync(join(later, 'release'), '');
    await done;
    const out = sink.chunks as Squared[];
    // Item 5 ran twice (its late answer was dropped, its re-run counted) and came out once.
    expect(out.map((r) => r.n)).to.deep.equal(range(40));
    expect(s.stats.emitted).to.equal(40);
  });

  it('fails a poison item alone with WORKER_DIED after its retries, and every other item comes out in order', async () => {
    const prefix = uniquePrefix();
    const supervisor = new Supervisor({ url: server.url, prefix, reclaimAfterMs: RECLAIM_AFTER_MS }, 2);
    try {
      await supervisor.ready();
      const inputs: RemoteItem[] = range(60).map((n) => (n === 30 ? { n, mode: 'poison' } : { n }));
      const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), retries: 1, onError: 'emit' });
      const out = await runThrough(s, inputs);
      const error = out[30] as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code).to.equal('WORKER_DIED');
      expect(error.seq).to.equal(30);
      expect(out.filter((_, i) => i !== 30).map((r) => (r as Squared).n)).to.deep.equal(range(60).filter((n) => n !== 30));
      // Once in its first batch, then alone retries + 1 = 2 times.
      expect(supervisor.deaths).to.equal(3);
    } finally {
      await supervisor.stop();
    }
  });

  it('does not take a slow batch from a live worker: its heartbeats keep it', async () => {
    const prefix = uniquePrefix();
    const dir = freshDir();
    await startWorkers(2, { prefix });
    // Five times the reclaim time: without heartbeats it would be taken and run twice.
    const inputs: RemoteItem[] = range(8).map((n) => (n === 0 ? { n, mode: 'sleep', ms: 5 * RECLAIM_AFTER_MS, dir } : { n, dir }));
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }) });
    const out = (await runThrough(s, inputs)) as Squared[];
    expect(out.map((r) => r.n)).to.deep.equal(range(8));
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    expect(calls).to.deep.equal(range(8));
    expect(s.stats.retried).to.equal(0);
  });

  it('makes a worker with no Redis to reach exit with code 1, saying so', async () => {
    const worker = new WorkerProcess({ url: 'redis://127.0.0.1:1', prefix: uniquePrefix() });
    workers.push(worker);
    expect((await worker.exited).code).to.equal(1);
    expect(worker.stderr).to.match(/could not reach Redis at redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
  });

  it('fails a run with TRANSPORT_FAILED when Redis is killed mid-run with reconnectDeadlineMs 0, and a worker rides out the restart to serve the next run', async () => {
    const own = new RedisServer();
    await own.start();
    try {
      const prefix = uniquePrefix();
      const dir = freshDir();
      const worker = new WorkerProcess({ url: own.url, prefix, reclaimAfterMs: RECLAIM_AFTER_MS });
      workers.push(worker);
      await worker.ready();
      const inputs: RemoteItem[] = range(100).map((n) => (n === 50 ? { n, mode: 'hold', dir } : { n }));
      const failed = rejectionOf(runThrough(stage(SQUARE, { transport: redisTransport({ url: own.url, prefix, reconnectDeadlineMs: 0 }) }), inputs));
      await heldBy(dir);
      await own.stop('SIGKILL');
      const error = (await failed) as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code).to.equal('TRANSPORT_FAILED');
      expect(error.cause).to.be.instanceOf(Error);
      writeFileSync(join(dir, 'release'), '');
      await own.start();
      const out = (await runThrough(stage(SQUARE, { transport: redisTransport({ url: own.url, prefix }) }), range(10).map((n) => ({ n })))) as Squared[];
      expect(out.map((r) => r.pid)).to.deep.equal(range(10).map(() => worker.pid));
      expect(worker.child.exitCode).to.equal(null);
    } finally {
      await own.stop();
    }
  });

  it('fails a run with TRANSPORT_FAILED when Redis stops answering (SIGSTOP) with reconnectDeadlineMs 0, rather than wait for ever', async () => {
    const own = new RedisServer();
    await own.start();
    try {
      const prefix = uniquePrefix();
      const dir = freshDir();
      const worker = new WorkerProcess({ url: own.url, prefix, reclaimAfterMs: RECLAIM_AFTER_MS });
      workers.push(worker);
      await worker.ready();
      const inputs: RemoteItem[] = range(20).map((n) => (n === 10 ? { n, mode: 'hold', dir } : { n }));
      const failed = rejectionOf(runThrough(stage(SQUARE, { transport: redisTransport({ url: own.url, prefix, reconnectDeadlineMs: 0 }) }), inputs));
      await heldBy(dir);
      own.signal('SIGSTOP');
      const error = (await failed) as StageError;
      expect(error.code).to.equal('TRANSPORT_FAILED');
      expect((error.cause as Error).message).to.match(/timeout/i);
      own.signal('SIGCONT');
      writeFileSync(join(dir, 'release'), '');
    } finally {
      await own.stop();
    }
  });

  it('drains a worker on SIGTERM: it answers what it holds, takes nothing more and exits 0', async () => {
    const prefix = uniquePrefix();
    const dir = freshDir();
    const [first] = await startWorkers(1, { prefix });
    const inputs: RemoteItem[] = range(20).map((n) => (n === 0 ? { n, mode: 'hold', dir } : { n }));
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }) });
    const sink = new Collector();
    const done = pipeline(Readable.from(inputs), s, sink);
    await heldBy(dir);
    first!.kill('SIGTERM');
    await waitUntil(() => first!.stderr.includes('SIGTERM'), 'the worker says it drains');
    writeFileSync(join(dir, 'release'), '');
    expect((await first!.exited).code).to.equal(0);
    const [second] = await startWorkers(1, { prefix });
    await done;
    const out = sink.chunks as Squared[];
    expect(out.map((r) => r.n)).to.deep.equal(range(20));
    expect(out[0]!.pid).to.equal(first!.pid);
    expect(out[19]!.pid).to.equal(second!.pid);
    expect(s.stats.retried).to.equal(0);
  });
});
