// `async-task-pipeline worker`: serves module stages to producers through
// Redis (see lib/run/redis). The redis client is imported only here, when the
// sub-command runs, so that the rest of the command line needs none.

import { hostname, availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { toFileUrl } from '../stage/stage-target.js';
import { parseStageSpec } from './stage-spec.js';
import { EXIT_USAGE, PROGRAM } from './program.js';
import { UsageError } from './usage.js';

export const WORKER_USAGE = `Usage: ${PROGRAM} worker --redis URL --stage ./module.js#export [--name NAME]
       ${PROGRAM} worker --sentinel HOST:PORT,… --sentinel-name NAME [--redis URL] --stage …
         [--stage … [--name …]] [--prefix PREFIX] [--concurrency N] [--reclaim-after MS] [--reconnect-deadline MS] [--consumer NAME]

Serves module stages to producers whose stages have a redisTransport with the
same Redis and prefix. Runs each batch on its own worker threads. SIGTERM or
SIGINT: stops taking batches, finishes and answers those it holds, exits 0.

Options:
  --redis URL           redis://host:port, rediss:// for TLS, redis://user:password@host
                        for an ACL user (or set ATP_REDIS_URL instead). Required
                        unless --sentinel is given; then only its scheme, user,
                        password and database are used.
  --sentinel HOST:PORT,…
                        Ask these sentinels for the primary on every (re)connect and
                        follow a failover, as redisTransport({ sentinel }).
  --sentinel-name NAME  The name the sentinels monitor the primary under (required
                        with --sentinel).
  --prefix PREFIX       Start of every key, as in redisTransport({ prefix }) (default: atp).
  --stage SPEC          A module path or file URL, then #exportName (default: the default
                        export), then optionally :concurrency=N. Repeatable.
  --name NAME           The name of the --stage before it, as in stage()'s options.name
                        (default: the export's name).
  --concurrency N       Threads each stage may use at once (default: this machine's cores);
                        the stages share one pool, as large as the largest of these.
  --reclaim-after MS    Take over batches another worker has held this long without a
                        heartbeat (it died), default 30000. Give all workers the same.
  --reconnect-deadline MS
                        Keep reconnecting this long after Redis is lost (a restart, a
                        failover, a server that stopped answering for 5 s), then exit 1;
                        default 30000, as redisTransport({ reconnectDeadlineMs }).
  --consumer NAME       This process's name in the consumer group (default: host-pid).
                        A restarted process with the same name answers for what its
                        predecessor held at once instead of after --reclaim-after.
  --help                Print this text.

Exit codes: 0 drained after a signal, 1 Redis lost for good or a stage failed to load,
2 bad usage.
`;

export interface WorkerCliOptions {
  help: boolean;
  url: string;
  sentinel: { name: string; sentinels: Array<{ host: string; port: number }> } | undefined;
  prefix: string | undefined;
  stages: Array<{ name: string; url: string; exportName: string | undefined; threads: number }>;
  consumer: string;
  reclaimAfterMs: number;
  reconnectDeadlineMs: number;
}

const OPTIONS = {
  redis: { type: 'string' },
  sentinel: { type: 'string' },
  'sentinel-name': { type: 'string' },
  prefix: { type: 'string' },
  stage: { type: 'string', multiple: true },
  name: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'reclaim-after': { type: 'string' },
  'reconnect-deadline': { type: 'string' },
  consumer: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function parseWorkerArgs(argv: readonly string[], env: NodeJS.ProcessEnv): WorkerCliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, tokens } = parsed;
  const help = values.help;
  const sentinel = sentinelOf(values.sentinel, values['sentinel-name']);
  const url = values.redis ?? env['ATP_REDIS_URL'] ?? (sentinel === undefined ? undefined : 'redis://127.0.0.1');
  if (!help && url === undefined) throw new UsageError('--redis URL is required');
  const concurrency = values.concurrency === undefined ? availableParallelism() : integer('--concurrency', values.concurrency, 1);
  const stages = stagesOf(tokens, concurrency);
  if (!help && stages.length === 0) throw new UsageError('at least one --stage is required');
  return {
    help,
    url: url ?? '',
    sentinel,
    prefix: values.prefix,
    stages,
    consumer: values.consumer ?? `${hostname()}-${process.pid}`,
    reclaimAfterMs: values['reclaim-after'] === undefined ? 30_000 : integer('--reclaim-after', values['reclaim-after'], 1),
    reconnectDeadlineMs: values['reconnect-deadline'] === undefined ? 30_000 : integer('--reconnect-deadline', values['reconnect-deadline'], 1),
  };
}

/** `--sentinel 10.0.0.1:26379,10.0.0.2:26379 --sentinel-name mymaster`, or neither. */
function sentinelOf(list: string | undefined, name: string | undefined): WorkerCliOptions['sentinel'] {
  if (list === undefined && name === undefined) return undefined;
  if (list === undefined) throw new UsageError('--sentinel-name needs --sentinel HOST:PORT,…');
  if (name === undefined || name === '') throw new UsageError('--sentinel needs --sentinel-name NAME');
  const sentinels = list.split(',').map((entry) => {
    const match = /^(.+):(\d+)$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (match === null || !(port >= 1 && port <= 65535)) throw new UsageError(`--sentinel must be HOST:PORT[,HOST:PORT…], got "${entry}"`);
    return { host: match[1]!, port };
  });
  return { name, sentinels };
}

/** The stages in command-line order, each `--name` naming the `--stage` just before it. */
function stagesOf(tokens: ReadonlyArray<{ kind: string; name?: string; value?: string | undefined }>, concurrency: number): WorkerCliOptions['stages'] {
  const stages: WorkerCliOptions['stages'] = [];
  let named = true;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'stage') {
      const spec = parseStageSpec(token.value ?? '');
      let url: string;
      try {
        url = toFileUrl(spec.module);
      } catch (error) {
        throw new UsageError(`--stage ${token.value}: ${(error as Error).message}`);
      }
      stages.push({ name: spec.exportName ?? 'default', url, exportName: spec.exportName, threads: spec.concurrency ?? concurrency });
      named = false;
    } else if (token.name === 'name') {
      if (named) throw new UsageError('--name must follow the --stage it names (once per --stage)');
      stages[stages.length - 1]!.name = token.value ?? '';
      if (token.value === undefined || token.value === '') throw new UsageError('--name needs a name');
      named = true;
    }
  }
  const names = new Set<string>();
  for (const { name } of stages) {
    if (names.has(name)) throw new UsageError(`two --stage options serve the stage "${name}"; give one a --name`);
    names.add(name);
  }
  return stages;
}

function integer(option: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${option} must be an integer >= ${min}, got "${text}"`);
  return value;
}

/** Runs the sub-command: returns the exit code. */
export async function runWorkerCli(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let options: WorkerCliOptions;
  let transport: typeof import('../run/redis/redis-transport.js');
  try {
    options = parseWorkerArgs(argv, process.env);
    if (options.help) {
      io.stdout.write(WORKER_USAGE);
      return 0;
    }
    transport = await importRedisTransport();
    transport.checkRedisUrl('--redis', options.url);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stderr.write(`${PROGRAM} worker: ${error.message}\nTry '${PROGRAM} worker --help' for more information.\n`);
    return EXIT_USAGE;
  }
  const { runWorkerProcess } = await import('../run/redis/worker-process.js');
  return runWorkerProcess({
    url: options.url,
    sentinel: options.sentinel,
    prefix: options.prefix ?? transport.DEFAULT_PREFIX,
    stages: options.stages,
    consumer: options.consumer,
    reclaimAfterMs: options.reclaimAfterMs,
    reconnectDeadlineMs: options.reconnectDeadlineMs,
    log: (line) => io.stderr.write(`${PROGRAM} worker: ${line}\n`),
  });
}

async function importRedisTransport(): Promise<typeof import('../run/redis/redis-transport.js')> {
  try {
    return await import('../run/redis/redis-transport.js');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new UsageError('the worker command needs the redis package: npm install redis');
  }
}
