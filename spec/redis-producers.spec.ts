// Several producer runs on one stage's workers: each gets exactly its own
// items back, in order, through a worker's kill -9; a poison item's deaths
// count against its own run only; and the batches of a run that has gone
// (its reply stream deleted or expired) are dropped unrun.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { serialize } from 'node:v8';
import { expect } from 'chai';
import { createClient } from 'redis';
import { StageError, stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, range, waitUntil } from './helpers.js';
import { Supervisor, WorkerProcess, redisSuite, uniquePrefix } from './redis-helpers.js';
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

  it("counts a poison item's deaths against its own run only: the other producer's items all come out, in order", async () => {
    const prefix = uniquePrefix();
    // Two threads a worker: the pool keeps a suspect alone on its thread only, so another run's batch could share the process.
    const supervisor = new Supervisor({ url: server.url, prefix, reclaimAfterMs: RECLAIM_AFTER_MS, concurrency: 2 }, 2);
    try {
      await supervisor.ready();
      const count = 2000;
      const poison = 1000;
      const retries = 3;
      const a = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), retries, onError: 'emit' });
      // No retries: a single death of A's poison counted against one of B's items fails B.
      const b = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), retries: 0 });
      let aDone = false;
      let bSent = 0;
      // B keeps sending until A is done, so that it has batches out at each of the poison's deaths.
      const bInputs = (function* (): Generator<RemoteItem> {
        for (; !aDone || bSent < count; bSent++) yield { n: bSent };
      })();
      const aSink = new Collector();
      const bSink = new Collector();
      const bDone = pipeline(Readable.from(bInputs), b, bSink);
      // Awaited after A's run; a failure of B's meanwhile is not unhandled.
      bDone.catch(() => undefined);
      const aInputs = range(count).map((n): RemoteItem => (n === poison ? { n, mode: 'poison' } : { n }));
      await pipeline(Readable.from(aInputs), a, aSink);
      aDone = true;
      await bDone;
      const aOut = aSink.chunks;
      const error = aOut[poison] as StageError;
      expect(error).to.be.instanceOf(StageError);
      expect(error.code).to.equal('WORKER_DIED');
      expect(error.seq).to.equal(poison);
      expect(aOut.filter((_, i) => i !== poison).map((r) => (r as Squared).n)).to.deep.equal(range(count).filter((n) => n !== poison));
      expect((bSink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(bSent));
      // Once in its first batch, then alone retries + 1 times: no death went uncounted or was counted twice.
      expect(supervisor.deaths).to.equal(retries + 2);
    } finally {
      await supervisor.stop();
    }
  });

  /**
   * A suspect batch (alone) of a made-up run, read by a consumer "gone" that
   * then died, as a process does that fetched it behind another batch which
   * killed the process. `begun`: that process had marked it begun. Returns
   * the replies the run then got, as "batch:kind".
   */
  async function suspectOfDeadProcess(begun: boolean): Promise<string[]> {
    const prefix = uniquePrefix();
    const requests = `${prefix}:square:requests`;
    const replies = `${prefix}:square:replies:by-hand`;
    const client = await createClient({ url: server.url, RESP: 2 }).connect();
    try {
      await client.sendCommand(['XGROUP', 'CREATE', requests, 'workers', '0', 'MKSTREAM']);
      await client.sendCommand(['XADD', replies, '*', 'open', '1']);
      const id = await client.sendCommand<string>(['XADD', requests, '*', 'r', replies, 'b', '0', 'a', '1', 'd', serialize([{ n: 3 }])]);
      await client.sendCommand(['XREADGROUP', 'GROUP', 'workers', 'gone', 'COUNT', '10', 'STREAMS', requests, '>']);
      if (begun) await client.sendCommand(['SADD', `${prefix}:square:suspects-started`, id]);
      await startWorkers(prefix, 1);
      await waitUntil(() => Number(server.cli('XLEN', replies)) >= 2, 'the batch is answered');
      const entries = await client.sendCommand<Array<[string, string[]]>>(['XRANGE', replies, '-', '+']);
      return entries.flatMap(([, flat]) => {
        const fields = new Map(range(flat.length / 2).map((i) => [flat[2 * i]!, flat[2 * i + 1]!]));
        return fields.has('k') ? [`${fields.get('b')}:${fields.get('k')}`] : [];
      });
    } finally {
      await client.close();
    }
  }

  it('puts back unrun, not answered as a death, a suspect whose process died before it began: the death was not its own', async () => {
    expect(await suspectOfDeadProcess(false)).to.deep.equal(['0:done']);
  });

  it('answers as a death a suspect whose process died after it began', async () => {
    expect(await suspectOfDeadProcess(true)).to.deep.equal(['0:died']);
  });

  it('serves two loaded producers in turn: while both have batches out, neither gets more answers in a row than its window', async () => {
    const prefix = uniquePrefix();
    // One worker of one thread: the order it answers in is the order it served in.
    await startWorkers(prefix, 1);
    const monitor = server.monitor();
    await monitor.started;
    const count = 5000;
    const runs = [0, 100_000].map((offset) => {
      const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), highWaterMark: 256 });
      const sink = new Collector();
      return { sink, done: pipeline(Readable.from(range(count).map((n): RemoteItem => ({ n: offset + n }))), s, sink) };
    });
    const first = await Promise.race(runs.map((run, i) => run.done.then(() => i)));
    const otherOut = runs[1 - first]!.sink.chunks.length;
    await Promise.all(runs.map((run) => run.done));
    const answers = answerOrder(await monitor.stop(), `${prefix}:square:requests`);
    // Both runs were answered while the other had batches out, many times.
    expect(answers.contended).to.be.greaterThan(20);
    // A run's batches out are at most its window (batch-pacing.ts: two per worker thread, at least 4);
    // the stream is served first in, first out, so a waiting batch has at most that many of the other run's ahead of it.
    expect(answers.longestStreak).to.be.at.most(4);
    // The share: what the other run had out when the first run's last item came out.
    expect(otherOut / count, `${otherOut} of ${count}`).to.be.greaterThan(0.5);
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

/**
 * From a MONITOR log: the answers (reply XADDs) in the order the worker
 * wrote them, and the longest run of one producer's answers in a row while
 * another producer had batches requested and not yet answered.
 */
function answerOrder(lines: string[], requests: string): { contended: number; longestStreak: number } {
  const outstanding = new Map<string, number>();
  let last: string | undefined;
  let streak = 0;
  let longestStreak = 0;
  let contended = 0;
  for (const line of lines) {
    const request = new RegExp(`"XADD" "${requests}" "\\*" "r" "([^"]+)"`).exec(line);
    if (request !== null) {
      outstanding.set(request[1]!, (outstanding.get(request[1]!) ?? 0) + 1);
      continue;
    }
    const answer = /"XADD" "([^"]+)" "NOMKSTREAM" "\*" "b" /.exec(line);
    if (answer === null || !outstanding.has(answer[1]!)) continue;
    const run = answer[1]!;
    const othersWaiting = [...outstanding].some(([other, out]) => other !== run && out > 0);
    if (!othersWaiting) {
      last = undefined;
      streak = 0;
    } else {
      contended++;
      streak = run === last ? streak + 1 : 1;
      last = run;
      longestStreak = Math.max(longestStreak, streak);
    }
    outstanding.set(run, outstanding.get(run)! - 1);
  }
  return { contended, longestStreak };
}
