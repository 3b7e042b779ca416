// A user-side batch: one pool call runs one export of bench/work.ts over an
// array of items, the way a user cuts the cost of a call per item.

import * as work from '../work.js';
import type { WorkName } from '../lib/work-module.js';

export interface BatchTask {
  name: WorkName;
  items: unknown[];
}

export function batch(task: BatchTask): unknown[] {
  const fn = work[task.name] as (item: unknown) => unknown;
  const out = new Array<unknown>(task.items.length);
  for (let i = 0; i < task.items.length; i++) out[i] = fn(task.items[i]);
  return out;
}
