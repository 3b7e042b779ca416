// onError handlers that make the stage wait: a dead-letter Writable (its
// backpressure, its failures) and an async handler function (issue 8, items 3
// and 4). Each case runs on a stage alone and on a fused chain.

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { StageError, createPipeline, stage } from 'async-task-pipeline';
import type { Duplex } from 'node:stream';
import type { ErrorPolicy } from 'async-task-pipeline';
import { Collector, range, rejectionOf, runThrough, sleep, waitUntil } from './helpers.js';

interface Letter {
  error: StageError;
  item: unknown;
}

/** A dead-letter stream that keeps its letters; `fail` decides which write fails; writes finish on a later turn. */
class LetterBox extends Writable {
  readonly letters: Letter[] = [];
  /** The most letters ever buffered in it at once. */
  maxBuffered = 0;

  constructor(highWaterMark: number, private readonly fail: (count: number) => Error | undefined = () => undefined) {
    super({ objectMode: true, highWaterMark });
  }

  override _write(letter: Letter, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    const error = this.fail(this.letters.length);
    if (error !== undefined) {
      setImmediate(() => callback(error));
      return;
    }
    this.letters.push(letter);
    setImmediate(() => callback());
  }
}

/** Every item fails. */
function alwaysThrows(x: number): number {
  throw new Error(`item ${x} is bad`);
}

/** Throws for 3 only. */
function threeThrows(x: number): number {
  if (x === 3) throw new Error('three is bad');
  return x;
}

/** A deferred promise, settled from outside. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** The stream under test: the stage alone, or fused after an identity stage. */
const shapes: Array<[string, (fn: (x: number) => number, onError: ErrorPolicy) => Duplex]> = [
  ['a stage', (fn, onError) => stage(fn, { name: 'picky', onError })],
  ['a fused chain', (fn, onError) => {
    const p = createPipeline([stage((x: number) => x, { name: 'first' }), stage(fn, { name: 'picky', onError })]);
    expect(p.fusedGroups).to.deep.equal([['first', 'picky']]);
    return p;
  }],
];

function expectOnErrorFailure(error: unknown): StageError {
  expect(error).to.be.instanceOf(StageError);
  const stageError = error as StageError;
  expect(stageError.code, stageError.message).to.equal('ON_ERROR_FAILED');
  expect(stageError.stage).to.equal('picky');
  return stageError;
}

describe('onError handlers that wait', () => {
  for (const [shape, make] of shapes) {
    describe(`a dead-letter Writable, on ${shape}`, () => {
      it('receives every letter, in order, never holding more than its highWaterMark, before the pipeline ends', async () => {
        const box = new LetterBox(4);
        await runThrough(make(alwaysThrows, box), range(1000));
        expect(box.letters.map((l) => l.item)).to.deep.equal(range(1000));
        expect(box.maxBuffered).to.be.at.most(4);
      });

      it('fails the stage with a StageError whose cause is the stream\'s error when a write fails', async () => {
        const box = new LetterBox(4, (count) => (count === 2 ? new Error('disk full') : undefined));
        const error = expectOnErrorFailure(await rejectionOf(runThrough(make(alwaysThrows, box), range(100))));
        expect((error.cause as Error).message).to.equal('disk full');
        expect(error.message).to.include('dead-letter').and.to.include('disk full');
        expect(box.letters).to.have.length(2);
      });

      it('fails the stage at the first letter when the stream has ended since the stage was made', async () => {
        const box = new LetterBox(4);
        const s = make(threeThrows, box);
        box.end();
        const sink = new Collector();
        const error = expectOnErrorFailure(await rejectionOf(pipeline(Readable.from(range(6)), s, sink)));
        expect(error.seq).to.equal(3);
        expect(error.message).to.include('has ended');
        expect(sink.chunks).to.deep.equal([0, 1, 2]);
      });

      it('fails the stage when the stream is destroyed while letters wait in it', async () => {
        // Writes never finish: the letters stay buffered until it is destroyed.
        const box = new Writable({ objectMode: true, highWaterMark: 1000, write: () => undefined });
        box.on('error', () => undefined);
        const s = make(alwaysThrows, box);
        const running = runThrough(s, range(10));
        await waitUntil(() => box.writableLength === 10, '10 letters are buffered');
        box.destroy(new Error('gone'));
        const error = expectOnErrorFailure(await rejectionOf(running));
        expect(error.message).to.include('10 letters');
      });
    });

    describe(`an async handler, on ${shape}`, () => {
      it('emits no later item before the handler\'s promise settles', async () => {
        const handled = deferred();
        let calls = 0;
        const s = make(threeThrows, () => { calls++; return handled.promise; });
        const sink = new Collector();
        const running = pipeline(Readable.from(range(10)), s, sink);
        await waitUntil(() => calls === 1, 'the handler was called');
        // Long enough for items 4..9 to come back from the worker.
        await sleep(200);
        expect(sink.chunks).to.deep.equal([0, 1, 2]);
        handled.resolve();
        await running;
        expect(sink.chunks).to.deep.equal([0, 1, 2, 4, 5, 6, 7, 8, 9]);
      });

      it('fails the stage with a StageError whose cause is the rejection, emitting nothing after the item', async () => {
        const s = make(threeThrows, async () => { await sleep(1); throw new Error('handler gave up'); });
        const sink = new Collector();
        const error = expectOnErrorFailure(await rejectionOf(pipeline(Readable.from(range(10)), s, sink)));
        expect(error.seq).to.equal(3);
        expect((error.cause as Error).message).to.equal('handler gave up');
        expect(sink.chunks).to.deep.equal([0, 1, 2]);
      });
    });
  }

  it('refuses a dead-letter Writable that is not in object mode, naming options.onError', () => {
    const box = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    expect(() => stage(alwaysThrows, { onError: box })).to.throw(TypeError, /options\.onError .*object mode/);
  });

  it('refuses a dead-letter Writable that has already ended, naming options.onError', () => {
    const box = new LetterBox(4);
    box.end();
    expect(() => stage(alwaysThrows, { onError: box })).to.throw(TypeError, /options\.onError/);
  });
});
