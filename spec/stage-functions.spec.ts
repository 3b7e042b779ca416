import { relative } from 'node:path';
import { expect } from 'chai';
import { createWorkerPool, stage } from 'async-task-pipeline';
import { fixture, fixturePath, runThrough } from './helpers.js';

describe('stage functions: each way of giving one', () => {
  describe('a module reference', () => {
    it('runs a named export of a module given by absolute path', async () => {
      const out = await runThrough(stage({ module: fixturePath('double.js'), export: 'double' }), [1, 2, 3]);
      expect(out).to.deep.equal([2, 4, 6]);
    });

    it('runs a module given by a path relative to the working directory', async () => {
      const path = relative(process.cwd(), fixturePath('double.js'));
      const out = await runThrough(stage({ module: path, export: 'double' }), [5]);
      expect(out).to.deep.equal([10]);
    });

    it('runs a module given by a file URL object', async () => {
      const out = await runThrough(stage({ module: fixture('double.js'), export: 'double' }), [1, 2]);
      expect(out).to.deep.equal([2, 4]);
    });

    it('runs a module given by a file URL string', async () => {
      const out = await runThrough(stage({ module: fixture('double.js').href, export: 'double' }), [7]);
      expect(out).to.deep.equal([14]);
    });

    it('runs the default export when no export is named', async () => {
      const out = await runThrough(stage({ module: fixture('double.js') }), [1, 2]);
      expect(out).to.deep.equal([11, 12]);
    });

    it('runs a named export of a CommonJS module', async () => {
      const out = await runThrough(stage({ module: fixture('cjs-named.cjs'), export: 'triple' }), [1, 2]);
      expect(out).to.deep.equal([3, 6]);
    });

    it('runs a CommonJS module whose module.exports is the function', async () => {
      const out = await runThrough(stage({ module: fixture('cjs-default.cjs') }), [1, 2]);
      expect(out).to.deep.equal([4, 8]);
    });

    it('keeps module state between calls on its thread', async () => {
      // A pool of one thread of its own: on a shared pool the module's state
      // is the thread's, shared by every stage of that module that ran there.
      const pool = createWorkerPool({ threads: 1 });
      const out = await runThrough(stage({ module: fixture('counter.js'), export: 'count' }, { pool }), ['a', 'b', 'c']);
      const again = await runThrough(stage({ module: fixture('counter.js'), export: 'count' }, { pool }), ['d']);
      await pool.close();
      expect(out).to.deep.equal([1, 2, 3]);
      expect(again, 'a second stage of the module on the same thread').to.deep.equal([4]);
    });

    it('names the stage after the export by default', () => {
      const s = stage({ module: fixture('double.js'), export: 'double' });
      expect(s.name).to.equal('double');
      s.destroy();
    });
  });

  describe('a function sent as source text', () => {
    it('runs an arrow function', async () => {
      const out = await runThrough(stage((x: number) => x + 1), [1, 2]);
      expect(out).to.deep.equal([2, 3]);
    });

    it('runs a `function` expression', async () => {
      const out = await runThrough(stage(function negate(x: number) { return -x; }), [1, 2]);
      expect(out).to.deep.equal([-1, -2]);
    });

    it('runs an async function and awaits its result', async () => {
      const out = await runThrough(stage(async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return x * 10;
      }), [1, 2]);
      expect(out).to.deep.equal([10, 20]);
    });

    it('runs a method-shorthand function', async () => {
      const holder = { square(this: void, x: number): number { return x * x; } };
      const out = await runThrough(stage(holder.square), [3, 4]);
      expect(out).to.deep.equal([9, 16]);
    });

    it('runs an async method-shorthand function', async () => {
      const holder = { async cube(this: void, x: number): Promise<number> { await Promise.resolve(); return x * x * x; } };
      const out = await runThrough(stage(holder.cube), [2]);
      expect(out).to.deep.equal([8]);
    });

    it('runs a generator function', async () => {
      const out = await runThrough(stage(function* twice(x: number) { yield x; yield x; }), [1, 2]);
      expect(out).to.deep.equal([1, 1, 2, 2]);
    });

    it('runs an async generator function', async () => {
      const out = await runThrough(stage(async function* upTo(x: number) {
        for (let i = 0; i < x; i++) {
          await Promise.resolve();
          yield i;
        }
      }), [2, 3]);
      expect(out).to.deep.equal([0, 1, 0, 1, 2]);
    });

    it('names the stage after the function by default', () => {
      const s = stage(function doubleIt(x: number) { return x * 2; });
      expect(s.name).to.equal('doubleIt');
      s.destroy();
    });

    it('uses options.name over the function name', () => {
      const s = stage(function doubleIt(x: number) { return x * 2; }, { name: 'times-two' });
      expect(s.name).to.equal('times-two');
      s.destroy();
    });
  });

  describe('thread: false', () => {
    it('runs a closure on the main thread', async () => {
      const factor = 3;
      const out = await runThrough(stage((x: number) => x * factor, { thread: false }), [1, 2]);
      expect(out).to.deep.equal([3, 6]);
    });

    it('runs a module export on the main thread', async () => {
      const out = await runThrough(stage({ module: fixture('double.js'), export: 'double' }, { thread: false }), [4]);
      expect(out).to.deep.equal([8]);
    });
  });

  describe('options.context', () => {
    it('reaches a function sent as source as its second argument', async () => {
      const s = stage((x: number, context: { factor: number }) => x * context.factor, { context: { factor: 5 } });
      expect(await runThrough(s, [1, 2])).to.deep.equal([5, 10]);
    });

    it('reaches a module export as its second argument', async () => {
      const s = stage({ module: fixture('scale.js'), export: 'scale' }, { context: { factor: 7 } });
      expect(await runThrough(s, [1, 2])).to.deep.equal([7, 14]);
    });

    it('reaches a main-thread function as its second argument', async () => {
      const s = stage((x: number, context: { factor: number }) => x * context.factor, { thread: false, context: { factor: 2 } });
      expect(await runThrough(s, [3])).to.deep.equal([6]);
    });

    it('reaches the function in a stage with concurrency 2', async () => {
      const s = stage((x: number, context: { add: number }) => x + context.add, { concurrency: 2, context: { add: 100 } });
      expect(await runThrough(s, [0, 1, 2, 3, 4, 5])).to.deep.equal([100, 101, 102, 103, 104, 105]);
    });
  });
});
