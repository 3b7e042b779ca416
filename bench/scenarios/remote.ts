// Scenarios redis-1 and redis-2, a stage on worker processes through Redis Streams
// (`redisTransport`), against a redis-server started here. redis-1: tiny items,
// batched, remote against the same stage on a local thread; what Redis did
// per batch. redis-2: CPU-bound items on one, then two worker processes.
// Skipped, saying so, where redis-server is not installed.

import { randomUUID } from 'node:crypto';
import { stage } from 'async-task-pipeline';
import { redisTransport } from 'async-task-pipeline/redis';
import { runThrough } from '../lib/drive.js';
import type { BenchOptions } from '../lib/options.js';
import { BenchRedis, perBatch, redisServerAvailable } from '../lib/redis.js';
import { ratio } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import { WORK_MODULE } from '../lib/work-module.js';
import type { Small } from '../work.js';

// Deep enough that batches fill while others are out (see README, Distributed).
const HIGH_WATER_MARK = 4096;

function skipped(run: ScenarioRun): ScenarioResult {
  console.log('   SKIPPED: redis-server is not on PATH (apt-get install redis-server)');
  run.notes.push('skipped: redis-server is not installed');
  return run.result();
}

async function remoteStage(url: string, prefix: string, name: 'double' | 'busy1ms') {
  const s = stage({ module: WORK_MODULE, export: name }, { transport: redisTransport({ url, prefix }), highWaterMark: HIGH_WATER_MARK });
  await s.start();
  return s;
}

export async function runRemoteTiny(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 20_000 : 200_000;
  const run = new ScenarioRun('redis-1', `Remote stage through Redis: ${items.toLocaleString('en-US')} tiny items, batched`, options);
  if (!redisServerAvailable()) return skipped(run);
  const data: Small[] = Array.from({ length: items }, (_, i) => ({ id: i, value: i }));
  const redis = await BenchRedis.start();
  try {
    const prefix = `bench-${randomUUID().slice(0, 8)}`;
    const local = await run.time('local: one worker thread', items, async () => {
      const s = stage({ module: WORK_MODULE, export: 'double' }, { highWaterMark: HIGH_WATER_MARK });
      await s.start();
      return { run: () => runThrough(data, [s]) };
    });
    await redis.startWorker(prefix, WORK_MODULE, ['double'], 1);
    const before = redis.stats();
    const remote = await run.time('remote: one worker process, one thread', items, async () => {
      const s = await remoteStage(redis.url, prefix, 'double');
      return { run: () => runThrough(data, [s]) };
    });
    const redisWork = perBatch(before, redis.stats());
    run.checks.push(ratio('remote / local thread, tiny items', remote.itemsPerSecond, local.itemsPerSecond));
    const runs = options.warmups + options.runs;
    const itemsPerBatch = (items * runs) / Math.max(1, redisWork.batches);
    run.figures.batches = redisWork.batches;
    run.figures.itemsPerBatch = Math.round(itemsPerBatch);
    run.figures.redisCpuMicrosecondsPerBatch = Math.round(redisWork.cpuMicrosecondsPerBatch);
    run.figures.redisCommandsPerBatch = JSON.stringify(redisWork.commands);
    run.notes.push(
      `Redis per batch: ${Object.entries(redisWork.commands).map(([name, count]) => `${name} ${count}`).join(', ')}; ` +
        `${redisWork.cpuMicrosecondsPerBatch.toFixed(0)} µs of Redis CPU per batch of ~${itemsPerBatch.toFixed(0)} items ` +
        `(one Redis core: ~${Math.round(1e6 / Math.max(1, redisWork.cpuMicrosecondsPerBatch)).toLocaleString('en-US')} batches/s)`,
    );
    return run.result();
  } finally {
    await redis.stop();
  }
}

export async function runRemoteScaling(options: BenchOptions): Promise<ScenarioResult> {
  const items = options.quick ? 300 : 3_000;
  const run = new ScenarioRun('redis-2', `Remote stage through Redis: ${items.toLocaleString('en-US')} CPU-bound items (~1 ms), 1 then 2 worker processes`, options);
  if (!redisServerAvailable()) return skipped(run);
  const data: Small[] = Array.from({ length: items }, (_, i) => ({ id: i, value: i }));
  const redis = await BenchRedis.start();
  try {
    const prefix = `bench-${randomUUID().slice(0, 8)}`;
    const trial = async () => {
      const s = await remoteStage(redis.url, prefix, 'busy1ms');
      return { run: () => runThrough(data, [s]) };
    };
    await redis.startWorker(prefix, WORK_MODULE, ['busy1ms'], 1);
    const one = await run.time('remote: one worker process, one thread', items, trial);
    await redis.startWorker(prefix, WORK_MODULE, ['busy1ms'], 1);
    const two = await run.time('remote: two worker processes, one thread each', items, trial);
    // On a machine with two cores, shared, 2x is the ceiling.
    run.checks.push(ratio('two worker processes / one, CPU-bound', two.itemsPerSecond, one.itemsPerSecond));
    return run.result();
  } finally {
    await redis.stop();
  }
}
