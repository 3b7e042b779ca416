// Faults of the worker layer found by attacking the package from outside
// (issue 8, items 1, 2, 8, 9, 10 and 11): moved bytes and dead workers,
// stopping a stage at any point of its start-up, what crosses a thread,
// errors that resist serialisation, host flags, and a process that lingers.
// A hang is a failure here: specs that could hang have short timeouts, and
// whole programs run in child processes with a deadline.

import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Vinyl from 'vinyl';
import { StageError, createPipeline, gulpStage, stage } from 'async-task-pipeline';
import type { Stage, StageOptions } from 'async-task-pipeline';
import { Collector, fixture, rejectionOf, removeScripts, runNode, runNodeWith, runThrough, writeScript } from './helpers.js';
import type { ChildResult } from './helpers.js';
import type { Bytes, Seen } from './fixtures/worker-faults.js';
import { workerExecArgv } from '../lib/run/worker-exec-argv.js';

const FAULTS = fixture('worker-faults.js');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INDEX = new URL('../lib/index.js', import.meta.url).href;

// Large enough to own its ArrayBuffer (not a slice of Buffer's pool), so
// that `transfer: true` moves it.
const SIZE = 65_536;

function bytes(id: number): Bytes {
  return { id, buf: Buffer.alloc(SIZE, id % 256) };
}

function faultStage(exportName: string, options: StageOptions): Stage {
  return stage<unknown, unknown>({ module: FAULTS, export: exportName }, options);
}

function expectStageError(value: unknown, code: string): StageError {
  expect(value).to.be.instanceOf(StageError);
  expect((value as StageError).code, (value as StageError).message).to.equal(code);
  return value as StageError;
}

function expectIntact(seen: unknown, id: number): void {
  expect(seen).to.deep.equal({ id, length: SIZE, intact: true, isBuffer: true } satisfies Seen);
}

function expectExitedBy(result: ChildResult, what: string): void {
  const context = `code: ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.timedOut, `${what}: the child did not exit by itself\n${context}`).to.equal(false);
  expect(result.stderr, context).to.not.match(/uncaught|unhandled|unsettled/i);
}

describe('worker faults', function () {
  // Every spec here must end well inside this: a hang is the fault under test.
  this.timeout(12_000);

  // Stages a spec made, destroyed after it so that a failed spec leaves no
  // worker behind to keep the run alive.
  const made: Array<{ destroy: () => unknown }> = [];
  function track<T extends { destroy: () => unknown }>(value: T): T {
    made.push(value);
    return value;
  }
  afterEach(() => {
    for (const s of made.splice(0)) s.destroy();
  });
  after(removeScripts);

  describe('moved bytes (transfer: true) when a worker dies', () => {
    it('delivers every healthy item of a batch whose worker died, bytes intact, and fails only the culprit', async () => {
      const s = track(faultStage('exitOnBytes', { transfer: true, onError: 'emit', context: { exitOn: 20 } }));
      const out = await runThrough(s, Array.from({ length: 40 }, (_, id) => bytes(id)));
      expect(out).to.have.length(40);
      out.forEach((value, id) => {
        if (id === 20) expectStageError(value, 'WORKER_DIED');
        else expectIntact(value, id);
      });
      expect(s.stats.itemsHeld).to.equal(0);
    });

    it('runs a moved top-level Buffer again on a fresh worker after a death', async () => {
      const s = track(faultStage('exitOnFirstByte', { transfer: true, onError: 'skip', context: { exitOn: 5 } }));
      const out = await runThrough(s, Array.from({ length: 12 }, (_, id) => Buffer.alloc(SIZE, id)));
      expect(out.map((seen) => (seen as Seen).id)).to.deep.equal([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
      for (const seen of out) expectIntact(seen, (seen as Seen).id);
      expect(s.stats.skipped).to.equal(1);
    });

    it('hands onError the item whose worker died with its bytes as they were sent', async () => {
      const failed: unknown[] = [];
      const s = track(faultStage('exitOnBytes', { transfer: true, retries: 0, context: { exitOn: 2 }, onError: (error, data) => failed.push(error, data) }));
      await runThrough(s, [bytes(0), bytes(1), bytes(2), bytes(3)]);
      expectStageError(failed[0], 'WORKER_DIED');
      const data = failed[1] as Bytes;
      expect(Buffer.isBuffer(data.buf)).to.equal(true);
      expect(data.buf.equals(Buffer.alloc(SIZE, 2))).to.equal(true);
    });

    it('hands onError an item whose function failed with its bytes as they were sent, even if the function changed them', async () => {
      const failed: unknown[] = [];
      const s = track(faultStage('scribbleThenThrow', { transfer: true, context: { failOn: 3 }, onError: (error, data) => failed.push(error, data) }));
      const out = await runThrough(s, Array.from({ length: 6 }, (_, id) => bytes(id)));
      expect(out).to.have.length(5);
      expectStageError(failed[0], 'FUNCTION_FAILED');
      expect((failed[1] as Bytes).buf.equals(Buffer.alloc(SIZE, 3))).to.equal(true);
    });

    it('emits a moved top-level Buffer that failed as the StageError, and hands onError its bytes', async () => {
      const failed: unknown[] = [];
      const s = track(faultStage('exitOnFirstByte', { transfer: true, retries: 0, context: { exitOn: 1 }, onError: (error, data) => failed.push(error, data) }));
      await runThrough(s, [Buffer.alloc(SIZE, 0), Buffer.alloc(SIZE, 1)]);
      expectStageError(failed[0], 'WORKER_DIED');
      expect((failed[1] as Buffer).equals(Buffer.alloc(SIZE, 1))).to.equal(true);
    });

    it('hands onError an item that timed out with its bytes as they were sent', async () => {
      const failed: unknown[] = [];
      const s = track(faultStage('hangOnBytes', { transfer: true, timeout: 300, context: { hangOn: 1 }, onError: (error, data) => failed.push(error, data) }));
      const out = await runThrough(s, [bytes(0), bytes(1), bytes(2)]);
      expect(out.map((seen) => (seen as Seen).id)).to.deep.equal([0, 2]);
      expectStageError(failed[0], 'TIMEOUT');
      expect((failed[1] as Bytes).buf.equals(Buffer.alloc(SIZE, 1))).to.equal(true);
    });

    it('fails an item whose bytes were already moved elsewhere with DATA_CLONE instead of hanging', async () => {
      const gone = bytes(1);
      structuredClone(gone.buf.buffer, { transfer: [gone.buf.buffer as ArrayBuffer] });
      const s = track(faultStage('exitOnBytes', { transfer: true, onError: 'emit', context: { exitOn: -1 } }));
      const out = await runThrough(s, [bytes(0), gone, bytes(2)]);
      expectIntact(out[0], 0);
      expectStageError(out[1], 'DATA_CLONE');
      expectIntact(out[2], 2);
    });

    it('runs a fused chain again after a worker death, moved bytes intact', async () => {
      const p = track(createPipeline([
        faultStage('exitOnBytes', { name: 'first', transfer: true, onError: 'emit', context: { exitOn: 7 } }),
        stage((seen: Seen) => seen, { name: 'second', transfer: true }),
      ]));
      const out = await runThrough(p, Array.from({ length: 16 }, (_, id) => bytes(id)));
      expect(out).to.have.length(16);
      out.forEach((value, id) => {
        if (id === 7) expectStageError(value, 'WORKER_DIED');
        else expectIntact(value, id);
      });
    });

    it('gulpStage delivers the other files, contents intact, when a worker dies on one', async () => {
      const file = (name: string, fill: number): Vinyl =>
        new Vinyl({ cwd: '/p', base: '/p/src', path: `/p/src/${name}`, contents: Buffer.alloc(SIZE, fill) });
      const failed: Vinyl[] = [];
      const s = track(gulpStage({ module: FAULTS, export: 'exitOnPoison' }, { onError: (_error, f) => failed.push(f) }));
      const out = (await runThrough(s, [file('a.js', 1), file('poison.js', 2), file('c.js', 3)])) as Vinyl[];
      expect(out.map((f) => f.relative)).to.deep.equal(['a.js', 'c.js']);
      expect((out[0]!.contents as Buffer).equals(Buffer.alloc(SIZE, 1))).to.equal(true);
      expect((out[1]!.contents as Buffer).equals(Buffer.alloc(SIZE, 3))).to.equal(true);
      expect(failed.map((f) => f.relative)).to.deep.equal(['poison.js']);
      expect((failed[0]!.contents as Buffer).equals(Buffer.alloc(SIZE, 2))).to.equal(true);
    });
  });

  describe('stopping a stage at any point of its start-up', () => {
    const neverLoads = { module: fixture('never-loads.js'), export: 'never' };

    it('destroy() while a module load never settles emits close at once and rejects start()', async () => {
      const s = track(stage(neverLoads));
      const starting = s.start().then(() => 'started', (error: Error) => error.name);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = once(s, 'close');
      s.destroy();
      await closed;
      expect(await starting).to.equal('AbortError');
    });

    it('an abort while a module load never settles emits error and close and rejects start() with an AbortError', async () => {
      const controller = new AbortController();
      const s = track(stage(neverLoads, { signal: controller.signal }));
      const errors: Error[] = [];
      s.on('error', (error) => errors.push(error));
      const starting = s.start().then(() => 'started', (error: Error) => error.name);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = new Promise((resolve) => s.once('close', resolve));
      controller.abort();
      await closed;
      expect(errors.map((e) => e.name)).to.deep.equal(['AbortError']);
      expect(await starting).to.equal('AbortError');
    });

    it('close() of a pipeline whose stage never loads settles at once', async () => {
      const controller = new AbortController();
      const s = stage(neverLoads, { signal: controller.signal });
      const running = pipeline(Readable.from([1, 2, 3]), s, new Collector());
      await new Promise((resolve) => setTimeout(resolve, 200));
      controller.abort();
      expect((await rejectionOf(running) as Error).name).to.equal('AbortError');
    });

    // Destroyed before its worker exists, while threads.js loads, while the
    // worker boots, during the handshake and during init: each moment must
    // end the stage and its start().
    for (const delayMs of [-1, 0, 1, 2, 5, 10, 20, 40, 80]) {
      const when = delayMs < 0 ? 'synchronously after start()' : `${delayMs} ms after start()`;
      it(`destroy() ${when} emits close and settles start()`, async () => {
        const s = track(stage((x: number) => x, { concurrency: 2 }));
        const starting = s.start().then(() => 'started', (error: Error) => error.name);
        if (delayMs >= 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        const closed = once(s, 'close');
        s.destroy();
        await closed;
        expect(await starting).to.be.oneOf(['started', 'AbortError', 'StageError']);
      });
    }

    it('a program exits by itself after destroying a stage whose module load never settles', async () => {
      const result = await runNode(writeScript('destroy-never-loads', `
import { stage } from ${JSON.stringify(INDEX)};
const s = stage({ module: new URL(${JSON.stringify(fixture('never-loads.js').href)}), export: 'never' }, { concurrency: 2 });
const starting = s.start().catch((error) => console.log('start rejected', error.name));
setTimeout(() => s.destroy(), 100);
s.on('close', () => console.log('closed'));
await starting;
`), 6000);
      expectExitedBy(result, 'destroy during load');
      expect(result.stdout).to.include('closed').and.to.include('start rejected');
    });

    it('a program exits by itself after an abort while its workers never reach the handshake', async () => {
      const script = writeScript('abort-before-handshake', `
import { stage } from ${JSON.stringify(INDEX)};
const controller = new AbortController();
const s = stage((x) => x, { concurrency: 2, signal: controller.signal });
s.on('error', (error) => console.log('error', error.name));
s.on('close', () => console.log('closed'));
const starting = s.start().catch((error) => console.log('start rejected', error.name, error.message));
setTimeout(() => controller.abort(), 300);
await starting;
`);
      const result = await runNodeWith(['--import', fixture('stall-workers.js').href, script], { timeoutMs: 6000 });
      expectExitedBy(result, 'abort before the handshake');
      expect(result.stdout).to.include('error AbortError').and.to.include('closed').and.to.include('start rejected AbortError');
    });
  });

  describe('what crosses a thread without transfer', () => {
    it('hands the function a Buffer item as a Buffer', async () => {
      const s = track(stage((b: Buffer) => b.toString('hex')));
      expect(await runThrough(s, [Buffer.from('hi')])).to.deep.equal(['6869']);
    });

    it('hands the function a Buffer one level inside an item as a Buffer', async () => {
      const s = track(stage((r: { name: string; body: Buffer }) => `${r.name}:${r.body.toString('utf8')}`));
      expect(await runThrough(s, [{ name: 'a', body: Buffer.from('hi') }])).to.deep.equal(['a:hi']);
    });

    it('sends a large Buffer\'s own bytes once, not the whole memory under it, and leaves the caller\'s bytes as they were', async () => {
      // A 100 KB view of a 4 MB buffer, and 1 MB Buffers, alone and one level inside an item.
      const big = Buffer.alloc(4 * 2 ** 20, 7);
      const view = big.subarray(2 ** 20, 2 ** 20 + 100_000);
      const whole = Buffer.alloc(2 ** 20, 9);
      const file = { path: 'a', contents: Buffer.alloc(2 ** 20, 5) };
      type Probe = Buffer | { path: string; contents: Buffer };
      const s = track(stage((x: Probe) => {
        const b = Buffer.isBuffer(x) ? x : x.contents;
        const sum = b.reduce((a, byte) => a + byte, 0);
        b.fill(0);
        return [Buffer.isBuffer(b), b.length, b.buffer.byteLength, sum];
      }));
      expect(await runThrough(s, [view, whole, file])).to.deep.equal([
        [true, 100_000, 100_000, 700_000],
        [true, 2 ** 20, 2 ** 20, 9 * 2 ** 20],
        [true, 2 ** 20, 2 ** 20, 5 * 2 ** 20],
      ]);
      // Copied, not moved: the caller's memory is attached and untouched by the worker's fill(0).
      expect([big.buffer.byteLength, big[2 ** 20], whole[0], file.contents[0]]).to.deep.equal([4 * 2 ** 20, 7, 9, 5]);
    });

    it('gives back a Buffer result as a Buffer', async () => {
      const s = track(stage((x: string) => Buffer.from(x)));
      const [out] = await runThrough(s, ['hi']);
      expect(Buffer.isBuffer(out)).to.equal(true);
      expect((out as Buffer).toString()).to.equal('hi');
    });

    it('gives back a Buffer one level inside a result, and each one a generator yielded, as Buffers', async () => {
      const s = track(stage(function* (x: string) { yield { body: Buffer.from(x) }; yield Buffer.from(x.toUpperCase()); }));
      const out = await runThrough(s, ['hi']) as [{ body: Buffer }, Buffer];
      expect(Buffer.isBuffer(out[0].body)).to.equal(true);
      expect(Buffer.isBuffer(out[1])).to.equal(true);
      expect(out[1].toString()).to.equal('HI');
    });

    it('hands a fused chain Buffers as Buffers and gives its Buffer results back as Buffers', async () => {
      const p = track(createPipeline([
        stage((b: Buffer) => b.toString('hex'), { name: 'hex' }),
        stage((hex: string) => Buffer.from(hex, 'hex'), { name: 'back' }),
      ]));
      const [out] = await runThrough(p, [Buffer.from('hi')]);
      expect(Buffer.isBuffer(out)).to.equal(true);
      expect((out as Buffer).toString()).to.equal('hi');
    });

    it('hands the onError of a fused chain member the Buffer it failed on as a Buffer', async () => {
      const failed: unknown[] = [];
      const p = track(createPipeline([
        stage((b: Buffer) => b, { name: 'same' }),
        stage((b: Buffer) => { throw new Error(`no ${b.length}`); }, { name: 'fails', onError: (_error, data) => failed.push(data) }),
      ]));
      await runThrough(p, [Buffer.from('hi')]);
      expect(failed).to.have.length(1);
      expect(Buffer.isBuffer(failed[0])).to.equal(true);
    });
  });

  describe('errors that resist serialisation', () => {
    it('reports an Error whose code getter throws as FUNCTION_FAILED of its item, without re-running the batch', async () => {
      const s = track(faultStage('throwCodeGetter', { onError: 'emit' }));
      const out = await runThrough(s, [0, 1, 2]);
      expect([out[0], out[2]]).to.deep.equal([0, 2]);
      const error = expectStageError(out[1], 'FUNCTION_FAILED');
      expect(error.seq).to.equal(1);
      expect(error.message).to.include('the real failure');
      expect(s.stats.retried).to.equal(0);
    });

    it('reports an Error every property read of which throws as FUNCTION_FAILED of its item', async () => {
      const s = track(faultStage('throwHostileError', { onError: 'emit' }));
      const out = await runThrough(s, [0, 1, 2]);
      expect(expectStageError(out[1], 'FUNCTION_FAILED').seq).to.equal(1);
      expect(s.stats.retried).to.equal(0);
    });

    it('reports a thrown Proxy whose every trap throws as FUNCTION_FAILED of its item', async () => {
      const s = track(faultStage('throwHostileProxy', { onError: 'emit' }));
      const out = await runThrough(s, [0, 1, 2]);
      expect(expectStageError(out[1], 'FUNCTION_FAILED').seq).to.equal(1);
      expect(s.stats.retried).to.equal(0);
    });

    it('reports a hostile thrown value on the main thread (thread: false) as FUNCTION_FAILED of its item', async () => {
      const s = track(faultStage('throwHostileProxy', { onError: 'emit', thread: false }));
      const out = await runThrough(s, [0, 1, 2]);
      expect(expectStageError(out[1], 'FUNCTION_FAILED').seq).to.equal(1);
    });
  });

  describe("the host's node flags", () => {
    const program = `
import { Readable } from 'node:stream';
import { stage } from ${JSON.stringify(INDEX)};
const out = await Readable.from([1, 2, 3]).pipe(stage((x) => x * 2)).toArray();
console.log('out', out.join(','), globalThis.preloadMark ?? '');
`;

    it('runs stages in a program given to node --input-type=module -e', async () => {
      const result = await runNodeWith(['--input-type=module', '-e', program], { cwd: ROOT, timeoutMs: 8000 });
      expectExitedBy(result, 'node -e');
      expect(result.stdout, result.stderr).to.include('out 2,4,6');
    });

    it('runs stages in a program node reads from stdin', async () => {
      const result = await runNodeWith(['--input-type=module'], { stdin: program, cwd: ROOT, timeoutMs: 8000 });
      expectExitedBy(result, 'node < stdin');
      expect(result.stdout, result.stderr).to.include('out 2,4,6');
    });

    it('keeps --import for the workers of a program given to node -e', async () => {
      const preload = fixture('preload-mark.js').href;
      const marked = program.replace('stage((x) => x * 2)', 'stage((x) => `${x}${globalThis.preloadMark}`)');
      // A per-process flag, which Node refuses in a worker's explicit execArgv, rides along.
      const args = ['--max-old-space-size=512', '--import', preload, '--enable-source-maps', '--input-type=module', '-e', marked];
      const result = await runNodeWith(args, { cwd: ROOT, timeoutMs: 8000 });
      expectExitedBy(result, 'node --import -e');
      expect(result.stdout, result.stderr).to.include('out 1preloaded,2preloaded,3preloaded preloaded');
    });
  });

  describe('workerExecArgv', () => {
    it("inherits the host's flags when none of them must be kept from a worker", () => {
      expect(workerExecArgv(['--import', 'tsx', '--max-old-space-size=512', '--enable-source-maps'])).to.equal(undefined);
    });

    it('keeps loaders, conditions and experimental flags with their values, and drops entry code, tests, watch and debugger flags', () => {
      const host = [
        '--import', 'tsx', '-r', './pre.cjs', '--loader=ts-node/esm', '-C', 'dev', '--experimental-vm-modules', '--enable-source-maps',
        '--input-type', 'module', '-e', '--import', '--test', '--test-reporter', 'spec', '--watch-path=src', '--inspect-port', '9229',
        '--max-old-space-size=512', '--title=app',
      ];
      expect(workerExecArgv(host)).to.deep.equal([
        '--import', 'tsx', '-r', './pre.cjs', '--loader=ts-node/esm', '-C', 'dev', '--experimental-vm-modules', '--enable-source-maps',
      ]);
    });
  });

  describe('a worker that dies before its handshake', () => {
    it('lets the program exit as soon as start() has rejected with LOAD_FAILED', async () => {
      // threads.js waits 10 s for a handshake; a deadline of half that
      // catches a process kept alive by its timer.
      const result = await runNode(writeScript('dies-before-handshake', `
import { stage } from ${JSON.stringify(INDEX)};
const s = stage((x) => x, { resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } });
await s.start().catch((error) => console.log('start rejected', error.code));
s.destroy();
`), 5000);
      expectExitedBy(result, 'a worker that died before its handshake');
      expect(result.stdout).to.include('start rejected LOAD_FAILED');
    });
  });

  describe('resourceLimits that would crash the host', () => {
    // On Node 22 and later a worker started with 2 MB of old generation
    // aborts the whole process, and on every line one with a 0.2 MB stack
    // kills it: the stage must refuse them before any worker starts. A child
    // process, so that a regression kills it rather than the spec run.
    it('refuses them with a TypeError naming the option, and the program lives on', async () => {
      const result = await runNode(writeScript('host-crashing-limits', `
import { stage } from ${JSON.stringify(INDEX)};
for (const limits of [{ maxOldGenerationSizeMb: 2 }, { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 }, { stackSizeMb: 0.2 }]) {
  try {
    const s = stage((x) => x, { resourceLimits: limits });
    await s.start().then(() => console.log('started'), (error) => console.log('rejected', error.code));
    s.destroy();
  } catch (error) {
    console.log(error.name, error.message);
  }
}
console.log('alive');
`), 10000);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim().split('\n')).to.deep.equal([
        'TypeError options.resourceLimits.maxOldGenerationSizeMb must be a finite number >= 4 (less would crash the whole process, not just the worker, on some Node lines), got 2',
        'TypeError options.resourceLimits.maxOldGenerationSizeMb must be a finite number >= 4 (less would crash the whole process, not just the worker, on some Node lines), got 1',
        'TypeError options.resourceLimits.stackSizeMb must be a finite number >= 0.5 (less would crash the whole process, not just the worker, on some Node lines), got 0.2',
        'alive',
      ]);
    });
  });
});
