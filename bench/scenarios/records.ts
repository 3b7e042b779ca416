// Scenario 3, records: JSON-like objects of about 1 KB through two stages.
// Structured clone cost grows with the number of objects and bytes, so here
// the crossing, not the stage, is most of the cost.

import { inlineStages } from '../anchors/inline.js';
import { timeCrossingAnchors } from '../lib/crossing-anchors.js';
import { runThrough } from '../lib/drive.js';
import { timeFusion } from '../lib/fusion.js';
import type { BenchOptions } from '../lib/options.js';
import { startedStages } from '../lib/ours.js';
import { ratio } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { WorkName } from '../lib/work-module.js';
import type { Person } from '../work.js';

const STAGES: WorkName[] = ['normalizeRecord', 'checksumRecord'];
const OURS = 'ours (stream.pipeline of stages)';
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
const CITIES = ['Lisbon', 'Oslo', 'Lima', 'Osaka', 'Quito', 'Accra', 'Hanoi', 'Perth'];

/** A deterministic record of about 1 KB as JSON. */
export function makeRecord(id: number): Person {
  const word = (k: number): string => WORDS[(id * 7 + k * 3) % WORDS.length]!;
  return {
    id,
    name: `Person ${id} ${word(1)}`,
    email: `Person.${id}@Example.COM`,
    active: id % 3 !== 0,
    tags: Array.from({ length: 8 }, (_, k) => `${word(k)}-${k}`),
    address: { street: `${id % 900} ${word(2)} street`, city: CITIES[id % CITIES.length]!, zip: String(10000 + (id % 89999)), country: 'PT' },
    scores: Array.from({ length: 24 }, (_, k) => ((id + 1) * (k + 7)) % 1000),
    note: Array.from({ length: 100 }, (_, k) => word(k)).join(' '),
  };
}

export async function runRecords(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 10_000 : 100_000;
  const nodeMapItems = options.quick ? 2_000 : 10_000;
  const data = Array.from({ length: items }, (_, i) => makeRecord(i));
  const bytes = JSON.stringify(data[0]).length;
  const run = new ScenarioRun('3', `Records: 2 stages over ${items.toLocaleString('en-US')} objects of ~${bytes} bytes as JSON`, options);

  await run.time('inline', items, () => Promise.resolve({ run: () => runThrough(data, inlineStages(STAGES)) }), { note: 'no crossing: the ceiling' });
  const ours = await run.time(OURS, items, async () => {
    const stages = await startedStages(STAGES);
    return { run: () => runThrough(data, stages) };
  });
  const fusion = await timeFusion(run, items, data, STAGES, OURS);
  const { raw, nodeMap } = await timeCrossingAnchors(run, data, STAGES, nodeMapItems);

  run.checks.push(
    ratio('ours / raw-workers', ours.itemsPerSecond, raw.itemsPerSecond, 0.8),
    ratio('ours / node-map', ours.itemsPerSecond, nodeMap.itemsPerSecond, 5),
    ratio(`createPipeline fused / ${fusion.unfusedLabel}`, fusion.fused.itemsPerSecond, fusion.unfused.itemsPerSecond, 1.5),
  );
  run.notes.push(...fusion.notes);
  run.figures.recordBytes = bytes;
  return run.result();
}
