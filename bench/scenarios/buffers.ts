// Scenario 4, buffers: 1 MB Buffers through a hashing stage. Our stage
// copies a Buffer by default and moves it with `transfer: true`; both run in
// turns with piscina copying (per item, the common way) and the raw anchor
// moving and copying, so that copying can be held against moving in the same
// stretch of time.

import os from 'node:os';
import { inlineStages } from '../anchors/inline.js';
import { NodeMapAnchor } from '../anchors/node-map.js';
import { rawStages } from '../anchors/raw-workers.js';
import { runThrough } from '../lib/drive.js';
import type { BenchOptions } from '../lib/options.js';
import { startedStages } from '../lib/ours.js';
import { check, issueTarget, ratio, spreadOf } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';

const STAGES: WorkName[] = ['hashBuffer'];
const MB = 2 ** 20;
/** Issue 17 asks for the spread of copying between runs: five runs, not three, to see it. */
const SPREAD_RUNS = 5;

/**
 * Fresh Buffers for every run (a transfer detaches them), made as they are
 * read so that at most a stage's worth is alive. The first of each run is
 * kept in `seen`, to tell afterwards whether it was moved.
 */
function buffers(count: number, seen: Buffer[]): Iterable<Buffer> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) {
        const buffer = Buffer.allocUnsafeSlow(MB);
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
  const movedSeen: Buffer[] = [];
  const copiedSeen: Buffer[] = [];
  const piscina = new NodeMapAnchor(concurrency);

  const [, move, copy, piscinaCopy, rawMove] = await run.timeAlternating([
    { runner: 'inline', items, prepare: () => Promise.resolve({ run: () => runThrough(buffers(items, []), inlineStages(STAGES)) }) },
    { runner: 'ours (transfer: true, moved)', items, prepare: async () => {
      const stages = await startedStages(STAGES, { concurrency, transfer: true });
      return { run: () => runThrough(buffers(items, movedSeen), stages) };
    } },
    { runner: 'ours (default: copied)', items, prepare: async () => {
      const stages = await startedStages(STAGES, { concurrency });
      return { run: () => runThrough(buffers(items, copiedSeen), stages) };
    } },
    { runner: 'piscina (copied, per item)', items, prepare: () => Promise.resolve({ run: () => piscina.run(buffers(items, []), STAGES) }) },
    { runner: 'raw-workers (transfer)', items, prepare: async () => {
      const stages = await rawStages(STAGES, { concurrency, transfer: true });
      return { run: () => runThrough(buffers(items, []), stages) };
    } },
    { runner: 'raw-workers (copy)', items, prepare: async () => {
      const stages = await rawStages(STAGES, { concurrency });
      return { run: () => runThrough(buffers(items, []), stages) };
    }, extra: { chart: false } },
  ], options.quick ? undefined : SPREAD_RUNS);
  await piscina.close();

  run.checks.push(
    ratio('ours moved / raw-workers (transfer): within 1.5x', move!.itemsPerSecond, rawMove!.itemsPerSecond, 1 / 1.5),
    check('MB/s through ours, copied', (copy!.itemsPerSecond * MB) / 1e6, 'MB/s'),
    issueTarget('1 MB Buffers: copying / moving', copy!.itemsPerSecond / move!.itemsPerSecond, 'x', { atLeast: 0.85 }, `medians of ${copy!.samplesMs!.length} alternating runs`),
    issueTarget('1 MB Buffers: copying, slowest run / fastest', Math.max(...copy!.samplesMs!) / Math.min(...copy!.samplesMs!), 'x', { atMost: 1.3 }, `${spreadOf(copy!)}; moving ${spreadOf(move!)}`),
    issueTarget('1 MB Buffers: copying / piscina copying', copy!.itemsPerSecond / piscinaCopy!.itemsPerSecond, 'x', { atLeast: 1.0 }, `medians of ${copy!.samplesMs!.length} alternating runs`),
  );
  const moved = movedSeen.length > 0 && movedSeen.every(detached);
  const copied = copiedSeen.length > 0 && !copiedSeen.some(detached);
  run.notes.push(`transfer: true ${moved ? 'detached' : 'did NOT detach'} its Buffers; the default ${copied ? 'left them attached (copied)' : 'detached some (moved)'}`);
  run.figures.oursMovedBuffers = moved;
  return run.result();
}
