// The Redis transport behind Redis Sentinel: a primary, a replica and three
// sentinels of this spec's own, the primary killed mid-run. The producer and
// the workers ask the sentinels for the primary on every reconnect, so they
// follow the failover; the producer's re-send covers writes the old primary
// acknowledged but had not yet replicated.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, makeTempDir, range, waitUntil } from './helpers.js';
import { RedisSentinel, RedisServer, WorkerProcess, requireRedisServer, requireRedisSentinel, uniquePrefix } from './redis-helpers.js';
import type { RemoteItem } from './fixtures/remote.js';

type Squared = { n: number; square: number; pid: number };
const SQUARE = { module: fixture('remote.js'), export: 'square' };

/** Polls a condition that spawns redis-cli, a few times a second, up to `timeoutMs`. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(200);
  }
}

describe('a Redis transport behind Redis Sentinel', function () {
  this.timeout(120_000);
  const temp = makeTempDir('atp-redis-sentinel');
  // --dir: a replica writes the RDB it receives to disk, even with --save "".
  const primary = new RedisServer(['--dir', temp.dir]);
  let replica: RedisServer;
  const sentinels: RedisSentinel[] = [];
  const workers: WorkerProcess[] = [];

  before(async function () {
    requireRedisServer(this);
    requireRedisSentinel(this);
    await primary.start();
    replica = new RedisServer(['--replicaof', '127.0.0.1', String(primary.port), '--dir', temp.dir]);
    await replica.start();
    await eventually(() => replica.cli('INFO', 'replication').includes('master_link_status:up'), 'the replica is in sync');
    for (let i = 0; i < 3; i++) sentinels.push(new RedisSentinel(temp.dir, primary.port));
    await Promise.all(sentinels.map((s) => s.start()));
    // A failover needs the sentinels to know each other (hello messages
    // through the primary) and the replica (from the primary's INFO).
    await eventually(() => sentinels.every((s) => {
      const info = s.cli('SENTINEL', 'MASTER', 'mymaster');
      return /num-other-sentinels\n2\n/.test(info) && /num-slaves\n1\n/.test(info);
    }), 'every sentinel knows the two others and the replica');
  });

  after(async () => {
    for (const worker of workers) worker.kill();
    await Promise.all(workers.map((w) => w.exited));
    await Promise.all(sentinels.map((s) => s.stop()));
    await primary.stop();
    await replica?.stop();
    temp.remove();
  });

  /** The server the sentinels name as the primary now. */
  function current(): RedisServer {
    return sentinels[0]!.primaryPort() === primary.port ? primary : replica;
  }

  /**
   * Runs 20,000 items through two workers that follow Sentinel and calls
   * `failover` once 5,000 are out: every item must come out once, in order,
   * from a primary other than the one the run began on.
   */
  async function runAcrossFailover(failover: (old: RedisServer) => Promise<void>): Promise<void> {
    const count = 20_000;
    const prefix = uniquePrefix();
    const old = current();
    const sentinel = { name: 'mymaster', sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })) };
    const list = sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
    const started = [0, 1].map(() => new WorkerProcess({
      url: 'redis://127.0.0.1', prefix, concurrency: 2, extra: ['--sentinel', list, '--sentinel-name', 'mymaster'],
    }));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready()));
    const s = stage(SQUARE, { transport: redisTransport({ sentinel, prefix }), highWaterMark: 256 });
    const executor = s.plan.executor as unknown as { reconnects: number };
    const sink = new Collector();
    // The source holds items from 6,000 on until the sentinels name the new
    // primary and the old one no longer takes writes (dead, or demoted: until
    // Sentinel converts it, seconds later, it still answers as a primary and
    // the clients stay on it), so that the run cannot end before the failover.
    let release!: () => void;
    const failedOver = new Promise<void>((resolve) => { release = resolve; });
    async function* items(): AsyncGenerator<RemoteItem> {
      for (let n = 0; n < count; n++) {
        if (n === 6000) await failedOver;
        yield { n };
      }
    }
    const done = pipeline(Readable.from(items()), s, sink);
    await waitUntil(() => sink.chunks.length >= 5000, '5,000 items are out', 60_000);
    const failedAt = Date.now();
    const outThen = sink.chunks.length;
    await failover(old);
    await eventually(() => current() !== old && !old.cli('ROLE').startsWith('master'), 'the sentinels name the new primary and the old one is not');
    release();
    const resumed = waitUntil(() => sink.chunks.length > outThen + 256, 'output resumes after the failover', 60_000)
      .then(() => Date.now() - failedAt);
    await done;
    const pauseMs = await resumed;
    console.log(`      (failover: output resumed ${pauseMs} ms after it began; ${executor.reconnects} reconnect(s))`);
    expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(count));
    expect(current()).to.not.equal(old);
    expect(executor.reconnects).to.be.at.least(1);
    expect(started.every((w) => w.child.exitCode === null), 'both workers followed the failover').to.equal(true);
    for (const worker of started) worker.kill();
  }

  it('outputs every item once and in order when the primary is killed mid-run and Sentinel promotes the replica', async () => {
    await runAcrossFailover((old) => old.stop('SIGKILL'));
  });

  it('follows a SENTINEL FAILOVER that demotes the primary mid-run at its +switch-master, before the old primary drops its clients, and outputs every item once and in order', async () => {
    // The killed primary comes back; the sentinels make it a replica of the new one.
    await primary.start();
    await eventually(() => primary.cli('INFO', 'replication').includes('master_link_status:up'), 'the old primary is a replica in sync');
    await eventually(() => /num-slaves\n1\n/.test(sentinels[0]!.cli('SENTINEL', 'MASTER', 'mymaster')), 'the sentinels know it as the replica');
    await runAcrossFailover(async (old) => {
      const next = old === primary ? replica : primary;
      expect(sentinels[0]!.cli('SENTINEL', 'FAILOVER', 'mymaster').trim()).to.equal('OK');
      // The producer's reader (the one client whose last command is XREAD)
      // on the new primary while the old one still answers as a primary:
      // it moved on +switch-master, not when the old primary, converted by
      // Sentinel seconds later, dropped its clients.
      await eventually(() => /cmd=xread /.test(next.cli('CLIENT', 'LIST')), "the producer's reader is on the new primary");
      expect(old.cli('ROLE').split('\n')[0]).to.equal('master');
    });
  });
});

describe('the sentinel option of redisTransport', () => {
  it('is checked on entry: a TypeError names the part that is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['mymaster', /options\.sentinel must be an object/],
      [{ sentinels: [{ host: 'h', port: 1 }] }, /options\.sentinel\.name must be a non-empty string/],
      [{ name: 'm', sentinels: [] }, /options\.sentinel\.sentinels must be a non-empty array/],
      [{ name: 'm', sentinels: [{ host: 'h', port: 0 }] }, /options\.sentinel\.sentinels\[0\]\.port must be an integer >= 1/],
      [{ name: 'm', sentinels: [{ host: 'h', port: 1, password: 'x' }] }, /options\.sentinel\.sentinels\[0\]/],
    ];
    for (const [sentinel, message] of cases) {
      expect(() => redisTransport({ sentinel: sentinel as never }), JSON.stringify(sentinel)).to.throw(TypeError, message);
    }
  });
});
