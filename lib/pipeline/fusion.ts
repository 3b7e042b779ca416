// Fusion: adjacent worker stages whose options allow it run as one chain in
// one worker call, crossing the thread boundary once per item instead of once
// per stage (as Flink chains operators into one task). Measured here, cloning
// a small object to a worker and back costs far more than the work of a light
// stage, so three light stages fused run at about three times the rate of the
// same stages apart (bench scenario 2).

import { isDeepStrictEqual } from 'node:util';
import { Stage } from '../stage/stage.js';
import { FusedTarget } from '../stage/stage-plan.js';

function fusable(stage: Stage): boolean {
  const { settings, members, target } = stage.plan;
  // A subclass (gulpStage) wraps its items in ways a chain would bypass.
  return stage.constructor === Stage && members === undefined && target !== undefined && settings.thread && settings.timeout === undefined &&
    settings.transport === undefined &&
    settings.signal === undefined && !stage.started && stage.listenerCount('data') === 0 && !stage.destroyed;
}

/** Whether `b` may run in the same worker call as `a`. */
function joinable(a: Stage, b: Stage): boolean {
  const x = a.plan.settings;
  const y = b.plan.settings;
  return fusable(a) && fusable(b) && x.concurrency === y.concurrency && x.ordered === y.ordered &&
    x.transfer === y.transfer && x.json === y.json && x.pool === y.pool && x.retries === y.retries && isDeepStrictEqual(x.resourceLimits, y.resourceLimits);
}

/** Groups adjacent joinable stages; a group of one stays as it is. */
export function fusionGroups(stages: readonly Stage[]): Stage[][] {
  const groups: Stage[][] = [];
  for (const s of stages) {
    const current = groups[groups.length - 1];
    if (current !== undefined && joinable(current[current.length - 1]!, s)) current.push(s);
    else groups.push([s]);
  }
  return groups;
}

/** The stream that runs a group: the stage itself, or a fused stage for several. */
export function linkOf(group: readonly Stage[]): Stage {
  return group.length === 1 ? group[0]! : new Stage(new FusedTarget(group));
}
