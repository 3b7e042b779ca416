// Worker side of the raw-workers anchor: runs each batch through one export of
// bench/work.ts and posts the results back as one message.

import { parentPort, workerData } from 'node:worker_threads';
import * as work from '../work.js';
import type { RawBatch, RawReply, RawWorkerData } from './raw-protocol.js';

const { exportName } = workerData as RawWorkerData;
const fn = work[exportName] as (item: unknown) => unknown;
const port = parentPort!;

port.on('message', (batch: RawBatch) => {
  const results = new Array<unknown>(batch.items.length);
  for (let i = 0; i < batch.items.length; i++) results[i] = fn(batch.items[i]);
  const reply: RawReply = { id: batch.id, results };
  port.postMessage(reply);
});
port.postMessage('ready');
