import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import type { Delayed } from './fixtures/delay.js';
import { Gate, collectGarbage, fixture, range, runThrough, seededRandom, sleep, waitUntil } from './helpers.js';

/** Items carrying their own delay, drawn from a seeded source so a failure reproduces. */
function delayedItems(count: number, seed: number, maxDelayMs: number): Delayed[] {
  const random = seededRandom(seed);
  return range(count).map((value) => ({ value, delayMs: Math.floor(random() * maxDelayMs) }));
}

describe('ordering', () => {
  // An ordered stage keeps its tasks in arrival order until they leave; the
  // ones that left stayed in that list (with their inputs) until the list was
  // compacted past 1,024 or emptied: 1 MB Buffers took an ordered stage to
  // 1.3 GB of RSS against 337 MB unordered.
  it('lets go of the inputs it has emitted while later items are still in it', async () => {
    const gate = new Gate();
    const STUCK = 200;
    const refs: Array<WeakRef<object>> = [];
    const source = Readable.from((function* () {
      for (let n = 0; n < 260; n++) {
        const record = { n, pad: 'x'.repeat(1000) };
        refs.push(new WeakRef(record));
        yield record;
      }
    })());
    let received = 0;
    const sink = new Writable({ objectMode: true, write(_chunk, _encoding, callback) { received++; callback(); } });
    const s = stage({ module: fixture('gate.js'), export: 'gatedRecord' }, { concurrency: 1, context: { gate: gate.buffer, only: STUCK } });
    const done = pipeline(source, s, sink);
    try {
      await gate.whenEntered(STUCK + 1);
      // The stuck item's batch (at most half the highWaterMark, 32) waits with it.
      await waitUntil(() => received >= STUCK - 32, 'the items before the stuck batch came out');
      await collectGarbage();
      const alive = refs.slice(0, 150).filter((ref) => ref.deref() !== undefined).length;
      expect(alive, 'emitted inputs still alive').to.equal(0);
    } finally {
      gate.open();
      await done;
    }
    expect(received).to.equal(260);
  });

  it('keeps input order with concurrency 2 and random per-item delays', async () => {
    const items = delayedItems(40, 20240601, 15);
    const s = stage({ module: fixture('delay.js'), export: 'delayed' }, { concurrency: 2 });
    expect(await runThrough(s, items)).to.deep.equal(range(40));
  });

  it('keeps input order with a small highWaterMark and random per-item delays', async () => {
    const items = delayedItems(30, 7, 10);
    const s = stage({ module: fixture('delay.js'), export: 'delayed' }, { concurrency: 2, highWaterMark: 3 });
    expect(await runThrough(s, items)).to.deep.equal(range(30));
  });

  it('keeps input order on the main thread with concurrency 2 and random per-item delays', async () => {
    const items = delayedItems(40, 99, 10);
    const s = stage(async (item: Delayed) => {
      await new Promise((resolve) => setTimeout(resolve, item.delayMs));
      return item.value;
    }, { thread: false, concurrency: 2 });
    expect(await runThrough(s, items)).to.deep.equal(range(40));
  });

  it('emits in completion order with ordered: false', async () => {
    // Item 0 is pinned in its worker until some other item has come out, so
    // the first output cannot be item 0 unless the stage waits for order.
    const gate = new Gate();
    const s = stage({ module: fixture('gate.js'), export: 'gated' }, {
      concurrency: 2,
      ordered: false,
      context: { gate: gate.buffer, only: 0 },
    });
    const out: number[] = [];
    try {
      Readable.from(range(20)).pipe(s);
      for await (const x of s) {
        out.push(x as number);
        gate.open();
      }
    } finally {
      gate.open();
    }
    expect(out[0]).to.not.equal(0);
    expect([...out].sort((a, b) => a - b)).to.deep.equal(range(20));
  });

  it('emits every item once with ordered: false and random per-item delays', async () => {
    const items = delayedItems(40, 12345, 15);
    const s = stage({ module: fixture('delay.js'), export: 'delayed' }, { concurrency: 2, ordered: false });
    const out = (await runThrough(s, items)) as number[];
    expect([...out].sort((a, b) => a - b)).to.deep.equal(range(40));
  });

  it('holds later items back while the first is pinned in an ordered stage', async () => {
    const gate = new Gate();
    const s = stage({ module: fixture('gate.js'), export: 'gated' }, {
      concurrency: 2,
      context: { gate: gate.buffer, only: 0 },
    });
    const out: number[] = [];
    s.on('data', (x: number) => out.push(x));
    const ended = new Promise((resolve) => s.once('end', resolve));
    try {
      Readable.from(range(10)).pipe(s);
      // Items on the other worker run while item 0 waits; give their
      // results time to come back, which an unordered stage would emit.
      await gate.whenEntered(6);
      await sleep(100);
      expect(out).to.deep.equal([]);
    } finally {
      gate.open();
    }
    await ended;
    expect(out).to.deep.equal(range(10));
  });
});
