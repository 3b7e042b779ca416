import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { createPipeline, stage } from 'async-task-pipeline';
import { Gate, fixture, range, sleep, waitUntil } from './helpers.js';

/** A source of `total` numbers that counts how many were pulled from it. */
function countingSource(total: number): { readable: Readable; pulled: () => number } {
  let pulled = 0;
  function* numbers(): Generator<number> {
    for (let i = 0; i < total; i++) {
      pulled++;
      yield i;
    }
  }
  return { readable: Readable.from(numbers()), pulled: () => pulled };
}

/** A sink that takes `delayMs` per item. */
function slowSink(delayMs: number): { writable: Writable; consumed: () => number } {
  let consumed = 0;
  const writable = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(_chunk: unknown, _encoding, callback): void {
      consumed++;
      setTimeout(callback, delayMs);
    },
  });
  return { writable, consumed: () => consumed };
}

// Items a stream chain may hold beyond the stage itself: Readable.from's
// buffer (16), the stage's writable and readable buffers (one highWaterMark
// each), the sink's buffer and one item in each hand-over.
function slack(highWaterMark: number): number {
  return 16 + 2 * highWaterMark + 8;
}

describe('backpressure', () => {
  it('keeps the items held by a stage at or below its highWaterMark under a slow consumer', async () => {
    const highWaterMark = 4;
    const s = stage((x: number) => x * 2, { highWaterMark });
    const source = countingSource(200);
    const sink = slowSink(1);
    await pipeline(source.readable, s, sink.writable);
    expect(sink.consumed()).to.equal(200);
    expect(s.stats.maxItemsHeld).to.be.at.least(1);
    expect(s.stats.maxItemsHeld).to.be.at.most(highWaterMark);
  });

  it('does not drain an endless source ahead of a slow consumer', async () => {
    const highWaterMark = 4;
    const s = stage((x: number) => x + 1, { highWaterMark });
    const source = countingSource(1_000_000);
    let consumed = 0;
    let furthestAhead = 0;
    source.readable.pipe(s);
    const seen: unknown[] = [];
    for await (const x of s) {
      seen.push(x);
      consumed++;
      furthestAhead = Math.max(furthestAhead, source.pulled() - consumed);
      await sleep(2);
      if (consumed === 60) break;
    }
    source.readable.destroy();
    expect(seen).to.deep.equal(range(60).map((x) => x + 1));
    expect(furthestAhead).to.be.at.most(highWaterMark + slack(highWaterMark));
    expect(source.pulled()).to.be.below(60 + highWaterMark + slack(highWaterMark) + 1);
  });

  it('stops pulling from the source while its worker is stuck', async () => {
    const highWaterMark = 4;
    const gate = new Gate();
    const s = stage({ module: fixture('gate.js'), export: 'gated' }, { highWaterMark, context: { gate: gate.buffer } });
    const source = countingSource(100);
    const sink = slowSink(0);
    const done = pipeline(source.readable, s, sink.writable);
    try {
      await gate.whenEntered(1);
      await waitUntil(() => s.stats.itemsHeld === highWaterMark, 'the stage holds highWaterMark items');
      const pulledWhenFull = source.pulled();
      await sleep(100);
      expect(source.pulled()).to.equal(pulledWhenFull);
      expect(s.itemsInside()).to.be.at.most(2 * highWaterMark);
      expect(pulledWhenFull).to.be.at.most(highWaterMark + slack(highWaterMark));
    } finally {
      gate.open();
    }
    await done;
    expect(sink.consumed()).to.equal(100);
  });

  it('keeps every stage of a pipeline at or below its highWaterMark under a slow consumer', async () => {
    const first = stage((x: number) => x + 1, { highWaterMark: 3 });
    const second = stage(function* pair(x: number) { yield x; yield x; }, { highWaterMark: 5 });
    const p = createPipeline([first, second], { highWaterMark: 2, fuse: false });
    const sink = slowSink(1);
    await pipeline(countingSource(100).readable, p, sink.writable);
    expect(sink.consumed()).to.equal(200);
    expect(first.stats.maxItemsHeld).to.be.within(1, 3);
    expect(second.stats.maxItemsHeld).to.be.within(1, 5);
  });

  it('holds a fused chain to the sum of its stages\' highWaterMarks under a slow consumer', async () => {
    const first = stage((x: number) => x + 1, { highWaterMark: 3 });
    const second = stage(function* pair(x: number) { yield x; yield x; }, { highWaterMark: 5 });
    const p = createPipeline([first, second], { highWaterMark: 2 });
    expect(p.links.length, 'the two stages run fused').to.equal(1);
    const sink = slowSink(1);
    await pipeline(countingSource(100).readable, p, sink.writable);
    expect(sink.consumed()).to.equal(200);
    expect(p.links[0]!.stats.maxItemsHeld).to.be.within(1, 8);
  });

  it('sends batches of at most half the highWaterMark, so that one crosses while another runs', async () => {
    // Items of one batch run in one synchronous loop on the worker: a
    // microtask queued by a batch's first item runs once the batch is done,
    // so each item can tell which batch it came in.
    const batchOf = (): number => {
      const state = globalThis as unknown as { batchOpen?: boolean; batchNumber?: number };
      if (state.batchOpen !== true) {
        state.batchOpen = true;
        state.batchNumber = (state.batchNumber ?? 0) + 1;
        queueMicrotask(() => { state.batchOpen = false; });
      }
      return state.batchNumber!;
    };
    const highWaterMark = 16;
    const s = stage(batchOf, { highWaterMark, concurrency: 1 });
    const out: number[] = [];
    await pipeline(Readable.from(range(2000)), s, new Writable({ objectMode: true, write(n: number, _e, cb) { out.push(n); cb(); } }));
    const sizes = new Map<number, number>();
    for (const n of out) sizes.set(n, (sizes.get(n) ?? 0) + 1);
    expect(out).to.have.length(2000);
    expect(Math.max(...sizes.values())).to.be.at.most(highWaterMark / 2);
    expect(sizes.size, 'batches of more than one').to.be.below(1000);
  });
});
