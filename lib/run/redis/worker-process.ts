// A worker process: serves one or more module stages from their Redis
// request streams, all on one local pool of worker threads, until SIGTERM or
// SIGINT, then finishes and answers what it holds and exits 0. It loads only
// the modules named on its command line; messages carry data, never code.

import { StageError, describe } from '../../errors.js';
import type { StepSpec } from '../protocol.js';
import { PoolExecutor } from '../pool-executor.js';
import { ThreadPool } from '../thread-pool.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../worker-pool.js';
import { RedisConnection, redactUrl } from './connection.js';
import type { SentinelOptions } from './connection.js';
import { StageServer } from './stage-server.js';

const CONNECT_TIMEOUT_MS = 5_000;
// A stage's reader blocks 1 s at a time, so it hears from Redis every
// second: this much silence means the server stopped answering (frozen, or
// a network that drops packets), and the reader reconnects, as the
// producer's does (redis-executor.ts).
const SILENCE_TIMEOUT_MS = 5_000;
// The command connection is kept hearing from Redis (a PING this often), so
// that the same silence limit applies to it: a server frozen under a command
// (the group made at start, an answer) makes it reconnect instead of wait for ever.
const PING_EVERY_MS = 1_000;

/** One stage a worker process serves. */
export interface ServedStage {
  name: string;
  /** The module as a file URL. */
  url: string;
  exportName: string | undefined;
  threads: number;
}

export interface WorkerProcessOptions {
  url: string;
  /** Follow the primary these sentinels name (--sentinel, --sentinel-name). */
  sentinel: SentinelOptions | undefined;
  prefix: string;
  stages: ServedStage[];
  consumer: string;
  reclaimAfterMs: number;
  /** Ride out a server restart or a network blip this long, then give up (exit code 1) so that a supervisor sees it. */
  reconnectDeadlineMs: number;
  log: (line: string) => void;
}

interface Served {
  /** Threads every stage shares: as many as the stage that may use the most. */
  threads: ThreadPool;
  pools: PoolExecutor[];
  pinger: NodeJS.Timeout | undefined;
  readers: RedisConnection[];
  servers: StageServer[];
}

/** Runs until a signal drains it (resolves 0) or Redis is lost for good or a module fails to load (1). */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<number> {
  const { log } = options;
  let commands: RedisConnection;
  try {
    commands = await RedisConnection.open({
      url: options.url, sentinel: options.sentinel, connectTimeoutMs: CONNECT_TIMEOUT_MS, reconnectForMs: options.reconnectDeadlineMs,
      silenceTimeoutMs: SILENCE_TIMEOUT_MS,
    });
  } catch (error) {
    log(`could not reach Redis at ${redactUrl(options.url)}: ${describe(error)}`);
    return 1;
  }
  const threads = new ThreadPool({
    threads: Math.max(...options.stages.map((s) => s.threads)),
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    resourceLimits: undefined,
  });
  const pinger = setInterval(() => { commands.send(['PING']).catch(() => undefined); }, PING_EVERY_MS).unref();
  const served: Served = { threads, pools: [], pinger, readers: [], servers: [] };
  try {
    await startStages(options, commands, served);
  } catch (error) {
    log(error instanceof StageError ? error.message : `could not start: ${describe(error)}`);
    await closeAll(commands, served);
    return 1;
  }
  const failed = await serveUntilStopped(options, commands, served);
  await closeAll(commands, served);
  return failed ? 1 : 0;
}

/** A stage on the pool, started (so that a module that cannot load stops us now), and a reader per stage. */
async function startStages(options: WorkerProcessOptions, commands: RedisConnection, served: Served): Promise<void> {
  for (const stage of options.stages) {
    const pool = stagePool(stage, served.threads);
    served.pools.push(pool);
    await pool.start();
    pool.warmUp();
    const reader = await openReader(options, commands);
    served.readers.push(reader);
    served.servers.push(new StageServer({ ...options, stage: stage.name, threads: stage.threads, pool, commands, reader }));
  }
}

/** Serves every stage until a signal, a lost connection or a failed stage stops them all; true when not by a signal. */
async function serveUntilStopped(options: WorkerProcessOptions, commands: RedisConnection, served: Served): Promise<boolean> {
  const { log } = options;
  let failed = false;
  const stopAll = (): void => {
    for (const server of served.servers) server.stop();
  };
  for (const connection of [commands, ...served.readers]) {
    connection.onLost((error) => {
      if (failed) return;
      failed = true;
      log(`lost its connection to Redis at ${redactUrl(options.url)} for ${options.reconnectDeadlineMs} ms (--reconnect-deadline): ${describe(error)}; stopping`);
      stopAll();
      // The batches held can no longer be answered: end their threads now.
      void served.threads.close();
    });
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: finishing the batches held, then exiting`);
    stopAll();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  for (const stage of options.stages) {
    log(`serving stage "${stage.name}" on ${stage.threads} thread(s) from ${redactUrl(options.url)}, prefix "${options.prefix}", as "${options.consumer}"`);
  }
  // One stage that cannot go on (its group cannot be made: no permission)
  // stops the others too, so that the process exits and says why.
  await Promise.all(served.servers.map((server) => server.serve().catch((error: unknown) => {
    if (!failed) log(`stopped: ${describe(error)}`);
    failed = true;
    stopAll();
  })));
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return failed;
}

/**
 * A stage's reader, tried again until --reconnect-deadline: a server that
 * froze or went away during the start-up is waited for as after it (each
 * attempt ends within the silence limit), not a reason to exit.
 */
async function openReader(options: WorkerProcessOptions, commands: RedisConnection): Promise<RedisConnection> {
  const deadline = Date.now() + options.reconnectDeadlineMs;
  for (;;) {
    try {
      return await commands.duplicate({ silenceTimeoutMs: SILENCE_TIMEOUT_MS });
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      options.log(`could not open a reader on Redis at ${redactUrl(options.url)}: ${describe(error)}; trying again`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function closeAll(commands: RedisConnection, served: Served): Promise<void> {
  clearInterval(served.pinger);
  await Promise.all(served.pools.map((pool) => pool.close()));
  await served.threads.close();
  for (const reader of served.readers) reader.close();
  commands.close();
}

function stagePool(stage: ServedStage, threads: ThreadPool): PoolExecutor {
  const spec: StepSpec = { kind: 'module', url: stage.url, exportName: stage.exportName, name: stage.name };
  const target = `${stage.exportName === undefined ? 'the default export' : `export "${stage.exportName}"`} of ${stage.url}`;
  return new PoolExecutor({
    stage: stage.name,
    steps: [{ name: stage.name, target }],
    init: { steps: [{ spec, context: undefined, emitErrors: false }], transfer: false, json: false },
    concurrency: stage.threads,
    timeoutMs: undefined,
    pool: threads,
    ownsPool: false,
  });
}
