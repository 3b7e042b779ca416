// The two worker anchors of the throughput scenarios (2 and 3), timed the
// same way for both: raw-workers with one crossing per stage, and node-map
// over piscina on a slice of the data (it is slow).

import os from 'node:os';
import { NodeMapAnchor } from '../anchors/node-map.js';
import { rawStages } from '../anchors/raw-workers.js';
import { runThrough } from './drive.js';
import type { Row } from './report.js';
import type { ScenarioRun } from './scenario-run.js';
import type { WorkName } from './work-module.js';

export async function timeCrossingAnchors(
  run: ScenarioRun,
  data: readonly unknown[],
  stages: readonly WorkName[],
  nodeMapItems: number,
): Promise<{ raw: Row; nodeMap: Row }> {
  const raw = await run.time('raw-workers (one crossing per stage)', data.length, async () => {
    const chain = await rawStages(stages, { concurrency: 1 });
    return { run: () => runThrough(data, chain) };
  });
  const anchor = new NodeMapAnchor(os.availableParallelism());
  const nodeMapData = data.slice(0, nodeMapItems);
  const nodeMap = await run.time('node-map (piscina)', nodeMapItems, () => Promise.resolve({ run: () => anchor.run(nodeMapData, stages) }));
  await anchor.close();
  return { raw, nodeMap };
}
