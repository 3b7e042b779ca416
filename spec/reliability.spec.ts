// Faults survived or reported: each breaks a worker or the crossing in one
// way, and the stage must account for every item.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { StageError, createWorkerPool, stage } from 'async-task-pipeline';
import type { Crash, CrashItem } from './fixtures/crashes.js';
import { Collector, fixture, rejectionOf, runThrough } from './helpers.js';

const crash = { module: fixture('crashes.js'), export: 'crash' };

function items(crashes: Crash[]): CrashItem[] {
  return crashes.map((c, id) => ({ id, crash: c }));
}

/** Outputs as ids, or error codes for StageErrors emitted in place. */
function shown(out: unknown[]): unknown[] {
  return out.map((x) => (x instanceof StageError ? x.code : x));
}

describe('reliability', function () {
  this.timeout(60_000);

  describe('a worker that dies mid-batch', () => {
    it('is replaced, and the healthy items of its batch come out in order while the poison fails alone', async () => {
      const s = stage(crash, { onError: 'emit', highWaterMark: 16 });
      const input = items(['ok', 'ok', 'ok', 'exit', 'ok', 'ok', 'ok', 'ok']);
      const out = await runThrough(s, input);
      expect(shown(out)).to.deep.equal([0, 1, 2, 'WORKER_DIED', 4, 5, 6, 7]);
      expect(s.stats.failed).to.equal(1);
    });

    it('reports the worker exit as the cause of WORKER_DIED', async () => {
      const out = await runThrough(stage(crash, { onError: 'emit' }), items(['exit']));
      const error = out[0] as StageError;
      expect(error.code).to.equal('WORKER_DIED');
      expect(error.seq).to.equal(0);
      expect(String((error.cause as Error).message)).to.match(/exited with code 3/);
    });

    it('runs the poison item retries + 1 times alone before it fails', async () => {
      const s = stage(crash, { onError: 'skip', retries: 2 });
      await runThrough(s, items(['exit']));
      // One re-run to find it alone, two retries of it: three re-runs.
      expect(s.stats.retried).to.equal(3);
      expect(s.stats.skipped).to.equal(1);
    });

    it('fails with WORKER_DIED and the real error when a timer throws inside the worker', async () => {
      const out = await runThrough(stage(crash, { onError: 'emit' }), items(['ok', 'timer-throw', 'ok']));
      expect(shown(out)).to.deep.equal([0, 'WORKER_DIED', 2]);
      expect(((out[1] as StageError).cause as Error).message).to.equal('timer of item 1');
    });

    it('fails with WORKER_DIED when the function runs out of memory under resourceLimits', async () => {
      const s = stage(crash, { onError: 'emit', retries: 0, resourceLimits: { maxOldGenerationSizeMb: 32 } });
      const out = await runThrough(s, items(['ok', 'oom', 'ok']));
      expect(shown(out)).to.deep.equal([0, 'WORKER_DIED', 2]);
      expect(String((out[1] as StageError).cause)).to.match(/memory/i);
    });
  });

  describe('options.timeout', () => {
    it('fails an item that never returns with TIMEOUT and replaces its worker', async () => {
      const s = stage(crash, { onError: 'emit', timeout: 300 });
      const out = await runThrough(s, items(['ok', 'hang', 'ok', 'ok']));
      expect(shown(out)).to.deep.equal([0, 'TIMEOUT', 2, 3]);
      expect((out[1] as StageError).message).to.match(/300 ms/);
    });

    it('counts from the item, not from a thread\'s start or its function\'s load', async () => {
      // A pool of its own: its thread starts cold, and each thread loads the
      // 400 ms module before it can run an item under the 150 ms limit.
      const pool = createWorkerPool({ threads: 2 });
      const other = createWorkerPool({ threads: 2 });
      try {
        const slow = { module: fixture('slow-load.js'), export: 'double' };
        expect(await runThrough(stage(slow, { timeout: 150, pool, concurrency: 2 }), [1, 2, 3, 4, 5, 6])).to.deep.equal([2, 4, 6, 8, 10, 12]);
        // A stage started first loads it on one thread in start(); the other gets it with its first item.
        const started = stage(slow, { name: 'started', timeout: 150, pool: other, concurrency: 2 });
        await started.start();
        expect(await runThrough(started, [1, 2, 3, 4])).to.deep.equal([2, 4, 6, 8]);
      } finally {
        await Promise.all([pool.close(), other.close()]);
      }
    });

    it('is refused for a main-thread stage, which cannot be stopped', () => {
      expect(() => stage((x: number) => x, { thread: false, timeout: 10 })).to.throw(TypeError, /options\.timeout needs thread: true/);
    });
  });

  describe('values that cannot cross', () => {
    it('wraps a rejection with a non-Error value in a StageError that shows it', async () => {
      const out = await runThrough(stage(crash, { onError: 'emit' }), items(['reject-string']));
      const error = out[0] as StageError;
      expect(error.code).to.equal('FUNCTION_FAILED');
      expect(error.message).to.include('plain string reason');
    });

    it('fails a result that is a function with DATA_CLONE, and only that item', async () => {
      const out = await runThrough(stage(crash, { onError: 'emit' }), items(['ok', 'return-function', 'ok']));
      expect(shown(out)).to.deep.equal([0, 'DATA_CLONE', 2]);
      expect((out[1] as StageError).seq).to.equal(1);
    });

    it('fails a result that is a symbol with DATA_CLONE', async () => {
      const out = await runThrough(stage(crash, { onError: 'emit' }), items(['return-symbol']));
      expect(shown(out)).to.deep.equal(['DATA_CLONE']);
    });

    it('fails an input that cannot be cloned with DATA_CLONE without crashing the host', async () => {
      const out = await runThrough(stage((x: unknown) => x, { onError: 'emit' }), [1, { f: () => 2 }, 3]);
      expect(shown(out)).to.deep.equal([1, 'DATA_CLONE', 3]);
      expect((out[1] as StageError).message).to.match(/item 1 cannot be sent/);
    });

    it('rejects the pipeline with DATA_CLONE under the default policy', async () => {
      const error = await rejectionOf(runThrough(stage((x: unknown) => x), [Symbol('no')]));
      expect(error).to.be.instanceOf(StageError);
      expect((error as StageError).code).to.equal('DATA_CLONE');
    });
  });

  describe('a dead-letter stream', () => {
    it('receives { error, item } for each failed item while the others flow on', async () => {
      const deadLetters = new PassThrough({ objectMode: true });
      const dead: Array<{ error: StageError; item: unknown }> = [];
      deadLetters.on('data', (letter: { error: StageError; item: unknown }) => dead.push(letter));
      const s = stage((x: number) => { if (x % 3 === 0) throw new Error(`bad ${x}`); return x; }, { onError: deadLetters });
      const out = await runThrough(s, [1, 2, 3, 4, 5, 6]);
      expect(out).to.deep.equal([1, 2, 4, 5]);
      expect(dead.map((d) => d.item)).to.deep.equal([3, 6]);
      expect(dead.map((d) => d.error.code)).to.deep.equal(['FUNCTION_FAILED', 'FUNCTION_FAILED']);
      expect(s.stats.failed).to.equal(2);
    });
  });

  describe('stopping early', () => {
    it('rejects with an AbortError when the signal aborts mid-stream', async () => {
      const controller = new AbortController();
      const s = stage(crash, { signal: controller.signal });
      const endless = Readable.from((function* () { for (let id = 0; ; id++) yield { id, crash: 'ok' }; })());
      const sink = new Collector();
      const done = pipeline(endless, s, sink);
      // Abort once items flow, not after a fixed time: on a loaded machine the
      // worker may take longer than any fixed wait to start.
      s.once('data', () => controller.abort());
      const error = await rejectionOf(done);
      expect((error as Error).name).to.equal('AbortError');
      expect(sink.chunks.length).to.be.greaterThan(0);
    });

    it('rejects with ERR_STREAM_PREMATURE_CLOSE when the stage is destroyed mid-stream', async () => {
      const s = stage((x: number) => x);
      const endless = Readable.from((function* () { for (let i = 0; ; i++) yield i; })());
      const done = pipeline(endless, s, new Collector());
      setTimeout(() => s.destroy(), 100);
      const error = await rejectionOf(done);
      expect((error as NodeJS.ErrnoException).code).to.equal('ERR_STREAM_PREMATURE_CLOSE');
    });

    it('closes the stage when a consumer breaks out of for await', async () => {
      const s = stage((x: number) => x * 2);
      Readable.from((function* () { for (let i = 0; ; i++) yield i; })()).pipe(s);
      const seen: number[] = [];
      for await (const x of s) {
        seen.push(x);
        if (seen.length === 5) break;
      }
      expect(seen).to.deep.equal([0, 2, 4, 6, 8]);
      expect(s.destroyed).to.equal(true);
    });
  });
});
