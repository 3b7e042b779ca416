// A stage whose batches run on worker processes through Redis Streams: the
// same Stage as on threads (order, errors, timing, the queue bound), against
// a real redis-server and real `async-task-pipeline worker` processes.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { deserialize } from 'node:v8';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { createClient, RESP_TYPES } from 'redis';
import { DetailedTiming, PipelineItem, StageError, createPipeline, stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { Collector, fixture, fixturePath, range, rejectionOf, removeScripts, runNode, runThrough, waitUntil, writeScript } from './helpers.js';
import { RedisServer, TLS_DIR, WorkerProcess, redisSuite, requireRedisServer, uniquePrefix } from './redis-helpers.js';
import type { RemoteItem } from './fixtures/remote.js';

type Squared = { n: number; square: number; pid: number };
const SQUARE = { module: fixture('remote.js'), export: 'square' };

describe('a stage with a Redis transport', function () {
  this.timeout(30_000);
  const { server, workers, temp } = redisSuite('atp-redis');

  after(() => removeScripts());

  async function startWorkers(prefix: string, count: number, extra: Partial<ConstructorParameters<typeof WorkerProcess>[0]> = {}): Promise<WorkerProcess[]> {
    const started = range(count).map(() => new WorkerProcess({ url: server.url, prefix, ...extra }));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  it('runs items on two worker processes that both do work, and emits every result in input order', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 2);
    // The first items wait until both processes have one: each must have taken work.
    const meet: RemoteItem[] = range(4).map((n) => ({ n, mode: 'meet', parties: 2, dir: temp.dir }));
    const inputs = [...meet, ...range(996).map((n) => ({ n: n + 4 }))];
    const transport = redisTransport({ url: server.url, prefix });
    const out = (await runThrough(stage(SQUARE, { transport, highWaterMark: 256 }), inputs)) as Squared[];
    expect(out.map((r) => r.n)).to.deep.equal(range(1000));
    expect(out.every((r) => r.square === r.n * r.n)).to.equal(true);
    expect(new Set(out.map((r) => r.pid))).to.have.lengthOf(2);
  });

  it('carries values as structured clones: Map, Date, BigInt, Buffer and typed arrays', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1, { stages: [`${fixture('remote.js').href}#echo`] });
    const value = { map: new Map([['a', 1]]), date: new Date(5), big: 2n ** 70n, buffer: Buffer.from('hi'), floats: new Float32Array([1.5]) };
    const echo = stage({ module: fixture('remote.js'), export: 'echo' }, { transport: redisTransport({ url: server.url, prefix }) });
    const [out] = (await runThrough(echo, [value])) as Array<typeof value>;
    // As on threads: a Buffer arrives as a Buffer.
    expect(out).to.deep.equal(value);
    expect(Buffer.isBuffer(out!.buffer)).to.equal(true);
    expect(out!.floats).to.be.instanceOf(Float32Array);
  });

  it('applies onError as on threads: a throwing item is a FUNCTION_FAILED StageError with its seq and cause', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1);
    const inputs: RemoteItem[] = range(6).map((n) => ({ n, ...(n === 3 ? { mode: 'throw' as const } : {}) }));
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), onError: 'emit' });
    const out = await runThrough(s, inputs);
    const error = out[3] as StageError;
    expect(error).to.be.instanceOf(StageError);
    expect(error.code).to.equal('FUNCTION_FAILED');
    expect(error.seq).to.equal(3);
    expect((error.cause as Error).name).to.equal('RangeError');
    expect((out.filter((x) => !(x instanceof StageError)) as Squared[]).map((r) => r.n)).to.deep.equal([0, 1, 2, 4, 5]);
    expect(s.stats.failed).to.equal(1);
  });

  it("records a DetailedTiming whose computation is the worker's and whose other times are this process's", async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1);
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), name: 'square' });
    const inputs = range(3).map((n) => new PipelineItem({ n, mode: 'sleep', ms: 30 } satisfies RemoteItem, n));
    // On the package's clock, the one timings are read on: Date.now() follows the wall clock's steps.
    const before = (performance.timeOrigin + performance.now()) / 1000;
    const out = (await runThrough(s, inputs)) as PipelineItem[];
    const after = (performance.timeOrigin + performance.now()) / 1000;
    for (const item of out) {
      const timing = item.stageTimings.get('square')!;
      expect(timing).to.be.instanceOf(DetailedTiming);
      expect(timing.computationTime).to.be.at.least(0.029);
      expect(timing.queueWaitTime).to.be.at.least(0);
      expect(timing.transmissionTime).to.be.at.least(0);
      expect(timing.queueEnterTime).to.be.at.least(before - 0.001);
      expect(timing.queueExitTime).to.be.at.most(after + 0.001);
    }
    expect(s.stats.latency.count).to.equal(3);
  });

  it('holds at most highWaterMark items while no worker is there, then runs them all once one starts', async () => {
    const prefix = uniquePrefix();
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), highWaterMark: 32 });
    const sink = new Collector();
    const done = pipeline(Readable.from(range(300).map((n) => ({ n }))), s, sink);
    await waitUntil(() => s.stats.itemsHeld === 32, 'the stage holds 32 items');
    expect(await itemsInStream(server.url, `${prefix}:square:requests`)).to.be.at.most(32);
    await startWorkers(prefix, 1);
    await done;
    expect((sink.chunks as Squared[]).map((r) => r.n)).to.deep.equal(range(300));
    expect(s.stats.maxItemsHeld).to.be.at.most(32);
  });

  it('serves two stages from one worker process, and a pipeline never fuses them', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1, { stages: [`${fixture('remote.js').href}#square`, `${fixture('remote.js').href}#echo`] });
    const transport = redisTransport({ url: server.url, prefix });
    const flow = createPipeline([
      stage(SQUARE, { transport }),
      stage({ module: fixture('remote.js'), export: 'echo' }, { transport }),
      stage((r: Squared) => r.square),
    ]);
    const out = await runThrough(flow, range(50).map((n) => ({ n })));
    expect(out).to.deep.equal(range(50).map((n) => n * n));
    expect(flow.fusedGroups).to.deep.equal([]);
  });

  it('names a remote stage with five times the work of a local one as the bottleneck, busy on the threads of its worker', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1, { stages: [`${fixturePath('remote.js')}#busyMs`] });
    const flow = createPipeline([
      stage((item: { n: number; ms: number }) => {
        const end = performance.now() + 1;
        while (performance.now() < end);
        return { ...item, ms: 5 };
      }, { name: 'local', concurrency: 1 }),
      // Named by its export: the worker serves the stage by that name.
      stage({ module: fixture('remote.js'), export: 'busyMs' }, { transport: redisTransport({ url: server.url, prefix }) }),
    ]);
    await runThrough(flow, range(150).map((n) => ({ n, ms: 0 })));
    const { bottleneck } = flow.getLatencySummary();
    expect(bottleneck?.stage).to.equal('busyMs');
    expect(bottleneck!.threads).to.equal(1);
    expect(bottleneck!.advice).to.match(/worker processes/);
  });

  it('deletes its reply stream at the end and leaves no batch behind', async () => {
    const prefix = uniquePrefix();
    await startWorkers(prefix, 1);
    await runThrough(stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }) }), range(20).map((n) => ({ n })));
    expect(server.cli('--scan', '--pattern', `${prefix}:*`).trim().split('\n')).to.deep.equal([`${prefix}:square:requests`]);
    expect(server.cli('XLEN', `${prefix}:square:requests`).trim()).to.equal('0');
  });

  it('runs examples/distributed: its producer against a worker serving its module', async () => {
    const work = fileURLToPath(new URL('../examples/distributed/work.js', import.meta.url));
    await startWorkers('docs', 1, { stages: [`${work}#fingerprint`] });
    const producer = fileURLToPath(new URL('../examples/distributed/producer.js', import.meta.url));
    const child = spawnSync(process.execPath, [producer, '2000'], { env: { ...process.env, REDIS_URL: server.url }, encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).to.equal('');
    expect(child.status).to.equal(0);
    expect(child.stdout).to.match(/^2000 documents fingerprinted in order .* by 1 worker process/);
  });

  it('lets a program whose started remote stage sits idle exit by itself', async () => {
    const script = writeScript('idle-remote-stage', `
      import { stage } from 'async-task-pipeline';
      import { redisTransport } from 'async-task-pipeline/redis';
      const s = stage({ module: ${JSON.stringify(fixture('remote.js').href)}, export: 'square' }, { transport: redisTransport({ url: ${JSON.stringify(server.url)}, prefix: 'idle' }) });
      await s.start();
      console.log('started');
    `);
    const child = await runNode(script);
    expect(child.timedOut, child.stderr).to.equal(false);
    expect(child.code).to.equal(0);
    expect(child.stdout.trim()).to.equal('started');
  });

  it('takes back its batches and deletes its reply stream when destroyed mid-run', async () => {
    const prefix = uniquePrefix();
    const s = stage(SQUARE, { transport: redisTransport({ url: server.url, prefix }), highWaterMark: 32 });
    const sink = new Collector();
    const done = pipeline(Readable.from(range(100).map((n) => ({ n }))), s, sink).catch((error: unknown) => error);
    await waitUntil(() => s.stats.itemsHeld === 32, 'the stage holds 32 items');
    s.destroy();
    await done;
    await waitUntil(() => server.cli('--scan', '--pattern', `${prefix}:*`).trim() === `${prefix}:square:requests`, 'only the request stream is left');
    expect(server.cli('XLEN', `${prefix}:square:requests`).trim()).to.equal('0');
  });

  it('rejects a function stage with a transport, naming options.transport', () => {
    const transport = redisTransport({ url: server.url });
    expect(() => stage((x: number) => x, { transport })).to.throw(TypeError, /options\.transport/);
  });

  it('rejects options a remote stage cannot honour, naming each', () => {
    const transport = redisTransport({ url: server.url });
    for (const option of [{ thread: false }, { timeout: 100 }, { concurrency: 2 }, { context: 1 }, { transfer: true }]) {
      const name = Object.keys(option)[0]!;
      expect(() => stage(SQUARE, { transport, ...option }), name).to.throw(TypeError, new RegExp(`options\\.${name}`));
    }
    expect(() => stage(SQUARE, { transport: {} as never })).to.throw(TypeError, /options\.transport must be/);
    expect(() => redisTransport({ url: 'http://x' })).to.throw(TypeError, /options\.url/);
  });

  it('fails with TRANSPORT_FAILED and the cause when Redis is not there', async () => {
    const s = stage(SQUARE, { transport: redisTransport({ url: 'redis://127.0.0.1:1', prefix: uniquePrefix() }) });
    const error = (await rejectionOf(runThrough(s, [{ n: 1 }]))) as StageError;
    expect(error).to.be.instanceOf(StageError);
    expect(error.code).to.equal('TRANSPORT_FAILED');
    expect((error.cause as Error).message).to.match(/ECONNREFUSED/);
  });
});

describe('a Redis transport with an ACL user', function () {
  this.timeout(30_000);
  // The default user is off: only alice, with her password, gets in.
  const server = new RedisServer(['--user', 'default', 'off', '--user', 'alice', 'on', '>s3cret', '~*', '&*', '+@all']);
  const workers: WorkerProcess[] = [];

  before(async function () {
    requireRedisServer(this);
    await server.start();
  });

  after(async () => {
    for (const worker of workers) worker.kill();
    await Promise.all(workers.map((w) => w.exited));
    await server.stop();
  });

  it('runs a stage when producer and worker log in as the user', async () => {
    const prefix = uniquePrefix();
    const url = `redis://alice:s3cret@127.0.0.1:${server.port}`;
    const worker = new WorkerProcess({ url, prefix });
    workers.push(worker);
    await worker.ready();
    const out = (await runThrough(stage(SQUARE, { transport: redisTransport({ url, prefix }) }), range(10).map((n) => ({ n })))) as Squared[];
    expect(out.map((r) => r.square)).to.deep.equal(range(10).map((n) => n * n));
  });

  it('fails with TRANSPORT_FAILED, the password hidden, on a wrong password', async () => {
    const url = `redis://alice:wrong@127.0.0.1:${server.port}`;
    const error = (await rejectionOf(runThrough(stage(SQUARE, { transport: redisTransport({ url }) }), [{ n: 1 }]))) as StageError;
    expect(error.code).to.equal('TRANSPORT_FAILED');
    expect(error.message).to.not.include('wrong');
    expect(String((error.cause as Error).message)).to.match(/WRONGPASS|invalid username-password/);
  });

  it('makes a worker with a wrong password exit with code 1, saying why', async () => {
    const worker = new WorkerProcess({ url: `redis://alice:wrong@127.0.0.1:${server.port}`, prefix: uniquePrefix() });
    workers.push(worker);
    const { code } = await worker.exited;
    expect(code).to.equal(1);
    expect(worker.stderr).to.match(/WRONGPASS|invalid username-password/);
  });
});

/** Items waiting in a request stream: the sum of its batches' lengths. */
async function itemsInStream(url: string, key: string): Promise<number> {
  const client = await createClient({ url, RESP: 2 }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).connect();
  try {
    const entries = await client.sendCommand<Array<[Buffer, Buffer[]]>>(['XRANGE', key, '-', '+']);
    let items = 0;
    for (const [, fields] of entries) {
      const at = fields.findIndex((f) => f.toString() === 'd');
      items += (deserialize(fields[at + 1]!) as unknown[]).length;
    }
    return items;
  } finally {
    client.destroy();
  }
}

describe('a Redis transport over TLS', function () {
  this.timeout(30_000);
  // Debian's redis-server is built with TLS; the CA is the spec's own (spec/fixtures/tls).
  const server = new RedisServer([], true);
  let worker: WorkerProcess | undefined;

  before(async function () {
    requireRedisServer(this);
    await server.start();
  });

  after(async () => {
    worker?.kill();
    await worker?.exited;
    await server.stop();
  });

  it('runs a stage over rediss:// with the CA given to the producer and to the worker', async () => {
    const prefix = uniquePrefix();
    worker = new WorkerProcess({ url: server.url, prefix, env: { NODE_EXTRA_CA_CERTS: `${TLS_DIR}ca.pem` } });
    await worker.ready();
    const transport = redisTransport({ url: server.url, prefix, tls: { ca: readFileSync(`${TLS_DIR}ca.pem`) } });
    const out = (await runThrough(stage(SQUARE, { transport }), range(10).map((n) => ({ n })))) as Squared[];
    expect(out.map((r) => r.square)).to.deep.equal(range(10).map((n) => n * n));
  });

  it('fails with TRANSPORT_FAILED when the server certificate is not trusted', async () => {
    const error = (await rejectionOf(runThrough(stage(SQUARE, { transport: redisTransport({ url: server.url }) }), [{ n: 1 }]))) as StageError;
    expect(error.code).to.equal('TRANSPORT_FAILED');
    expect(String((error.cause as Error).message)).to.match(/certificate/);
  });
});
