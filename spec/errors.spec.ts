import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { PipelineItem, StageError, createPipeline, createWorkerPool, stage } from 'async-task-pipeline';
import type { ModuleRef, StageOptions } from 'async-task-pipeline';
import { Collector, fixture, makeTempDir, range, rejectionOf, runThrough, sleep, waitUntil } from './helpers.js';

/** Asserts a StageError with `code` and returns it typed. */
function expectStageError(error: unknown, code: string): StageError {
  expect(error).to.be.instanceOf(StageError);
  const stageError = error as StageError;
  expect(stageError.code, stageError.message).to.equal(code);
  return stageError;
}

describe('errors', () => {
  describe("onError: 'fail' (the default)", () => {
    it('rejects stream.pipeline with a StageError naming the stage, seq and cause', async () => {
      const s = stage((x: number) => { if (x === 3) throw new RangeError('three is bad'); return x; }, { name: 'picky' });
      const error = expectStageError(await rejectionOf(runThrough(s, range(6))), 'FUNCTION_FAILED');
      expect(error.stage).to.equal('picky');
      expect(error.seq).to.equal(3);
      expect(error.cause).to.be.instanceOf(Error);
      expect((error.cause as Error).name).to.equal('RangeError');
      expect((error.cause as Error).message).to.equal('three is bad');
      expect(error.message).to.include('picky').and.to.include('three is bad');
    });

    it('carries the seq of the PipelineItem that failed', async () => {
      const s = stage((x: number) => { if (x === 2) throw new Error('two'); return x; });
      const inputs = [1, 2, 3].map((x) => new PipelineItem(x, 100 + x));
      const error = expectStageError(await rejectionOf(runThrough(s, inputs)), 'FUNCTION_FAILED');
      expect(error.seq).to.equal(102);
    });

    it('rejects a pipeline of stages with the StageError of the stage that failed', async () => {
      const p = createPipeline([
        stage((x: number) => x + 1, { name: 'first' }),
        stage((x: number) => { if (x === 5) throw new Error('five'); return x; }, { name: 'second' }),
      ]);
      const error = expectStageError(await rejectionOf(runThrough(p, range(10))), 'FUNCTION_FAILED');
      expect(error.stage).to.equal('second');
      expect(error.seq).to.equal(4);
    });

    it('runs nothing more of the failed stage, and leaves its pool idle', async () => {
      // Threads are the pool's and outlive the stage; what must stop is the
      // stage's work. The function counts its calls in shared memory.
      const calls = new Int32Array(new SharedArrayBuffer(4));
      const pool = createWorkerPool({ threads: 2 });
      const s = stage((x: number, context: { calls: SharedArrayBuffer }) => {
        Atomics.add(new Int32Array(context.calls), 0, 1);
        if (x === 30) throw new RangeError(`item ${x} is out of range`);
        return x;
      }, { pool, context: { calls: calls.buffer } });
      expectStageError(await rejectionOf(runThrough(s, range(2000))), 'FUNCTION_FAILED');
      await waitUntil(() => pool.stats.busyThreads === 0, 'the pool is idle');
      const afterFailure = Atomics.load(calls, 0);
      await sleep(100);
      expect(Atomics.load(calls, 0)).to.equal(afterFailure);
      expect(afterFailure, 'calls after the failed item stop with its batches').to.be.below(2000);
      await pool.close();
    });

    it('emits nothing after the failed item', async () => {
      const s = stage((x: number) => { if (x === 3) throw new Error('three'); return x; });
      const sink = new Collector();
      await rejectionOf(pipeline(Readable.from(range(10)), s, sink));
      expect(sink.chunks).to.deep.equal([0, 1, 2]);
    });
  });

  describe("onError: 'skip'", () => {
    it('drops failed items and counts them as skipped', async () => {
      const s = stage((x: number) => { if (x % 3 === 0) throw new Error('multiple of three'); return x; }, { onError: 'skip' });
      const out = await runThrough(s, range(10));
      expect(out).to.deep.equal([1, 2, 4, 5, 7, 8]);
      expect(s.stats.skipped).to.equal(4);
      expect(s.stats.failed).to.equal(0);
    });
  });

  describe("onError: 'emit'", () => {
    it('passes the StageError downstream in the place of the failed item', async () => {
      const s = stage((x: number) => { if (x === 2) throw new Error('two'); return x * 10; }, { name: 'tens', onError: 'emit', concurrency: 2 });
      const out = await runThrough(s, range(5));
      expect(out).to.have.length(5);
      expect(out.filter((_, i) => i !== 2)).to.deep.equal([0, 10, 30, 40]);
      const error = expectStageError(out[2], 'FUNCTION_FAILED');
      expect(error.stage).to.equal('tens');
      expect(error.seq).to.equal(2);
    });

    it('lets later stages pass the StageError through untouched and in order', async () => {
      const p = createPipeline([
        stage((x: number) => { if (x === 1) throw new Error('one'); return x; }, { name: 'first', onError: 'emit' }),
        stage((x: number) => x + 100, { name: 'second' }),
      ]);
      const out = await runThrough(p, range(4));
      expect([out[0], out[2], out[3]]).to.deep.equal([100, 102, 103]);
      expect(expectStageError(out[1], 'FUNCTION_FAILED').stage).to.equal('first');
    });

    it('counts emitted errors as failed', async () => {
      const s = stage((x: number) => { if (x < 2) throw new Error('small'); return x; }, { onError: 'emit' });
      await runThrough(s, range(5));
      expect(s.stats.failed).to.equal(2);
    });
  });

  describe('onError: a handler function', () => {
    it('is called with the StageError and the data, and the item is dropped', async () => {
      const calls: Array<[StageError, unknown]> = [];
      const s = stage((x: { n: number }) => { if (x.n === 1) throw new Error('one'); return x.n; }, {
        name: 'handled',
        onError: (error, data) => { calls.push([error, data]); },
      });
      const out = await runThrough(s, [{ n: 0 }, { n: 1 }, { n: 2 }]);
      expect(out).to.deep.equal([0, 2]);
      expect(calls).to.have.length(1);
      const [error, data] = calls[0]!;
      expect(expectStageError(error, 'FUNCTION_FAILED').seq).to.equal(1);
      expect(error.stage).to.equal('handled');
      expect(data).to.deep.equal({ n: 1 });
      expect(s.stats.failed).to.equal(1);
    });

    it('fails the stage with an ON_ERROR_FAILED StageError whose cause is what the handler throws', async () => {
      const s = stage((x: number) => { if (x === 1) throw new Error('one'); return x; }, {
        name: 'handled',
        onError: () => { throw new Error('handler gave up'); },
      });
      const error = expectStageError(await rejectionOf(runThrough(s, range(3))), 'ON_ERROR_FAILED');
      expect(error.stage).to.equal('handled');
      expect(error.seq).to.equal(1);
      expect((error.cause as Error).message).to.equal('handler gave up');
    });
  });

  describe('load failure', () => {
    let temp: { dir: string; remove: () => void };

    before(() => {
      temp = makeTempDir('atp-load');
      writeFileSync(join(temp.dir, 'syntax-error.mjs'), 'export function broken(x) { return x +; }\n');
    });

    after(() => temp.remove());

    interface LoadCase {
      what: string;
      ref: () => ModuleRef;
      checkCause: (cause: Error) => void;
    }

    const cases: LoadCase[] = [
      {
        what: 'the module file is missing',
        ref: () => ({ module: join(temp.dir, 'no-such-module.mjs') }),
        checkCause: (cause) => expect((cause as Error & { code?: unknown }).code).to.equal('ERR_MODULE_NOT_FOUND'),
      },
      {
        what: 'the module has a syntax error',
        ref: () => ({ module: join(temp.dir, 'syntax-error.mjs'), export: 'broken' }),
        checkCause: (cause) => expect(cause.name).to.equal('SyntaxError'),
      },
      {
        what: 'the export is missing',
        ref: () => ({ module: fixture('double.js'), export: 'nope' }),
        checkCause: (cause) => expect(cause.message).to.include('nope'),
      },
      {
        what: 'the named export is not a function',
        ref: () => ({ module: fixture('not-a-function.js'), export: 'answer' }),
        checkCause: (cause) => expect(cause.message).to.include('answer'),
      },
      {
        what: 'the default export is not a function',
        ref: () => ({ module: fixture('not-a-function.js') }),
        checkCause: (cause) => expect(cause.message).to.include('default'),
      },
    ];

    for (const { what, ref, checkCause } of cases) {
      it(`stage.start() rejects with LOAD_FAILED and the real cause when ${what}`, async function () {
        // Well under the 10 s that threads.js waits on a worker that never loads.
        this.timeout(8000);
        const s = stage(ref(), { name: 'loader' });
        const error = expectStageError(await rejectionOf(s.start()), 'LOAD_FAILED');
        s.destroy();
        expect(error.stage).to.equal('loader');
        expect(error.cause).to.be.instanceOf(Error);
        checkCause(error.cause as Error);
      });

      it(`the first write fails the pipeline with LOAD_FAILED when ${what}`, async function () {
        this.timeout(8000);
        const s = stage(ref(), { name: 'loader' });
        const error = expectStageError(await rejectionOf(runThrough(s, [1, 2, 3])), 'LOAD_FAILED');
        expect(error.cause).to.be.instanceOf(Error);
        checkCause(error.cause as Error);
      });
    }

    it('a main-thread stage rejects start() with LOAD_FAILED when its module is missing', async () => {
      const s = stage({ module: join(temp.dir, 'missing.mjs') }, { thread: false });
      const error = expectStageError(await rejectionOf(s.start()), 'LOAD_FAILED');
      s.destroy();
      expect((error.cause as Error & { code?: unknown }).code).to.equal('ERR_MODULE_NOT_FOUND');
    });

    it('createPipeline().start() rejects with the LOAD_FAILED of the stage that cannot load', async () => {
      const p = createPipeline([stage((x: number) => x, { name: 'fine' }), stage({ module: fixture('double.js'), export: 'nope' }, { name: 'broken' })]);
      const error = expectStageError(await rejectionOf(p.start()), 'LOAD_FAILED');
      p.destroy();
      expect(error.stage).to.equal('broken');
    });
  });

  describe('closure misuse', () => {
    it('fails with CLOSURE_REFERENCE naming the variable and both ways out', async () => {
      const factor = 3;
      const s = stage((x: number) => x * factor, { name: 'scaled' });
      const error = expectStageError(await rejectionOf(runThrough(s, [1, 2])), 'CLOSURE_REFERENCE');
      expect(error.stage).to.equal('scaled');
      expect(error.message).to.include('"factor"');
      expect(error.message).to.include('stage({ module, export })');
      expect(error.message).to.include('options.context');
      expect((error.cause as Error).name).to.equal('ReferenceError');
    });

    it('fails with CLOSURE_REFERENCE even under onError: skip', async () => {
      const helper = (x: number): number => x + 1;
      const s = stage((x: number) => helper(x), { onError: 'skip' });
      const error = expectStageError(await rejectionOf(runThrough(s, [1])), 'CLOSURE_REFERENCE');
      expect(error.message).to.include('"helper"');
    });
  });

  describe('worker death', () => {
    it('fails with WORKER_DIED instead of hanging when the worker exits mid-call', async () => {
      const s = stage({ module: fixture('exit-on.js'), export: 'exitOn' }, { name: 'doomed', context: { exitOn: 3 } });
      const error = expectStageError(await rejectionOf(runThrough(s, range(6))), 'WORKER_DIED');
      expect(error.stage).to.equal('doomed');
      expect(error.message).to.include('doomed');
    });

    it('names the item in flight when the worker died', async () => {
      const s = stage({ module: fixture('exit-on.js'), export: 'exitOn' }, { context: { exitOn: 0 } });
      const error = expectStageError(await rejectionOf(runThrough(s, [0])), 'WORKER_DIED');
      expect(error.seq).to.equal(0);
    });

    it("passes WORKER_DIED to onError: 'emit' and carries on with a new worker", async () => {
      const s = stage({ module: fixture('exit-on.js'), export: 'exitOn' }, { onError: 'emit', context: { exitOn: 2 } });
      const sink = new Collector();
      // One item at a time, so that only item 2 is in flight when the worker dies.
      const source = (async function* () {
        for (const x of range(5)) {
          yield x;
          await new Promise((resolve) => s.once('data', resolve));
        }
      })();
      await pipeline(Readable.from(source), s, sink);
      expect(sink.chunks.filter((x) => typeof x === 'number')).to.deep.equal([0, 1, 3, 4]);
      expectStageError(sink.chunks[2], 'WORKER_DIED');
    });
  });

  describe('thrown non-Error values', () => {
    it('wraps a thrown string in a StageError whose message shows it', async () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      const s = stage((x: number) => { if (x === 1) throw 'plain string'; return x; });
      const error = expectStageError(await rejectionOf(runThrough(s, [0, 1])), 'FUNCTION_FAILED');
      expect(error.message).to.include('plain string');
      expect(error.cause).to.not.equal(undefined);
    });

    it('wraps a thrown object in a StageError whose message shows it', async () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      const s = stage(() => { throw { reason: 'custom' }; });
      const error = expectStageError(await rejectionOf(runThrough(s, [0])), 'FUNCTION_FAILED');
      expect(error.message).to.include('custom');
    });

    it('keeps a value thrown on the main thread as the cause', async () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      const s = stage(() => { throw 42; }, { thread: false });
      const error = expectStageError(await rejectionOf(runThrough(s, [0])), 'FUNCTION_FAILED');
      expect(error.message).to.include('42');
    });

    it('wraps a rejection with undefined in a StageError', async () => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      const s = stage(() => Promise.reject(undefined));
      expectStageError(await rejectionOf(runThrough(s, [0])), 'FUNCTION_FAILED');
    });
  });

  describe('bad options', () => {
    const fn = (x: unknown): unknown => x;
    const bad: Array<[string, unknown, RegExp]> = [
      ['concurrency', 0, /^options\.concurrency must be an integer >= 1, got 0 \(number\)$/],
      ['concurrency', 1.5, /options\.concurrency.*1\.5/],
      ['highWaterMark', -1, /options\.highWaterMark.*-1/],
      ['highWaterMark', '8', /options\.highWaterMark.*"8" \(string\)/],
      ['ordered', 'yes', /options\.ordered.*boolean/],
      ['thread', 0, /options\.thread.*boolean/],
      ['name', '', /options\.name/],
      ['onError', 'ignore', /options\.onError.*'skip'/],
      ['signal', {}, /options\.signal.*AbortSignal/],
      ['context', () => 1, /options\.context/],
      ['resourceLimits', 4, /^options\.resourceLimits must be an object, got 4 \(number\)$/],
      ['resourceLimits', { maxOldGenerationSizeMb: '64' }, /^options\.resourceLimits\.maxOldGenerationSizeMb must be a finite number >= 4.*, got string$/],
      ['resourceLimits', { maxYoungGenerationSizeMb: -1 }, /^options\.resourceLimits\.maxYoungGenerationSizeMb must be a finite number >= 0, got -1$/],
      ['resourceLimits', { stackSizeMb: Infinity }, /options\.resourceLimits\.stackSizeMb .*got Infinity$/],
      ['resourceLimits', { heapMb: 64 }, /^options\.resourceLimits\.heapMb is not an option/],
    ];

    for (const [option, value, message] of bad) {
      it(`throws a TypeError naming options.${option} for ${typeof value === 'object' && value !== null ? JSON.stringify(value) : typeof value === 'string' ? JSON.stringify(value) : String(value)}`, () => {
        const options: StageOptions = { [option]: value };
        expect(() => stage(fn, options)).to.throw(TypeError, message);
      });
    }

    it('throws a TypeError naming an unknown option', () => {
      expect(() => stage(fn, { concurency: 2 } as StageOptions)).to.throw(TypeError, /concurency/);
    });

    it('throws a TypeError for a target that is neither a function nor a module reference', () => {
      expect(() => stage(42 as unknown as ModuleRef)).to.throw(TypeError, /function or \{ module/);
    });

    it('throws a TypeError naming createPipeline options.highWaterMark', () => {
      expect(() => createPipeline([stage(fn)], { highWaterMark: 0 })).to.throw(TypeError, /options\.highWaterMark/);
    });

    it('throws a TypeError for an empty list of stages', () => {
      expect(() => createPipeline([])).to.throw(TypeError, /stages/);
    });

    it('throws a TypeError for two stages with the same name', () => {
      expect(() => createPipeline([stage(fn, { name: 'x' }), stage(fn, { name: 'x' })])).to.throw(TypeError, /"x"/);
    });
  });
});
