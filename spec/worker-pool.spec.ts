// The shared pool (issue 16): one set of threads for every stage and
// pipeline, the default pool, programs loaded once per thread, load failures
// and deaths that stay with their stage, fairness between pipelines, close(),
// and programs that exit by themselves.

import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { StageError, createPipeline, createWorkerPool, defaultWorkerPool, stage } from 'async-task-pipeline';
import type { WorkerPool } from 'async-task-pipeline';
import { ThreadPool } from '../lib/run/thread-pool.js';
import type { PoolClient } from '../lib/run/thread-pool.js';
import type { PoolThread } from '../lib/run/pool-thread.js';
import type { Program } from '../lib/run/program.js';
import { Collector, Gate, fixture, range, rejectionOf, removeScripts, runNode, runThrough, waitUntil, writeScript } from './helpers.js';
import type { CrashItem } from './fixtures/crashes.js';
import type { Ran } from './fixtures/pool-work.js';

const WORK = fixture('pool-work.js');
const INDEX = new URL('../lib/index.js', import.meta.url).href;

function workStage(name: string, pool: WorkerPool | undefined, ms?: number) {
  return stage<number, Ran>({ module: WORK, export: 'work' }, { name, ...(pool === undefined ? {} : { pool }), context: ms === undefined ? undefined : { ms } });
}

/** Counts the batches sent with a program to load (the first of a program on a thread). */
/** Runs one item through a fresh pipeline of two stages, as a server does per request. */
async function perRequest(pool: WorkerPool | undefined, x: number): Promise<unknown[]> {
  const p = createPipeline([workStage('parse', pool), stage<Ran, number>({ module: WORK, export: 'where' }, { name: 'score', ...(pool === undefined ? {} : { pool }) })], { fuse: false });
  return runThrough(p, [x]);
}

describe('worker pool', function () {
  this.timeout(30_000);

  describe('createWorkerPool()', () => {
    it('refuses bad options, naming them', () => {
      expect(() => createWorkerPool({ threads: 0 })).to.throw(TypeError, /options\.threads/);
      expect(() => createWorkerPool({ threads: 1.5 })).to.throw(TypeError, /options\.threads/);
      expect(() => createWorkerPool({ idleTimeout: -1 })).to.throw(TypeError, /options\.idleTimeout/);
      expect(() => createWorkerPool({ resourceLimits: { maxOldGenerationSizeMb: 1 } })).to.throw(TypeError, /maxOldGenerationSizeMb/);
      expect(() => createWorkerPool({ thread: 2 } as never)).to.throw(TypeError, /thread/);
    });

    it('refuses a pool that is not one, and a pool with resourceLimits or thread: false', () => {
      expect(() => stage((x: number) => x, { pool: {} as WorkerPool })).to.throw(TypeError, /options\.pool must be a pool made by createWorkerPool/);
      const pool = createWorkerPool({ threads: 1 });
      expect(() => stage((x: number) => x, { pool, resourceLimits: { maxOldGenerationSizeMb: 64 } })).to.throw(TypeError, /options\.pool and options\.resourceLimits/);
      expect(() => stage((x: number) => x, { pool, thread: false })).to.throw(TypeError, /options\.pool needs thread: true/);
    });

    it('runs the stages of many pipelines on its threads and no others', async () => {
      const pool = createWorkerPool({ threads: 2 });
      const runs = await Promise.all(range(6).map(async (k) => {
        const b = stage((r: Ran) => r, { name: 'b', pool });
        const out = await runThrough(createPipeline([workStage('a', pool), b], { fuse: false }), range(50).map((i) => i + k * 100)) as Ran[];
        expect(out.map((r) => r.x)).to.deep.equal(range(50).map((i) => i + k * 100));
        return out.map((r) => r.threadId);
      }));
      const threads = new Set(runs.flat());
      expect(threads.size, 'threads that ran items').to.be.within(1, 2);
      expect(pool.stats.threads).to.be.at.most(2);
      expect(pool.stats.busySeconds.b, 'busy time of stage b').to.be.above(0);
      await pool.close();
      expect(pool.stats.threads).to.equal(0);
    });

    it('keeps a stage within its concurrency', async () => {
      const pool = createWorkerPool({ threads: 2 });
      const s = stage<number, Ran>({ module: WORK, export: 'work' }, { pool, concurrency: 1, context: { ms: 0.2 } });
      const out = await runThrough(s, range(400)) as Ran[];
      // One thread at a time: the stage may move to another only when it has nothing in flight.
      let switches = 0;
      for (let i = 1; i < out.length; i++) if (out[i]!.threadId !== out[i - 1]!.threadId) switches++;
      expect(switches).to.be.below(20);
      await pool.close();
    });
    it('loads a started stage\'s function on every thread it may use, ahead of its items', async () => {
      const pool = createWorkerPool({ threads: 3 });
      try {
        const two = stage<number, Ran>({ module: WORK, export: 'where' }, { pool, concurrency: 2 });
        await two.start();
        // One load in start(); the second thread starts and loads in the background.
        await waitUntil(() => pool.stats.programLoads === 2 && pool.stats.threads === 2, 'the second thread to load');
        const out = await runThrough(two, range(64)) as Ran[];
        expect(pool.stats.programLoads, 'no load with the items').to.equal(2);
        expect(out.map((r) => r.x)).to.deep.equal(range(64));
        expect(pool.stats.threads, 'concurrency 2 of 3 threads').to.equal(2);
      } finally {
        await pool.close();
      }
    });
    it('runs the first item of a stage not started ahead before any other thread starts, and warms them once it is answered', async () => {
      const pool = createWorkerPool({ threads: 2 });
      const gate = new Gate();
      try {
        const s = stage({ module: fixture('gate.js'), export: 'gated' }, { pool, concurrency: 2, context: { gate: gate.buffer } });
        const out = runThrough(s, [1]);
        await gate.whenEntered(1);
        expect(pool.stats.threads, 'only the first item\'s thread while it runs').to.equal(1);
        gate.open();
        expect(await out).to.deep.equal([1]);
        await waitUntil(() => pool.stats.threads === 2 && pool.stats.programLoads === 2, 'the second thread to warm up');
      } finally {
        await pool.close();
      }
    });
  });

  describe('the default pool', () => {
    it('runs every stage that names no pool, with at most availableParallelism() threads', async () => {
      for (const x of range(30)) expect(await perRequest(undefined, x)).to.have.length(1);
      const stats = defaultWorkerPool().stats;
      expect(stats.threads).to.be.within(1, availableParallelism());
      expect(stats.busySeconds.parse, 'the stages ran there').to.be.above(0);
    });

    it('lets a program exit by itself, idle threads and all', async () => {
      const result = await runNode(writeScript('pool-exits', `
import { createPipeline, createWorkerPool, stage } from ${JSON.stringify(INDEX)};
import { Readable } from 'node:stream';
const mine = createWorkerPool({ threads: 2, idleTimeout: 60000 });
const out = [];
for (const pool of [undefined, mine]) {
  const p = createPipeline([stage((x) => x + 1, { name: 'inc', pool }), stage((x) => x * 2, { name: 'dbl', pool })]);
  p.on('data', (x) => out.push(x));
  Readable.from([1, 2, 3]).pipe(p);
  await new Promise((resolve) => p.on('end', resolve));
}
console.log(out.join(','));
`), 15_000);
      removeScripts();
      expect(result.timedOut, result.stderr).to.equal(false);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.equal('4,6,8,4,6,8');
    });
  });

  describe('programs, once per thread', () => {
    it('loads a module once per thread for 300 pipelines built per request', async () => {
      const pool = createWorkerPool({ threads: 2 });
      try {
        for (const x of range(300)) expect(await perRequest(pool, x)).to.have.length(1);
        // Two programs (parse, score), each at most once on each of two threads.
        expect(pool.stats.programLoads).to.be.within(2, 4);
      } finally {
        await pool.close();
      }
    });

    it('compiles a function stage once per thread, and sends an equal context once', async () => {
      const pool = createWorkerPool({ threads: 2 });
      try {
        for (const x of range(100)) {
          const out = await runThrough(stage((v: number, c: { add: number }) => v + c.add, { pool, context: { add: 5 } }), [x]);
          expect(out).to.deep.equal([x + 5]);
        }
        // A different context is a different program.
        expect(await runThrough(stage((v: number, c: { add: number }) => v + c.add, { pool, context: { add: 7 } }), [1])).to.deep.equal([8]);
        expect(pool.stats.programLoads).to.be.within(2, 4);
      } finally {
        await pool.close();
      }
    });

    it('fails only the stage whose module cannot load, with the real cause, before any of its items is lost', async () => {
      const pool = createWorkerPool({ threads: 1 });
      const good = runThrough(workStage('good', pool, 0.1), range(3000));
      await waitUntil(() => pool.stats.busyThreads > 0, 'the good stage runs');
      const bad = stage({ module: fixture('pool-load-fails.js'), export: 'never' }, { pool });
      const error = await rejectionOf(bad.start()) as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code).to.equal('LOAD_FAILED');
      expect(String((error.cause as Error).message)).to.include('refuses to load');
      bad.destroy();
      // Sent items come back too: a late load failure destroys the stage with it.
      const late = stage({ module: fixture('pool-load-fails.js'), export: 'never' }, { pool, name: 'late' });
      expect(((await rejectionOf(runThrough(late, [1, 2]))) as StageError).code).to.equal('LOAD_FAILED');
      expect((await good).map((r) => (r as Ran).x)).to.deep.equal(range(3000));
      await pool.close();
    });
  });

  describe('faults stay with their stage', () => {
    it('a death on a shared thread fails only the culprit; the other pipeline loses nothing', async () => {
      const pool = createWorkerPool({ threads: 1 });
      const other = runThrough(workStage('other', pool, 0.05), range(4000));
      await waitUntil(() => pool.stats.busyThreads > 0, 'the other pipeline runs');
      const dying = stage<number, number>({ module: WORK, export: 'exitOnThree' }, { pool, onError: 'emit', retries: 1 });
      const out = await runThrough(dying, range(8));
      expect(out.filter((x) => typeof x === 'number')).to.deep.equal([0, 1, 2, 4, 5, 6, 7]);
      const failed = out.find((x) => x instanceof StageError) as StageError;
      expect(failed.code).to.equal('WORKER_DIED');
      expect(failed.seq).to.equal(3);
      const survived = await other;
      expect(survived.map((r) => (r as Ran).x)).to.deep.equal(range(4000));
      await pool.close();
    });

    it('an out-of-memory of one stage\'s item on a limited shared thread fails only that item', async () => {
      const pool = createWorkerPool({ threads: 1, resourceLimits: { maxOldGenerationSizeMb: 48 } });
      const other = runThrough(workStage('other', pool, 0.05), range(3000));
      await waitUntil(() => pool.stats.busyThreads > 0, 'the other pipeline runs');
      const hungry = stage<CrashItem, number>({ module: fixture('crashes.js'), export: 'crash' }, { pool, onError: 'emit', retries: 0 });
      const items: CrashItem[] = range(5).map((id) => ({ id, crash: id === 2 ? 'oom' : 'ok' }));
      const out = await runThrough(hungry, items);
      expect(out.filter((x) => typeof x === 'number')).to.deep.equal([0, 1, 3, 4]);
      expect((out[2] as StageError).code).to.equal('WORKER_DIED');
      expect((await other).map((r) => (r as Ran).x)).to.deep.equal(range(3000));
      await pool.close();
    });

    it('a timeout on a shared thread fails only its item', async () => {
      const pool = createWorkerPool({ threads: 2 });
      const other = runThrough(workStage('other', pool, 0.05), range(4000));
      const hanging = stage<number, number>({ module: WORK, export: 'hangOnThree' }, { pool, timeout: 300, onError: 'emit' });
      const out = await runThrough(hanging, range(6));
      expect(out.filter((x) => typeof x === 'number')).to.deep.equal([0, 1, 2, 4, 5]);
      expect((out[3] as StageError).code).to.equal('TIMEOUT');
      expect((await other).map((r) => (r as Ran).x)).to.deep.equal(range(4000));
      await pool.close();
    });
  });

  describe('fairness', () => {
    it('answers a 1-item pipeline that arrives during a long one before the long one is half done', async () => {
      const pool = createWorkerPool({ threads: 1 });
      let bigDone = 0;
      const sink = new Collector();
      sink.on('data', () => undefined);
      // A deep queue: the long stage always has a batch ready when one of its own ends.
      const bigStage = stage<number, Ran>({ module: WORK, export: 'work' }, { name: 'big', pool, context: { ms: 0.5 }, highWaterMark: 5000 });
      const big = pipeline(Readable.from(range(4000)), bigStage, async function* (source) {
        for await (const item of source) {
          bigDone++;
          yield item;
        }
      }, sink);
      await waitUntil(() => bigDone > 100, 'the long pipeline is under way');
      const before = bigDone;
      const out = await runThrough(workStage('small', pool), [1]);
      const meanwhile = bigDone - before;
      expect(out).to.have.length(1);
      await big;
      if (process.env.ATP_SHOW_FAIRNESS !== undefined) console.log(`      long pipeline items out meanwhile: ${meanwhile}`);
      // Batches of ~4 ms (8 items of 0.5 ms), two in flight on the one
      // thread: the short one waits for those, give or take a batch that
      // was ready. Without the rule it waits while the long one keeps taking the slot.
      expect(meanwhile, 'items of the long pipeline out while the short one waited').to.be.below(100);
    });
  });

  describe('the scheduling rule', () => {
    // The rule on the pool itself, with stages reduced to what it sees of
    // them: a slot freed goes to the stage that waited, before the stage
    // whose batch ended may send again.
    function client(name: string, woken: string[]): PoolClient {
      return { name, concurrency: Infinity, using: new Map(), wake: () => woken.push(name) };
    }

    it('gives a freed slot to the stage that waited, one batch, before the one whose batch ended', async () => {
      const pool = new ThreadPool({ threads: 1, idleTimeoutMs: 10_000, resourceLimits: undefined });
      const woken: string[] = [];
      const long = client('long', woken);
      const short = client('short', woken);
      const first = pool.take(long, false);
      pool.take(long, false);
      expect(pool.hasRoom(long, false), 'two batches fill a thread').to.equal(false);
      expect(pool.hasRoom(short, false)).to.equal(false);
      expect(pool.stats.waitingStages).to.equal(2);
      // The long stage's batch ends: the first to have asked (long itself)
      // is woken and takes the slot; with no room left, short is not woken in vain.
      let taken: string[] = [];
      long.wake = () => { woken.push('long'); if (!pool.closed && pool.hasRoom(long, false)) { pool.take(long, false); taken.push('long'); } };
      short.wake = () => { woken.push('short'); if (!pool.closed && pool.hasRoom(short, false)) { pool.take(short, false); taken.push('short'); } };
      pool.give(first, long, false);
      expect(taken).to.deep.equal(['long']);
      expect(woken).to.deep.equal(['long']);
      // Short waits first now: the next freed slot is its, whoever freed it.
      const [busy] = [...long.using.keys()];
      taken = [];
      pool.give(busy!, long, false);
      expect(taken).to.deep.equal(['short']);
      expect(pool.hasRoom(long, false), 'long waits behind short').to.equal(false);
      await pool.close();
    });
  });

  describe('where a batch goes', () => {
    // A pool thread that has loaded program 7, with one batch taken on it.
    async function oneBusyLoadedThread(client: PoolClient): Promise<{ pool: ThreadPool; busy: PoolThread }> {
      const pool = new ThreadPool({ threads: 2, idleTimeoutMs: 10_000, resourceLimits: undefined });
      const busy = pool.take(client, false);
      await busy.ready;
      // As a real load leaves it: sent, then loaded.
      busy.sent.add(7);
      busy.loaded.add(7);
      return { pool, busy };
    }

    it('a batch of work known short waits behind one on the thread that has the program rather than for a thread to start', async () => {
      const client: PoolClient = { name: 'short', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => 7 };
      const { pool, busy } = await oneBusyLoadedThread(client);
      expect(pool.take(client, false)).to.equal(busy);
      expect(pool.stats.threads, 'no thread started for it').to.equal(1);
      await pool.close();
    });

    it('work known short waits for its full loaded thread rather than go to a thread that must load the program, and has one warm up', async () => {
      let warmUps = 0;
      const client: PoolClient = { name: 'short', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => 7, warmUp: () => { warmUps++; } };
      const { pool, busy } = await oneBusyLoadedThread(client);
      expect(pool.take(client, false), 'a second batch behind the first').to.equal(busy);
      expect(pool.hasRoom(client, false), 'past two batches on it, it waits').to.equal(false);
      expect(pool.stats.threads, 'no thread started for items').to.equal(1);
      expect(warmUps, 'asked to warm a thread up').to.be.above(0);
      // A thread warming up beside it (without the program yet) is no place for the batch either.
      const [loading] = pool.threadsToWarm({ id: 7 } as Program, 2);
      expect(loading, 'a second thread to warm').to.not.equal(undefined);
      expect(loading, 'a second thread to warm').to.not.equal(busy);
      expect(pool.hasRoom(client, false), 'not on the loading thread').to.equal(false);
      // Once it has the program, it takes the batch.
      loading!.loaded.add(7);
      expect(pool.hasRoom(client, false)).to.equal(true);
      expect(pool.take(client, false)).to.equal(loading);
      await pool.close();
    });

    it('a batch of work not known short spreads to a new thread rather than wait behind another', async () => {
      const client: PoolClient = { name: 'unknown', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => undefined };
      const { pool, busy } = await oneBusyLoadedThread(client);
      expect(pool.take(client, false)).to.not.equal(busy);
      expect(pool.stats.threads).to.equal(2);
      await pool.close();
    });

    it('a batch of work known short goes to a loaded thread with room before a thread still loading the program', async () => {
      const client: PoolClient = { name: 'short', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => 7 };
      const { pool, busy } = await oneBusyLoadedThread(client);
      // A second thread started (as a stage's warm-up does) but without the program.
      const [loading] = pool.threadsToWarm({ id: 7 } as Program, 2);
      expect(loading, 'a second thread to warm').to.not.equal(undefined);
      expect(loading, 'a second thread to warm').to.not.equal(busy);
      expect(pool.take(client, false)).to.equal(busy);
      await pool.close();
    });
    it('packs the batches of items cheaper than their crossing on a thread that has one, and spreads the others', async () => {
      const packing: PoolClient = { name: 'tiny', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => 7, packs: () => true };
      const spreading: PoolClient = { name: 'short', concurrency: 2, using: new Map(), wake: () => undefined, loadedFirst: () => 7, packs: () => false };
      const pool = new ThreadPool({ threads: 2, idleTimeoutMs: 10_000, resourceLimits: undefined });
      const threads = pool.threadsToWarm({ id: 7 } as Program, 2);
      expect(threads).to.have.length(2);
      for (const thread of threads) {
        await thread.ready;
        thread.sent.add(7);
        thread.loaded.add(7);
      }
      const a = pool.take(spreading, false);
      const b = pool.take(spreading, false);
      expect(b, 'the least busy thread').to.not.equal(a);
      pool.give(a, spreading, false);
      pool.give(b, spreading, false);
      const first = pool.take(packing, false);
      expect(pool.take(packing, false), 'behind its own batch, not on the idle thread').to.equal(first);
      expect(pool.take(packing, false), 'the thread is full: the other one').to.not.equal(first);
      await pool.close();
    });
  });

  describe('idle threads', () => {
    it('end after idleTimeout, and the next batch starts a thread that loads the program again', async () => {
      const pool = createWorkerPool({ threads: 2, idleTimeout: 50 });
      expect(await runThrough(workStage('first', pool), [1])).to.have.length(1);
      await waitUntil(() => pool.stats.threads === 0, 'the idle threads end');
      const out = await runThrough(workStage('again', pool), [2, 3]) as Ran[];
      expect(out.map((r) => r.x)).to.deep.equal([2, 3]);
      await pool.close();
    });
  });

  describe('close()', () => {
    it('fails a stage still using it with POOL_CLOSED, and refuses new stages', async () => {
      const pool = createWorkerPool({ threads: 1 });
      const running = runThrough(workStage('slow', pool, 1), range(5000));
      await waitUntil(() => pool.stats.busyThreads > 0, 'the stage runs');
      await pool.close();
      const error = await rejectionOf(running) as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code, error.message).to.equal('POOL_CLOSED');
      expect(pool.closed).to.equal(true);
      expect(pool.stats.threads).to.equal(0);
      expect(() => workStage('later', pool)).to.throw(StageError, /worker pool was closed/);
    });

    it('closing the default pool gives the next stage a fresh one', async () => {
      const first = defaultWorkerPool();
      await first.close();
      expect(await runThrough(stage((x: number) => x + 1), [1])).to.deep.equal([2]);
      expect(defaultWorkerPool()).to.not.equal(first);
      expect(defaultWorkerPool().closed).to.equal(false);
    });
  });
});
