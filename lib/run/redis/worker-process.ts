// A worker process: serves one or more module stages from their Redis
// request streams, each on a local pool of worker threads, until SIGTERM or
// SIGINT, then finishes and answers what it holds and exits 0. It loads only
// the modules named on its command line; messages carry data, never code.

import { StageError, describe } from '../../errors.js';
import type { StepSpec } from '../protocol.js';
import { WorkerPool } from '../worker-pool.js';
import { RedisConnection, redactUrl } from './connection.js';
import type { ConnectionOptions } from './connection.js';
import { StageServer } from './stage-server.js';

// A worker rides out a server restart or a network blip this long, then
// gives up (exit code 1) so that its supervisor sees the failure.
const RECONNECT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

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
  prefix: string;
  stages: ServedStage[];
  consumer: string;
  reclaimAfterMs: number;
  log: (line: string) => void;
}

/** Runs until a signal drains it (resolves 0) or Redis is lost for good or a module fails to load (1). */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<number> {
  const { log } = options;
  const connection: ConnectionOptions = { url: options.url, connectTimeoutMs: CONNECT_TIMEOUT_MS, reconnectForMs: RECONNECT_MS };
  let commands: RedisConnection;
  try {
    commands = await RedisConnection.open(connection);
  } catch (error) {
    log(`could not reach Redis at ${redactUrl(options.url)}: ${describe(error)}`);
    return 1;
  }
  const pools: WorkerPool[] = [];
  const readers: RedisConnection[] = [];
  const servers: StageServer[] = [];
  let lost: Error | undefined;
  function closeAll(): void {
    for (const reader of readers) reader.close();
    commands.close();
  }
  function stopAll(): void {
    for (const server of servers) server.stop();
  }
  try {
    for (const stage of options.stages) {
      const pool = stagePool(stage);
      pools.push(pool);
      await pool.start();
      const reader = await commands.duplicate();
      readers.push(reader);
      servers.push(new StageServer({ ...options, stage: stage.name, threads: stage.threads, pool, commands, reader }));
    }
  } catch (error) {
    log(error instanceof StageError ? error.message : `could not start: ${describe(error)}`);
    await Promise.all(pools.map((pool) => pool.close()));
    closeAll();
    return 1;
  }
  for (const connectionOf of [commands, ...readers]) {
    connectionOf.onLost((error) => {
      if (lost !== undefined) return;
      lost = error;
      log(`lost its connection to Redis at ${redactUrl(options.url)} for ${RECONNECT_MS} ms: ${describe(error)}; stopping`);
      stopAll();
      // The batches held can no longer be answered: end their threads now.
      for (const pool of pools) void pool.close();
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
  try {
    await Promise.all(servers.map((server) => server.serve()));
  } catch (error) {
    if (lost === undefined) log(`stopped: ${describe(error)}`);
    lost ??= error as Error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await Promise.all(pools.map((pool) => pool.close()));
    closeAll();
  }
  return lost === undefined ? 0 : 1;
}

function stagePool(stage: ServedStage): WorkerPool {
  const spec: StepSpec = { kind: 'module', url: stage.url, exportName: stage.exportName, name: stage.name };
  const target = `${stage.exportName === undefined ? 'the default export' : `export "${stage.exportName}"`} of ${stage.url}`;
  return new WorkerPool({
    stage: stage.name,
    steps: [{ name: stage.name, target }],
    init: { steps: [{ spec, context: undefined, emitErrors: false }], transfer: false },
    concurrency: stage.threads,
    timeoutMs: undefined,
  });
}
