// What the demo's figures mean, in words a user can act on. Every sentence is
// derived from the summary: which stage, how its work compares with the cost
// of moving an item to a worker and back, and where the rest of the time went.

import type { LatencySummary, StageStatistics } from 'async-task-pipeline';

/** Seconds as a readable duration: microseconds below 0.1 ms, so that small work does not print as 0.00 ms. */
export function duration(seconds: number): string {
  const ms = seconds * 1000;
  if (ms === 0) return '0 ms';
  if (ms < 0.1) return `${(ms * 1000).toFixed(1)} µs`;
  return `${ms.toFixed(2)} ms`;
}

// Below this much work per item, a stage's function costs less than the
// crossing itself can (tens of microseconds for a lone item, as the bench
// measures), so the measured transmission decides; above it, a long
// transmission time is items queued behind a batch, not the crossing.
const LIGHT_WORK_SECONDS = 100e-6;

/** The share of the items' time that was computation, and what to do about each stage's figures. */
export function explain(summary: LatencySummary): string[] {
  const e = summary.overallEfficiency;
  const lines = [
    `${(e.computationEfficiency * 100).toFixed(1)}% of an item's time in the pipeline was spent in stage functions; ` +
      `the other ${(e.overheadRatio * 100).toFixed(1)}% it spent waiting for a worker or crossing between threads.`,
  ];
  const stages = Object.entries(summary.stageStatistics).filter(([, s]) => s.processedCount > 0);
  for (const [name, stats] of stages) {
    const light = lightStage(name, stats);
    if (light !== undefined) lines.push(light);
  }
  const backlog = backlogAt(stages);
  if (backlog !== undefined) lines.push(backlog);
  return lines;
}

/** Advice for a stage whose work per item costs less than moving the item to a worker and back. */
function lightStage(name: string, stats: StageStatistics): string | undefined {
  const { avgComputationTime: work, avgTransmissionTime: crossing } = stats.timingBreakdown;
  if (work >= crossing || work >= LIGHT_WORK_SECONDS) return undefined;
  return `${name}: ${duration(work)} of work per item against ${duration(crossing)} to move it to a worker and back: ` +
    'too little work per item for a thread to pay off. Give it thread: false (it then runs on the main thread), ' +
    'let createPipeline fuse it with a neighbouring worker stage (same concurrency and options), ' +
    'or give each call more work (several items per call).';
}

/** Where most of the waiting was, when waiting is most of the time. */
function backlogAt(stages: Array<[string, StageStatistics]>): string | undefined {
  let worst: [string, StageStatistics] | undefined;
  for (const entry of stages) {
    if (worst === undefined || entry[1].timingBreakdown.avgQueueWaitTime > worst[1].timingBreakdown.avgQueueWaitTime) worst = entry;
  }
  if (worst === undefined) return undefined;
  const [name, stats] = worst;
  const { avgQueueWaitTime: wait, avgComputationTime: work } = stats.timingBreakdown;
  if (wait < 2 * work) return undefined;
  const busiest = stages.reduce((a, b) => (b[1].timingBreakdown.avgComputationTime > a[1].timingBreakdown.avgComputationTime ? b : a));
  return `Most of the waiting was before ${name}: ${duration(wait)} per item for ${duration(work)} of work. ` +
    'Items queue behind one another when the input comes faster than the stages finish (here it comes all at once), ' +
    `so this is the backlog, not a slow crossing. ${busiest[0]} does the most work per item ` +
    `(${duration(busiest[1].timingBreakdown.avgComputationTime)}): more concurrency for it shortens the backlog while cores are idle.`;
}
