// Where the next batch ends: at the executor's item limit, or sooner once
// its binary data and strings reach MAX_BATCH_BYTES. Copied to a worker, a
// batch is serialized into one buffer that grows as it fills: a batch of
// many 1 MB Buffers meant tens of MB written, regrown and page-faulted in on
// the main thread (the 1 MB case spent 1,155 ms in page faults to
// piscina's 245 ms, which sends one item per message).

import type { Task } from './task.js';

/** Bytes a batch may carry before it is cut (at least one item always goes). */
export const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * Roughly what an item costs to clone, counted only where it is cheap to
 * tell: a typed array or ArrayBuffer (its bytes) and a string (its length).
 * Other values count 0, so batches of small objects are cut by count alone.
 */
function bytesOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (typeof data !== 'object' || data === null) return 0;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  return 0;
}

/** How many tasks from the front of `pending` the next batch takes. */
export function batchSize(pending: readonly Task[], limit: number): number {
  const most = Math.min(limit, pending.length);
  let bytes = 0;
  for (let i = 0; i < most; i++) {
    bytes += bytesOf(pending[i]!.data);
    if (bytes >= MAX_BATCH_BYTES) return i + 1;
  }
  return most;
}
