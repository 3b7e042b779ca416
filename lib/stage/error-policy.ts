// What an item's failure becomes under its stage's onError policy. One place
// for it, used by a stage on its own and by each stage of a fused chain.

import type { StageError } from '../errors.js';
import type { ErrorPolicy } from './stage-options.js';
import type { StageStats } from './stage-stats.js';

/** What the stage must do after the policy has counted the failure. */
export type PolicyVerdict =
  /** Nothing: the item is dropped. */
  | { kind: 'drop' }
  /** Pass the StageError downstream in the item's place. */
  | { kind: 'emit' }
  /** Destroy the stage with this error ('fail', or a handler that threw). */
  | { kind: 'fatal'; error: Error };

const DROP: PolicyVerdict = { kind: 'drop' };
const EMIT: PolicyVerdict = { kind: 'emit' };

export function applyPolicy(policy: ErrorPolicy, error: StageError, data: unknown, stats: StageStats): PolicyVerdict {
  if (policy === 'fail') return { kind: 'fatal', error };
  if (policy === 'skip') {
    stats.skipped++;
    return DROP;
  }
  stats.failed++;
  if (policy === 'emit') return EMIT;
  if (typeof policy === 'function') {
    try {
      policy(error, data);
    } catch (thrown) {
      return { kind: 'fatal', error: thrown instanceof Error ? thrown : new Error(String(thrown)) };
    }
    return DROP;
  }
  // A dead-letter stream: it sees each failure once; its own backpressure is
  // its business, as the failures are few and already in memory.
  policy.write({ error, item: data });
  return DROP;
}
