// Message shapes of the raw-workers anchor, shared by both sides.

import type { WorkName } from '../lib/work-module.js';

export interface RawWorkerData {
  /** One export: a stage; several: a fused chain, each item through all of them in one crossing. */
  exportNames: WorkName[];
}

export interface RawBatch {
  id: number;
  items: unknown[];
}

export interface RawReply {
  id: number;
  results: unknown[];
}
