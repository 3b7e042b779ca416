// Several producer runs on one stage's workers: each gets exactly its own
// items back, in order, through a worker's kill -9; and the batches of a run
// that has gone (its reply stream deleted or expired) are dropped unrun.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, range, waitUntil } from './helpers.js';
import { WorkerProcess, redisSuite, uniquePrefix } from './redis-helpers.js';
import type { RemoteItem } from './fixtures/remote.js';

type Squared = { n: number; square: number; pid: number };
const SQUARE = { module: fixture('remote.js'), export: 'square' };
const RECLAIM_AFTER_MS = 300;

describe('a Redis transport shared by several producers', function () {
  this.timeout(60_000);
  const { server, workers, temp } = redisSuite('atp-redis-producers');

  async function startWorkers(prefix: string, count: number): Promise<WorkerProcess[]> {
    const started = range(count).map(() => new WorkerProcess({ url: server.url, prefix, reclaimAfterMs: RECLAIM_AFTER_MS }));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  it('gives two producers on one stage each exactly its own items in order when one of two workers is killed with kill -9', async () => {
    const prefix = uniquePrefix();
    const [first] = await startWorkers(prefix, 2);
    const count = 5000;
    const run = (offset: number): { sink: Collector; done: Promise<void> } => {
      const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), highWaterMark: 256 });
      const sink = new Collector();
      return { sink, done: pipeline(Readable.from(range(count).map((n): RemoteItem => ({ n: offset + n }))), s, sink) };
    };
    const a = run(0);
    const b = run(100_000);
    await waitUntil(() => a.sink.chunks.length >= count / 4 && b.sink.chunks.length >= count / 4, 'both runs are under way', 30_000);
    first!.kill('SIGKILL');
    await Promise.all([a.done, b.done]);
    expect((a.sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(count));
    expect((b.sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(count).map((n) => 100_000 + n));
  });

  it('drops unrun the waiting batches of a run whose reply stream has gone', async () => {
    const prefix = uniquePrefix();
    const dir = join(temp.dir, 'gone');
    mkdirSync(dir);
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }) });
    const sink = new Collector();
    const done = pipeline(Readable.from(range(20).map((n): RemoteItem => ({ n, dir }))), s, sink).catch(() => undefined);
    const requests = `${prefix}:square:requests`;
    await waitUntil(() => Number(server.cli('XLEN', requests)) > 0, 'batches wait for a worker');
    // As if the producer had died and its reply stream expired.
    for (const key of server.cli('KEYS', `${prefix}:square:replies:*`).trim().split('\n')) server.cli('DEL', key);
    await startWorkers(prefix, 1);
    await waitUntil(() => Number(server.cli('XLEN', requests)) === 0, 'the worker has taken the batches');
    expect(existsSync(join(dir, 'calls')), 'a batch of the gone run ran').to.equal(false);
    s.destroy();
    await done;
  });
});
