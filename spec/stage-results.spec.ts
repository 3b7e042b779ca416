import { expect } from 'chai';
import { PipelineItem, createPipeline, stage } from 'async-task-pipeline';
import { runThrough } from './helpers.js';

// Inputs are indexes into a table of results, so that the function returns
// values that could never be written into an object-mode stream (null).
const RESULTS = [0, '', false, null, undefined, 'kept', Number.NaN];

describe('stage results: filtering, fan-out and single values', () => {
  describe('filtering', () => {
    it('drops items whose function returns null or undefined in a worker', async () => {
      const s = stage((i: number) => [0, '', false, null, undefined, 'kept'][i]);
      const out = await runThrough(s, [0, 1, 2, 3, 4, 5]);
      expect(out).to.deep.equal([0, '', false, 'kept']);
    });

    it('drops items whose function returns null or undefined on the main thread', async () => {
      const s = stage((i: number) => RESULTS[i], { thread: false });
      const out = await runThrough(s, [0, 1, 2, 3, 4, 5, 6]);
      expect(out).to.deep.equal([0, '', false, 'kept', Number.NaN]);
    });

    it('drops items whose async function resolves to null', async () => {
      const s = stage(async (x: number) => { await Promise.resolve(); return x % 2 === 0 ? x : null; });
      expect(await runThrough(s, [1, 2, 3, 4])).to.deep.equal([2, 4]);
    });

    it('counts dropped items as filtered', async () => {
      const s = stage((x: number) => (x < 3 ? null : x));
      await runThrough(s, [0, 1, 2, 3, 4]);
      expect(s.stats.filtered).to.equal(3);
      expect(s.stats.emitted).to.equal(2);
    });

    it('keeps the order of the items that pass', async () => {
      const s = stage((x: number) => (x % 3 === 0 ? undefined : x), { concurrency: 2 });
      const inputs = Array.from({ length: 30 }, (_, i) => i);
      expect(await runThrough(s, inputs)).to.deep.equal(inputs.filter((x) => x % 3 !== 0));
    });
  });

  describe('fan-out', () => {
    it('emits each value a generator yields as its own item, in order', async () => {
      const s = stage(function* pair(x: number) { yield x; yield x + 100; });
      expect(await runThrough(s, [1, 2, 3])).to.deep.equal([1, 101, 2, 102, 3, 103]);
    });

    it('emits each value an async generator yields as its own item, in order', async () => {
      const s = stage(async function* spell(x: string) {
        for (const letter of x) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          yield letter;
        }
      });
      expect(await runThrough(s, ['ab', 'cde'])).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    });

    it('keeps fan-out outputs in input order with concurrency 2', async () => {
      const s = stage(function* copies(x: number) { for (let i = 0; i < x % 4; i++) yield `${x}.${i}`; }, { concurrency: 2 });
      const inputs = Array.from({ length: 40 }, (_, i) => i);
      const expected = inputs.flatMap((x) => Array.from({ length: x % 4 }, (_, i) => `${x}.${i}`));
      expect(await runThrough(s, inputs)).to.deep.equal(expected);
    });

    it('emits fan-out on the main thread like in a worker', async () => {
      const s = stage(function* pair(x: number) { yield x; yield -x; }, { thread: false });
      expect(await runThrough(s, [1, 2])).to.deep.equal([1, -1, 2, -2]);
    });

    it('treats a generator that yields nothing as a filtered item', async () => {
      const s = stage(function* none(x: number) { if (x > 1) yield x; });
      expect(await runThrough(s, [0, 1, 2])).to.deep.equal([2]);
      expect(s.stats.filtered).to.equal(2);
    });

    it('counts the outputs beyond the first of each fan-out', async () => {
      const s = stage(function* copies(x: number) { for (let i = 0; i < x; i++) yield x; });
      await runThrough(s, [1, 2, 3]);
      expect(s.stats.emitted).to.equal(6);
      expect(s.stats.fanOut).to.equal(3);
    });

    it('gives each fan-out output its own envelope with the input seq', async () => {
      const s = stage(function* pair(x: number) { yield x; yield x * 10; });
      const out = (await runThrough(s, [new PipelineItem(1, 0), new PipelineItem(2, 1)])) as PipelineItem[];
      expect(out.map((item) => item.data)).to.deep.equal([1, 10, 2, 20]);
      expect(out.map((item) => item.seq)).to.deep.equal([0, 0, 1, 1]);
      expect(new Set(out).size).to.equal(4);
    });

    it('does not end the stream early when a generator yields null', async () => {
      const s = stage(function* withNull(x: number) { yield x; yield null; yield x + 1; });
      const out = await runThrough(s, [1, 10]);
      expect(out.filter((x) => x !== null && x !== undefined)).to.deep.equal([1, 2, 10, 11]);
    });

    it('does not end a createPipeline output early when a generator yields null', async () => {
      const p = createPipeline([stage(function* withNull(x: number) { yield x; yield null; yield x + 1; })]);
      const out = await runThrough(p, [1, 10]);
      expect(out.filter((x) => x !== null && x !== undefined)).to.deep.equal([1, 2, 10, 11]);
    });
  });

  describe('single values', () => {
    it('emits a returned array as one value', async () => {
      const s = stage((x: number) => [x, x]);
      expect(await runThrough(s, [1, 2])).to.deep.equal([[1, 1], [2, 2]]);
    });

    it('emits a returned Set as one value', async () => {
      const s = stage((x: number) => new Set([x]));
      const out = await runThrough(s, [1]);
      expect(out).to.have.length(1);
      expect(out[0]).to.be.instanceOf(Set);
    });

    it('emits 0, empty string and false as values', async () => {
      const s = stage((x: unknown) => x);
      expect(await runThrough(s, [0, '', false])).to.deep.equal([0, '', false]);
    });
  });
});
