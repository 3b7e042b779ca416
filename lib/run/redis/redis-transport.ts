import { checkInteger, checkKnownKeys, checkObject, checkPositive, checkString } from '../../checks.js';
import { makeTransport } from '../transport.js';
import type { Transport } from '../transport.js';
import { redactUrl } from './connection.js';
import { RedisExecutor } from './redis-executor.js';

/** Options of {@link redisTransport}. Each is checked on entry; a bad one throws a TypeError naming it. */
export interface RedisTransportOptions {
  /**
   * The server: `redis://host:port`, `rediss://` for TLS, `redis://user:password@host`
   * for an ACL user, `/db` for a database number.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * Start of every key; workers must be given the same (`--prefix`). Put a
   * hash tag in it (`{docs}`) behind a proxy or cluster that shards by key.
   * @default 'atp'
   */
  prefix?: string;
  /** Milliseconds to wait for the connection before the stage fails with TRANSPORT_FAILED. @default 5000 */
  connectTimeoutMs?: number;
  /** TLS options for `rediss://` (for instance `ca` for a server with a private CA), as in `tls.connect()`. */
  tls?: Record<string, unknown>;
  /**
   * Milliseconds to keep trying after the connection to Redis is lost (a
   * restart, a failover, a network blip): the producer reconnects with a
   * back-off, makes the group and its reply stream again if the server lost
   * them, and sends again every batch not yet answered. Past it, the stage
   * fails with TRANSPORT_FAILED. 0: the first loss fails the stage.
   * @default 30000
   */
  reconnectDeadlineMs?: number;
}

export const DEFAULT_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_PREFIX = 'atp';
const KNOWN = ['url', 'prefix', 'connectTimeoutMs', 'tls', 'reconnectDeadlineMs'] as const;
export const DEFAULT_RECONNECT_DEADLINE_MS = 30_000;

/**
 * A transport that runs a stage's batches on `async-task-pipeline worker`
 * processes, anywhere that reaches the same Redis, through a Redis Streams
 * consumer group. Needs the `redis` package (an optional peer dependency).
 *
 * @example
 * ```js
 * import { stage } from 'async-task-pipeline';
 * import { redisTransport } from 'async-task-pipeline/redis';
 * const transport = redisTransport({ url: 'redis://127.0.0.1:6379', prefix: 'docs' });
 * const fingerprint = stage({ module: './work.js', export: 'fingerprint' }, { transport, highWaterMark: 4096 });
 * // and on any machine: async-task-pipeline worker --redis redis://…:6379 --prefix docs --stage ./work.js#fingerprint
 * ```
 */
export function redisTransport(options: RedisTransportOptions = {}): Transport {
  const given = checkObject('options', options);
  checkKnownKeys('options', given, KNOWN);
  const url = given.url === undefined ? DEFAULT_URL : checkRedisUrl('options.url', given.url);
  const prefix = given.prefix === undefined ? DEFAULT_PREFIX : checkString('options.prefix', given.prefix);
  const connectTimeoutMs = given.connectTimeoutMs === undefined ? 5000 : checkPositive('options.connectTimeoutMs', given.connectTimeoutMs);
  const tls = given.tls === undefined ? undefined : checkObject('options.tls', given.tls);
  const reconnectDeadlineMs = given.reconnectDeadlineMs === undefined
    ? DEFAULT_RECONNECT_DEADLINE_MS
    : checkInteger('options.reconnectDeadlineMs', given.reconnectDeadlineMs, 0);
  // The client itself never reconnects (reconnectForMs 0): the executor
  // makes new connections, because a server that restarted without its data
  // needs more than the client's replay of queued commands: the group, the
  // reply stream and every batch out, made again.
  const connection = { url, connectTimeoutMs, reconnectForMs: 0, tls };
  return makeTransport(`Redis at ${redactUrl(url)}, prefix "${prefix}"`, (stage) =>
    new RedisExecutor({ stage: stage.name, target: stage.target, highWaterMark: stage.highWaterMark, prefix, connection, reconnectDeadlineMs }));
}

export function checkRedisUrl(name: string, value: unknown): string {
  const url = checkString(name, value);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`${name} must be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(`${name} must be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`);
  }
  return url;
}
