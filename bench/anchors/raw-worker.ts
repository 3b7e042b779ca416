// Worker side of the raw-workers anchor: runs each batch through one export of
// bench/work.ts (or, for a fused chain, through several in turn) and posts the
// results back as one message.

import { parentPort, workerData } from 'node:worker_threads';
import * as work from '../work.js';
import type { RawBatch, RawReply, RawWorkerData } from './raw-protocol.js';

const { exportNames } = workerData as RawWorkerData;
const fns = exportNames.map((name) => work[name] as (item: unknown) => unknown);
const fn = fns.length === 1 ? fns[0]! : (item: unknown): unknown => fns.reduce((value, f) => f(value), item);
const port = parentPort!;

port.on('message', (batch: RawBatch) => {
  const results = new Array<unknown>(batch.items.length);
  for (let i = 0; i < batch.items.length; i++) results[i] = fn(batch.items[i]);
  const reply: RawReply = { id: batch.id, results };
  port.postMessage(reply);
});
port.postMessage('ready');
