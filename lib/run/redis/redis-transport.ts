import { checkInteger, checkKnownKeys, checkObject, checkPositive, checkString } from '../../checks.js';
import { makeTransport } from '../transport.js';
import type { Transport } from '../transport.js';
import { redactUrl } from './connection.js';
import type { SentinelOptions } from './connection.js';
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
   * A primary managed by Redis Sentinel: on every connect and reconnect the
   * sentinels are asked, in turn, for the primary's address
   * (`SENTINEL GET-MASTER-ADDR-BY-NAME`), so that the producer follows a
   * failover as it rides out a restart. `url` then gives only the scheme,
   * credentials and database (the sentinels themselves are reached without
   * a password or TLS).
   * @example
   * ```js
   * redisTransport({ sentinel: { name: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }] } })
   * ```
   */
  sentinel?: SentinelOptions;
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
const KNOWN = ['url', 'sentinel', 'prefix', 'connectTimeoutMs', 'tls', 'reconnectDeadlineMs'] as const;
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
  const sentinel = given.sentinel === undefined ? undefined : checkSentinel('options.sentinel', given.sentinel);
  const reconnectDeadlineMs = given.reconnectDeadlineMs === undefined
    ? DEFAULT_RECONNECT_DEADLINE_MS
    : checkInteger('options.reconnectDeadlineMs', given.reconnectDeadlineMs, 0);
  // The client itself never reconnects (reconnectForMs 0): the executor
  // makes new connections, because a server that restarted without its data
  // needs more than the client's replay of queued commands: the group, the
  // reply stream and every batch out, made again.
  const connection = { url, sentinel, connectTimeoutMs, reconnectForMs: 0, tls };
  const where = sentinel === undefined ? `Redis at ${redactUrl(url)}` : `Redis primary "${sentinel.name}" via Sentinel`;
  return makeTransport(`${where}, prefix "${prefix}"`, (stage) =>
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

export function checkSentinel(name: string, value: unknown): SentinelOptions {
  const given = checkObject(name, value);
  checkKnownKeys(name, given, ['name', 'sentinels']);
  const primary = checkString(`${name}.name`, given['name']);
  const list = given['sentinels'];
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`${name}.sentinels must be a non-empty array of { host, port }, got ${Array.isArray(list) ? '[]' : typeof list}`);
  }
  const sentinels = list.map((entry: unknown, i) => {
    const node = checkObject(`${name}.sentinels[${i}]`, entry);
    checkKnownKeys(`${name}.sentinels[${i}]`, node, ['host', 'port']);
    return { host: checkString(`${name}.sentinels[${i}].host`, node['host']), port: checkInteger(`${name}.sentinels[${i}].port`, node['port'], 1) };
  });
  return { name: primary, sentinels };
}
