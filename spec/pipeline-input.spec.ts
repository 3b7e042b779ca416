// What a write to AsyncTaskPipeline means (issue 8, items 5 to 7): a
// resolved write entered, a rejected one never did; stop({ drain: false })
// counts exactly what entered and never came out; a program that feeds more
// than the pipeline holds without reading is told so instead of exiting
// silently.

import { expect } from 'chai';
import { AsyncTaskPipeline, StageError } from 'async-task-pipeline';
import { Gate, fixture, range, removeScripts, runNode, writeScript } from './helpers.js';
import type { ChildResult } from './helpers.js';

async function readAll(p: AsyncTaskPipeline): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of p.generateOutputStream()) out.push(x);
  return out;
}

/**
 * Which of the writes resolved (by item), once all have settled. Called as
 * soon as the writes are made, so that no rejection is left unhandled.
 */
async function resolvedOf(items: readonly number[], writes: ReadonlyArray<Promise<void>>): Promise<number[]> {
  const outcomes = await Promise.allSettled(writes);
  outcomes.forEach((outcome) => {
    if (outcome.status === 'rejected') expect((outcome.reason as StageError).code).to.equal('INVALID_STATE');
  });
  return items.filter((_, i) => outcomes[i]!.status === 'fulfilled');
}

describe('AsyncTaskPipeline input', () => {
  describe('what a write means', () => {
    it('gives out exactly the items whose writes resolved when un-awaited writes race stop()', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 2 });
      p.addStage('id', (x: number) => x);
      await p.start();
      const items = range(12);
      const resolving = resolvedOf(items, items.map((x) => p.processInputData(x)));
      const stopping = p.stop();
      const resolved = await resolving;
      await stopping;
      expect(await readAll(p)).to.deep.equal(resolved);
    });

    it('lets every write made before stop() in, so that none is lost', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 2 });
      p.addStage('id', (x: number) => x);
      await p.start();
      const writes = range(12).map((x) => p.processInputData(x));
      await p.stop();
      await Promise.all(writes);
      expect(await readAll(p)).to.deep.equal(range(12));
    });

    it('lets un-awaited writes made before endInput() in before the input ends', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 2 });
      p.addStage('id', (x: number) => x);
      await p.start();
      const writes = range(12).map((x) => p.processInputData(x));
      p.endInput();
      const out = await readAll(p);
      await Promise.all(writes);
      expect(out).to.deep.equal(range(12));
      await p.stop();
    });

    it('rejects a write made after stop() with INVALID_STATE', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 2 });
      p.addStage('id', (x: number) => x);
      await p.start();
      const stopping = p.stop();
      let caught: unknown;
      try {
        await p.processInputData(1);
      } catch (error) {
        caught = error;
      }
      expect((caught as StageError).code).to.equal('INVALID_STATE');
      await stopping;
      expect(await readAll(p)).to.deep.equal([]);
    });

    it('rejects writes waiting for room with the pipeline\'s error when it fails, and none of them comes out', async () => {
      const p = new AsyncTaskPipeline({ maxQueueSize: 2 });
      p.addStage('picky', (x: number) => { if (x === 1) throw new Error('one'); return x; });
      await p.start();
      const items = range(12);
      const writes = items.map((x) => p.processInputData(x));
      const outcomes = await Promise.allSettled(writes);
      const entered = items.filter((_, i) => outcomes[i]!.status === 'fulfilled');
      const out: unknown[] = [];
      try {
        for await (const x of p.generateOutputStream()) out.push(x);
      } catch {
        // the pipeline's FUNCTION_FAILED, seen by the reader after item 0
      }
      for (const x of out) expect(entered).to.include(x);
      outcomes.forEach((outcome) => {
        if (outcome.status === 'rejected') expect((outcome.reason as StageError).code).to.equal('FUNCTION_FAILED');
      });
      await p.stop().catch(() => undefined);
    });
  });

  describe('stop({ drain: false })', () => {
    // Un-awaited writes, a stage pinned on one item, then a stop that
    // discards: every entered item either came out or is counted, once.
    for (const [total, pinned] of [[12, 0], [12, 3], [40, 10], [40, 25], [100, 60]] as const) {
      it(`counts exactly the entered items that never came out (${total} writes, item ${pinned} in flight)`, async () => {
        const gate = new Gate();
        const p = new AsyncTaskPipeline({ maxQueueSize: 4 });
        p.addStage('gated', { module: fixture('gate.js'), export: 'gated' }, { context: { gate: gate.buffer, only: pinned } });
        p.addStage('id', (x: number) => x, { thread: false });
        await p.start();
        const items = range(total);
        const entering = resolvedOf(items, items.map((x) => p.processInputData(x)));
        // A reader takes what comes out before the pinned item.
        const out: unknown[] = [];
        const reading = (async () => { for await (const x of p.generateOutputStream()) out.push(x); })();
        await gate.whenEntered(pinned + 1);
        const stopping = p.stop({ drain: false });
        gate.open();
        const { discarded } = await stopping;
        await reading;
        const entered = await entering;
        expect(out).to.deep.equal(entered.slice(0, out.length));
        expect(discarded).to.equal(entered.length - out.length);
      });
    }
  });

  describe("the original's quick start with more input than the pipeline holds", function () {
    this.timeout(30_000);
    after(removeScripts);

    const HEADER = `
import { AsyncTaskPipeline } from 'async-task-pipeline';
const p = new AsyncTaskPipeline({ maxQueueSize: 100 });
p.addStage('double', (x) => x * 2);
await p.start();
const items = Array.from({ length: 2000 }, (_, i) => i);
`;

    function context(result: ChildResult): string {
      return `code: ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    }

    it('fails with a StageError that says to read the output while feeding, instead of exiting silently', async () => {
      const result = await runNode(writeScript('quick-start-unread', `${HEADER}
await p.processInputStream(items);
let n = 0;
for await (const x of p.generateOutputStream()) n++;
console.log('read', n);
`));
      expect(result.timedOut, context(result)).to.equal(false);
      expect(result.code, context(result)).to.equal(1);
      expect(result.stderr, context(result)).to.include('StageError').and.to.include('INVALID_STATE');
      expect(result.stderr, context(result)).to.include('generateOutputStream()').and.to.include('stream()');
      expect(result.stdout).to.equal('');
    });

    it('completes when the output is read while the input is fed', async () => {
      const result = await runNode(writeScript('quick-start-read', `${HEADER}
const feeding = p.processInputStream(items);
let n = 0;
for await (const x of p.generateOutputStream()) n++;
await feeding;
await p.stop();
console.log('read', n);
`));
      expect(result.code, context(result)).to.equal(0);
      expect(result.stdout).to.equal('read 2000\n');
    });

    it('completes when a reader comes later while the program is still busy', async () => {
      const result = await runNode(writeScript('quick-start-late-reader', `${HEADER}
setTimeout(async () => {
  let n = 0;
  for await (const x of p.generateOutputStream()) n++;
  console.log('read', n);
}, 300);
await p.processInputStream(items);
`));
      expect(result.code, context(result)).to.equal(0);
      expect(result.stdout).to.equal('read 2000\n');
    });
  });
});
