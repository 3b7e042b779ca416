// Scenario 4, buffers: 1 MB Buffers through a hashing stage. Issue 4 asks
// that a Buffer owning its whole ArrayBuffer be moved to the worker, not
// copied. We time our stage with such Buffers and with Buffers that are
// slices of a bigger ArrayBuffer (which must be copied), and raw workers
// with and without transfer, and say whether the library moved the memory.

import os from 'node:os';
import { inlineStages } from '../anchors/inline.js';
import { rawStages } from '../anchors/raw-workers.js';
import { runThrough } from '../lib/drive.js';
import type { BenchOptions } from '../lib/options.js';
import { startedStages, transferOptionSupported } from '../lib/ours.js';
import { check, ratio } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { StageOptions } from 'async-task-pipeline';

const STAGES: WorkName[] = ['hashBuffer'];
const MB = 2 ** 20;

/**
 * Fresh Buffers for every run (a transfer detaches them), made as they are
 * read so that at most a stage's worth is alive. `sliced` makes Buffers that
 * share their ArrayBuffer with 8 bytes in front, so they cannot be moved.
 */
function buffers(count: number, sliced: boolean, seen: Buffer[]): Iterable<Buffer> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) {
        const buffer = sliced ? Buffer.allocUnsafeSlow(MB + 8).subarray(8) : Buffer.allocUnsafeSlow(MB);
        buffer.fill(i % 251);
        buffer.writeUInt32LE(i, 0);
        if (i === 0) seen.push(buffer);
        yield buffer;
      }
    },
  };
}

function detached(buffer: Buffer | undefined): boolean {
  return buffer !== undefined && buffer.buffer.byteLength === 0;
}

export async function runBuffers(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 50 : 500;
  const concurrency = os.availableParallelism();
  const run = new ScenarioRun('4', `Buffers: ${items} Buffers of 1 MB through a SHA-256 stage, concurrency ${concurrency}`, options);
  const seen: Buffer[] = [];
  // Moving is opt-in (`transfer: true`) where the library has it.
  const moving = transferOptionSupported();
  const moveOptions = (moving ? { concurrency, transfer: true } : { concurrency }) as StageOptions;

  await run.time('inline', items, () => Promise.resolve({ run: () => runThrough(buffers(items, false, seen), inlineStages(STAGES)) }));
  seen.length = 0;
  const ours = await run.time(moving ? 'ours (transfer: true)' : 'ours (whole-ArrayBuffer Buffers)', items, async () => {
    const stages = await startedStages(STAGES, moveOptions);
    return { run: () => runThrough(buffers(items, false, seen), stages) };
  });
  const oursMoved = seen.length > 0 && seen.every(detached);
  seen.length = 0;
  const oursSliced = await run.time('ours (sliced Buffers: copied)', items, async () => {
    const stages = await startedStages(STAGES, { concurrency });
    return { run: () => runThrough(buffers(items, true, seen), stages) };
  }, { chart: false });
  seen.length = 0;
  const rawMove = await run.time('raw-workers (transfer)', items, async () => {
    const stages = await rawStages(STAGES, { concurrency, transfer: true });
    return { run: () => runThrough(buffers(items, false, seen), stages) };
  });
  const rawMoved = seen.length > 0 && seen.every(detached);
  const rawCopy = await run.time('raw-workers (copy)', items, async () => {
    const stages = await rawStages(STAGES, { concurrency });
    return { run: () => runThrough(buffers(items, false, []), stages) };
  }, { chart: false });

  run.checks.push(
    ratio('ours whole / ours sliced (moving vs copying)', ours.itemsPerSecond, oursSliced.itemsPerSecond, 1.05),
    ratio('ours / raw-workers (transfer): within 1.5x', ours.itemsPerSecond, rawMove.itemsPerSecond, 1 / 1.5),
    ratio('raw-workers transfer / copy', rawMove.itemsPerSecond, rawCopy.itemsPerSecond),
  );
  run.checks.push(check('MB/s through ours', (ours.itemsPerSecond * MB) / 1e6, 'MB/s'));
  run.notes.push(
    oursMoved
      ? 'the library moved the Buffers: their ArrayBuffers were detached on the main thread'
      : 'the library copied the Buffers: their ArrayBuffers were still attached after the run (no move yet)',
    `raw-workers with transfer ${rawMoved ? 'detached' : 'did NOT detach'} its Buffers`,
    '"measurably faster" is read as at least 1.05x',
  );
  run.notes.push(moving ? 'ours moved with `transfer: true`; the sliced run uses the default (copy)' : 'stage() has no `transfer` option: both of our runs use the default');
  run.figures.oursMovedBuffers = oursMoved;
  return run.result();
}
