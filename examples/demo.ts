// `npm start`: generates documents, runs them through three worker stages with
// createPipeline, prints results and the latency report, and writes the HTML
// run report (to $DEMO_REPORT, default demo-report.html here).

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPipeline, stage } from 'async-task-pipeline';
import { duration, explain } from './demo-advice.js';
import type { Scored } from './demo-work.js';

const DOCS = Number(process.env.DEMO_DOCS ?? 2000);
const work = new URL('./demo-work.js', import.meta.url);
const words = ['stream', 'worker', 'thread', 'batch', 'latency', 'queue', 'stage', 'node', 'pipeline', 'item'];

function* documents(count: number): Generator<{ id: number; text: string }> {
  let seed = 42;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let id = 0; id < count; id++) {
    const length = 20 + (next() % 80);
    yield { id, text: Array.from({ length }, () => words[next() % words.length]).join(' ') };
  }
}

const cores = availableParallelism();
const docs = createPipeline([
  stage({ module: work, export: 'countWords' }),
  stage({ module: work, export: 'fingerprint' }, { concurrency: cores }),
  stage({ module: work, export: 'keepHighScores' }, { context: { threshold: 0.5 } }),
]);

const kept: Scored[] = [];
const started = performance.now();
await pipeline(
  Readable.from(documents(DOCS)),
  docs,
  new Writable({
    objectMode: true,
    write(doc: Scored, _encoding, callback) {
      kept.push(doc);
      callback();
    },
  }),
);
const seconds = (performance.now() - started) / 1000;

const ms = duration;
const summary = docs.getLatencySummary();
console.log(`async-task-pipeline demo: ${DOCS} generated documents, ${cores} cores`);
console.log(`kept ${kept.length} of ${summary.counts.received} (score >= 0.5) in ${seconds.toFixed(2)} s, ${(DOCS / seconds).toFixed(0)} docs/s`);
console.log('first results:');
for (const doc of kept.slice(0, 3)) console.log(`  #${doc.id}: ${doc.words} words, digest ${doc.digest}, score ${doc.score.toFixed(3)}`);
console.log('\nlatency per item: avg %s, p50 %s, p95 %s, p99 %s, max %s',
  ms(summary.avgTotalLatency), ms(summary.p50TotalLatency), ms(summary.p95TotalLatency),
  ms(summary.p99TotalLatency), ms(summary.maxTotalLatency));
console.log('\nstage          received emitted filtered  avg latency  computation  queue wait  transmission');
for (const [name, s] of Object.entries(summary.stageStatistics)) {
  const t = s.timingBreakdown;
  console.log(
    `${name.padEnd(14)} ${String(s.received).padStart(8)} ${String(s.emitted).padStart(7)} ${String(s.filtered).padStart(8)}` +
      `  ${ms(s.avgLatency).padStart(11)}  ${ms(t.avgComputationTime).padStart(11)}  ${ms(t.avgQueueWaitTime).padStart(10)}  ${ms(t.avgTransmissionTime).padStart(12)}`,
  );
}
console.log('');
for (const line of explain(summary)) console.log(line);
console.log(`\n${summary.bottleneck === null ? `bottleneck: none (${summary.throughput.limitedBy})` : `bottleneck: ${summary.bottleneck.stage}`}. ${summary.throughput.advice}`);

const report = resolve(process.env.DEMO_REPORT ?? 'demo-report.html');
writeFileSync(report, docs.getHtmlReport({ title: `async-task-pipeline demo: ${DOCS} documents` }));
console.log(`\nrun report: ${report} (open it in a browser)`);
