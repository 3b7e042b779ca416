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

  it('outputs every item once and in order when the primary is killed mid-run and Sentinel promotes the replica', async () => {
    const count = 20_000;
    const prefix = uniquePrefix();
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
    const done = pipeline(Readable.from(range(count).map((n): RemoteItem => ({ n }))), s, sink);
    await waitUntil(() => sink.chunks.length >= 5000, '5,000 items are out', 60_000);
    const killedAt = Date.now();
    const outAtKill = sink.chunks.length;
    await primary.stop('SIGKILL');
    const resumed = waitUntil(() => sink.chunks.length > outAtKill + 256, 'output resumes after the failover', 60_000)
      .then(() => Date.now() - killedAt);
    await done;
    const pauseMs = await resumed;
    console.log(`      (failover: output resumed ${pauseMs} ms after the primary was killed; ${executor.reconnects} reconnect(s))`);
    expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(count));
    expect(sentinels[0]!.primaryPort()).to.equal(replica.port);
    expect(executor.reconnects).to.be.at.least(1);
    expect(started.every((w) => w.child.exitCode === null), 'both workers followed the failover').to.equal(true);
  });
});
