// The producer of the distributed example: documents in, fingerprints out in
// order, with the stage's batches run by `async-task-pipeline worker`
// processes wherever they are. Run it as README.md in this folder says:
//   node dist/examples/distributed/producer.js [documents]
// REDIS_URL picks the server (default redis://127.0.0.1:6379).

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPipeline, stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import type { Doc, Fingerprint } from './work.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const count = Number(process.argv[2] ?? 20_000);

function* documents(): Generator<Doc> {
  for (let id = 0; id < count; id++) yield { id, text: `document ${id}: ${'lorem ipsum '.repeat(1 + (id % 7))}` };
}

// The same stage as on local threads, plus a transport: order, errors,
// retries and timing are the same. A deep queue lets batches fill while
// others are out on the network.
const transport = redisTransport({ url, prefix: 'docs' });
const fingerprints = stage<Doc, Fingerprint>(
  { module: new URL('./work.js', import.meta.url), export: 'fingerprint' },
  { transport, highWaterMark: 4096, retries: 2 },
);
const flow = createPipeline<Doc, Fingerprint>([fingerprints]);

const byWorker = new Map<string, number>();
let next = 0;
const started = performance.now();
await pipeline(Readable.from(documents()), flow, new Writable({
  objectMode: true,
  write(result: Fingerprint, _encoding, callback) {
    if (result.id !== next++) throw new Error(`out of order: ${result.id} after ${next - 2}`);
    byWorker.set(result.worker, (byWorker.get(result.worker) ?? 0) + 1);
    callback();
  },
}));
const seconds = (performance.now() - started) / 1000;

const summary = flow.getLatencySummary();
const timing = summary.stageStatistics['fingerprint']?.timingBreakdown;
console.log(`${count} documents fingerprinted in order in ${seconds.toFixed(2)} s (${Math.round(count / seconds)}/s) by ${byWorker.size} worker process(es):`);
for (const [worker, items] of byWorker) console.log(`  ${worker}: ${items}`);
if (timing !== undefined) {
  console.log(`per item: ${(timing.avgComputationTime * 1000).toFixed(3)} ms computing on a worker, ` +
    `${(timing.avgQueueWaitTime * 1000).toFixed(3)} ms waiting and crossing, ${(timing.avgTransmissionTime * 1000).toFixed(3)} ms back and in order`);
}
