// The Redis transport when Redis itself goes away mid-run: restarted with
// its data (appendonly, shut down or killed), restarted without it, stopped
// (SIGSTOP) and resumed, down past the reconnect deadline, or out of memory.
// Each server here is the spec's own, so that restarting it meets no other spec.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { StageError, stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, fixturePath, range, rejectionOf, runThrough, waitUntil } from './helpers.js';
import { RedisServer, WorkerProcess, redisSuite, uniquePrefix } from './redis-helpers.js';
import type { RemoteItem } from './fixtures/remote.js';

type Squared = { n: number; square: number; pid: number };
const SQUARE = { module: fixture('remote.js'), export: 'square' };

describe('a Redis transport across Redis restarts', function () {
  this.timeout(90_000);
  const { workers, temp } = redisSuite('atp-redis-restart');
  let dirs = 0;

  /** What one spec gets: a server of its own, a prefix, a directory and its workers, already serving. */
  interface OwnSetup {
    own: RedisServer;
    prefix: string;
    dir: string;
    started: WorkerProcess[];
    /** A transport to the spec's own server, under its prefix. */
    transport: (options?: { reconnectDeadlineMs?: number }) => ReturnType<typeof redisTransport>;
  }

  /**
   * Runs `body` with a server of its own (`aof`: appendonly everysec in a
   * directory of its own), so that restarting, stopping or filling it meets
   * no other spec, and `workers` workers (two threads each) serving on it.
   * The server is resumed (a spec may leave it SIGSTOPped) and stopped after.
   */
  async function withOwnServer(options: { aof?: boolean; workers?: number }, body: (setup: OwnSetup) => Promise<void>): Promise<void> {
    const freshDir = (): string => {
      const dir = join(temp.dir, String(dirs++));
      mkdirSync(dir);
      return dir;
    };
    const own = new RedisServer(options.aof === true ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', freshDir()] : []);
    await own.start();
    try {
      const prefix = uniquePrefix();
      const started = range(options.workers ?? 0).map(() => new WorkerProcess({ url: own.url, prefix, concurrency: 2 }));
      workers.push(...started);
      await Promise.all(started.map((w) => w.ready()));
      const transport = (extra: { reconnectDeadlineMs?: number } = {}): ReturnType<typeof redisTransport> =>
        redisTransport({ url: own.url, prefix, ...extra });
      await body({ own, prefix, dir: freshDir(), started, transport });
    } finally {
      own.signal('SIGCONT');
      await own.stop();
    }
  }

  /**
   * Runs `count` items through two workers and restarts the server (stopped
   * with `signal`) each time the output reaches one of `at`: every item must
   * come out once, in order, and the producer must have reconnected.
   */
  function runAcrossRestarts(aof: boolean, signal: NodeJS.Signals, count: number, at: number[]): Promise<void> {
    return withOwnServer({ aof, workers: 2 }, async ({ own, transport }) => {
      const s = stage(SQUARE, { transport: transport(), highWaterMark: 256 });
      const executor = s.plan.executor as unknown as { reconnects: number };
      const sink = new Collector();
      const done = pipeline(Readable.from(range(count).map((n): RemoteItem => ({ n }))), s, sink);
      for (const mark of at) {
        await waitUntil(() => sink.chunks.length >= mark, `${mark} items are out`, 60_000);
        await own.stop(signal);
        await own.start();
      }
      await done;
      expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(count));
      expect(executor.reconnects).to.equal(at.length);
    });
  }

  it('outputs every item once and in order when Redis with appendonly is shut down (SIGTERM) and restarted mid-run', async () => {
    await runAcrossRestarts(true, 'SIGTERM', 20_000, [5000]);
  });

  it('outputs every item once and in order when Redis with appendonly is killed (SIGKILL) and restarted, at three moments of one run', async () => {
    await runAcrossRestarts(true, 'SIGKILL', 20_000, [2000, 8000, 14_000]);
  });

  it('outputs every item once and in order when Redis without persistence is killed and restarted empty: the producer sends its batches again', async () => {
    await runAcrossRestarts(false, 'SIGKILL', 20_000, [2000, 8000, 14_000]);
  });

  it('outputs a batch a worker held through a restart without persistence once', async () => {
    await withOwnServer({ workers: 1 }, async ({ own, dir, transport }) => {
      const inputs: RemoteItem[] = range(100).map((n) => (n === 50 ? { n, mode: 'hold', dir } : { n }));
      const sink = new Collector();
      const done = pipeline(Readable.from(inputs), stage(SQUARE, { transport: transport() }), sink);
      await waitUntil(() => readHeld(dir), 'a worker holds item 50');
      await own.stop('SIGKILL');
      await own.start();
      writeFileSync(join(dir, 'release'), '');
      await done;
      expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(100));
    });
  });

  it('rides out a Redis that stops answering (SIGSTOP) and then answers again (SIGCONT)', async () => {
    await withOwnServer({ workers: 1 }, async ({ own, dir, transport }) => {
      const inputs: RemoteItem[] = range(40).map((n) => (n === 20 ? { n, mode: 'hold', dir } : { n }));
      const s = stage(SQUARE, { transport: transport() });
      const executor = s.plan.executor as unknown as { reconnects: number };
      const sink = new Collector();
      const done = pipeline(Readable.from(inputs), s, sink);
      await waitUntil(() => readHeld(dir), 'a worker holds item 20');
      own.signal('SIGSTOP');
      // The producer's reader hears nothing for its silence timeout, then tries to reconnect.
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      own.signal('SIGCONT');
      writeFileSync(join(dir, 'release'), '');
      await done;
      expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(40));
      expect(executor.reconnects).to.be.greaterThan(0);
    });
  });

  it('makes a worker whose Redis stops answering (SIGSTOP) time out its read and reconnect, then serve a run after SIGCONT', async () => {
    await withOwnServer({ workers: 1 }, async ({ own, started: [worker], transport }) => {
      const run = async (): Promise<Squared[]> => (await runThrough(stage(SQUARE, { transport: transport() }), range(10).map((n) => ({ n })))) as Squared[];
      // A first run: the worker is past its start-up commands and blocks in its read.
      await run();
      own.signal('SIGSTOP');
      // Without a silence timeout its blocking read waits for ever on a server that never answers.
      await waitUntil(() => /read failed: .*timeout/i.test(worker!.stderr), 'the worker times out its read', 20_000);
      own.signal('SIGCONT');
      const out = await run();
      expect(out.map((r) => r.pid)).to.deep.equal(range(10).map(() => worker!.pid));
      expect(worker!.child.exitCode).to.equal(null);
    });
  });

  it('makes a worker whose Redis stops answering (SIGSTOP) before its first read time out its commands and reconnect, then serve a run after SIGCONT', async () => {
    await withOwnServer({}, async ({ own, prefix, dir, transport }) => {
      const gate = join(dir, 'gate');
      const worker = new WorkerProcess({ url: own.url, prefix, stages: [`${fixturePath('gated-load.js')}#square`], env: { ATP_GATE: gate } });
      workers.push(worker);
      // Connected, loading its stage: its reader not yet made, nothing read.
      await waitUntil(() => existsSync(`${gate}.loading`), 'the worker loads its stage');
      own.signal('SIGSTOP');
      writeFileSync(gate, '');
      // Without a time limit its first commands wait for ever on a server that never answers.
      await waitUntil(() => /timeout/i.test(worker.stderr), 'the worker times out a command', 20_000);
      own.signal('SIGCONT');
      await worker.ready();
      expect(worker.child.exitCode, worker.stderr).to.equal(null);
      const out = (await runThrough(stage(SQUARE, { transport: transport() }), range(10).map((n) => ({ n })))) as Squared[];
      expect(out.map((r) => r.pid)).to.deep.equal(range(10).map(() => worker.pid));
      expect(worker.child.exitCode).to.equal(null);
    });
  });

  it('fails with TRANSPORT_FAILED naming options.reconnectDeadlineMs when Redis stays down past the deadline', async () => {
    await withOwnServer({ workers: 1 }, async ({ own, dir, transport }) => {
      const inputs: RemoteItem[] = range(20).map((n) => (n === 10 ? { n, mode: 'hold', dir } : { n }));
      const failed = rejectionOf(runThrough(stage(SQUARE, { transport: transport({ reconnectDeadlineMs: 1000 }) }), inputs));
      await waitUntil(() => readHeld(dir), 'a worker holds item 10');
      await own.stop('SIGKILL');
      const error = (await failed) as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code).to.equal('TRANSPORT_FAILED');
      expect(error.message).to.include('options.reconnectDeadlineMs (1000 ms)');
      writeFileSync(join(dir, 'release'), '');
    });
  });

  it('fails with TRANSPORT_FAILED naming maxmemory and noeviction when Redis is out of memory as the run starts', async () => {
    await withOwnServer({}, async ({ own, transport }) => {
      own.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      own.cli('CONFIG', 'SET', 'maxmemory', '1');
      expectOutOfMemory(await rejectionOf(runThrough(stage(SQUARE, { transport: transport() }), [{ n: 1 }])));
    });
  });

  it('fails with TRANSPORT_FAILED naming maxmemory and noeviction, not a hang, when Redis runs out of memory mid-run', async () => {
    await withOwnServer({ workers: 1 }, async ({ own, dir, transport }) => {
      const inputs: RemoteItem[] = range(2000).map((n) => (n === 10 ? { n, mode: 'hold', dir } : { n }));
      const failed = rejectionOf(runThrough(stage(SQUARE, { transport: transport() }), inputs));
      await waitUntil(() => readHeld(dir), 'a worker holds item 10');
      own.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      own.cli('CONFIG', 'SET', 'maxmemory', '1');
      writeFileSync(join(dir, 'release'), '');
      expectOutOfMemory(await failed);
    });
  });
});

/** The out-of-memory failure: TRANSPORT_FAILED, the fix in the message, Redis's OOM refusal as the cause. */
function expectOutOfMemory(error: unknown): void {
  expect(error).to.be.instanceOf(StageError);
  expect((error as StageError).code).to.equal('TRANSPORT_FAILED');
  expect((error as StageError).message).to.match(/out of memory.*maxmemory-policy noeviction/);
  expect(((error as StageError).cause as Error).message).to.match(/^OOM/);
}

/** Whether a worker holds the directory's 'hold' item. */
function readHeld(dir: string): boolean {
  return readdirSync(dir).some((f) => f.startsWith('held-'));
}
