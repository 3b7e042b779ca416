// The one module that imports the `redis` client (node-redis), an optional
// peer dependency: only `async-task-pipeline/redis` and the `worker` command
// reach this file. Everything else in this folder sends raw commands through
// a RedisConnection and reads raw RESP2 replies, with every string as a
// Buffer, so that v8-serialized payloads cross untouched.

import { ErrorReply, createClient, RESP_TYPES } from 'redis';
import { primaryUrl, watchSwitches } from './sentinel.js';
import type { SentinelClient, SentinelOptions } from './sentinel.js';

export type { SentinelOptions } from './sentinel.js';

/** A RESP2 reply: bulk strings as Buffers, integers as numbers, nil as null. */
export type RawReply = Buffer | string | number | null | RawReply[];
export type Command = ReadonlyArray<string | Buffer>;

export interface ConnectionOptions {
  /**
   * `redis://` or `rediss://` URL, with `user:password@` for an ACL user.
   * With `sentinel`, only its scheme, credentials and database are used: the
   * host and port are the primary's, as the sentinels name it.
   */
  url: string;
  /** Ask these sentinels for the primary on every (re)connect. */
  sentinel?: SentinelOptions | undefined;
  /** Give up connecting after this long. */
  connectTimeoutMs: number;
  /**
   * Try to reconnect for this long after a lost connection, then give up;
   * 0: never reconnect (the first loss is final).
   */
  reconnectForMs: number;
  /** Extra TLS options (a CA for a self-signed server) for `rediss://`. */
  tls?: Record<string, unknown> | undefined;
  /**
   * Treat the connection as lost after this long without a byte from the
   * server. Only for a connection that hears from it every second (a
   * blocking read of 1 s): it finds a server that stopped answering
   * (stopped, or a network that drops packets) without a command timeout.
   */
  silenceTimeoutMs?: number | undefined;
}

type Client = ReturnType<typeof makeClient>;
const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

function makeClient(options: ConnectionOptions, url: string, onGiveUp: (error: Error) => void) {
  let lostAt = 0;
  let ready = false;
  // RESP2 keeps every reply a plain array (RESP3 would make maps of some).
  return createClient({
    url,
    RESP: 2,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      ...(options.silenceTimeoutMs === undefined ? {} : { socketTimeout: options.silenceTimeoutMs }),
      ...(options.tls ?? {}),
      reconnectStrategy: (retries: number, cause: Error) => {
        // A first connection that fails (refused, bad password) is final:
        // reconnecting is for a connection that worked and was lost.
        // Behind Sentinel the client must not reconnect to the same address
        // (after a failover it is gone, or a replica): RedisConnection asks
        // the sentinels again instead.
        if (options.reconnectForMs === 0 || !ready || options.sentinel !== undefined) {
          onGiveUp(cause);
          return false;
        }
        if (retries === 0 || lostAt === 0) lostAt = Date.now();
        if (Date.now() - lostAt > options.reconnectForMs) {
          onGiveUp(cause);
          return false;
        }
        return Math.min(50 * 2 ** retries, 500);
      },
    },
  }).withTypeMapping(BUFFERS).on('ready', () => { ready = true; });
}

/**
 * One connection to Redis. A blocking read (XREAD … BLOCK) holds its
 * connection, so each reader gets its own (see `duplicate`).
 */
export class RedisConnection {
  private readonly lostListeners: Array<(error: Error) => void> = [];
  private lostError: Error | undefined;
  private closing = false;
  private alive = true;
  // Behind Sentinel, a lost client is replaced by one to the primary the
  // sentinels name now; commands sent meanwhile wait for it.
  private client!: Client;
  private replacing: Promise<Client> | undefined;
  private watcher: { close: () => void } | undefined;
  /** host:port of the server the client was last connected to. */
  private address = '';

  private constructor(private readonly options: ConnectionOptions) {}

  /** Connects; rejects with the client's error (refused, timed out, bad credentials, no primary known). */
  static async open(options: ConnectionOptions): Promise<RedisConnection> {
    const connection = new RedisConnection(options);
    connection.client = await connection.connectClient();
    // After a SENTINEL FAILOVER of a primary that still runs, the old
    // primary takes writes (then lost) until Sentinel converts it and drops
    // its clients, ~10 s later: the sentinels' +switch-master says it at once.
    if (options.sentinel !== undefined) {
      const name = options.sentinel.name;
      connection.watcher = watchSwitches(options.sentinel, options.connectTimeoutMs, sentinelClient, (address) => {
        // A client made after the switch is on the new primary already.
        if (address !== connection.address) connection.switchPrimary(new Error(`the sentinels switched the primary "${name}" to ${address} (+switch-master)`));
      });
    }
    return connection;
  }

  private async connectClient(): Promise<Client> {
    const { sentinel } = this.options;
    const url = sentinel === undefined ? this.options.url : await primaryUrl(this.options.url, sentinel, this.options.connectTimeoutMs, sentinelClient);
    let firstError: Error | undefined;
    const client = makeClient(this.options, url, (cause) => this.down(client, cause));
    // node-redis throws an 'error' with no listener; the failure reaches us
    // through connect() or the reconnect strategy instead.
    client.on('error', (error: Error) => { firstError ??= error; });
    try {
      await client.connect();
      // A sentinel may name the old primary for a moment after a failover,
      // or one that was demoted since: only a primary will do.
      if (sentinel !== undefined) await checkPrimary(client, url);
    } catch (error) {
      client.destroy();
      throw firstError ?? error;
    }
    this.address = new URL(url).host;
    return client;
  }

  /** The client gave up: lost for good, unless the sentinels name a primary within reconnectForMs. */
  private down(client: Client, cause: Error): void {
    if (client !== this.client || this.closing) return;
    if (this.options.sentinel === undefined || this.options.reconnectForMs === 0) {
      this.lose(cause);
      return;
    }
    this.replacing ??= this.replace(cause).then((next) => {
      if (this.closing) next.destroy();
      this.client = next;
      this.replacing = undefined;
      this.keepAlive(this.alive);
      return next;
    }, (error: unknown) => {
      this.lose(error instanceof Error ? error : cause);
      throw error;
    });
    this.replacing.catch(() => undefined);
  }

  private async replace(cause: Error): Promise<Client> {
    const deadline = Date.now() + this.options.reconnectForMs;
    let delay = 50;
    let last = cause;
    while (!this.closing && Date.now() < deadline) {
      try {
        return await this.connectClient();
      } catch (error) {
        last = error instanceof Error ? error : last;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
    throw last;
  }

  /**
   * The sentinels announced a new primary (+switch-master): the
   * client is closed now and replaced through the sentinels, as after a
   * lost connection. Commands in flight on it fail as on a lost connection.
   */
  private switchPrimary(cause: Error): void {
    if (this.closing || this.replacing !== undefined || this.lostError !== undefined) return;
    const old = this.client;
    this.down(old, cause);
    try {
      old.destroy();
    } catch {
      // Already closed.
    }
  }

  private current(): Client | Promise<Client> {
    return this.replacing ?? this.client;
  }

  /** A second connection with the same options, and these. */
  duplicate(overrides: Partial<ConnectionOptions> = {}): Promise<RedisConnection> {
    return RedisConnection.open({ ...this.options, ...overrides });
  }

  /** Why the connection is gone for good, once it is. */
  get lost(): Error | undefined {
    return this.lostError;
  }

  /** Called once when the connection is gone for good (no reconnect left). */
  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  send(command: Command): Promise<RawReply> {
    if (this.replacing === undefined) return this.client.sendCommand<RawReply>(command);
    return this.replacing.then((client) => client.sendCommand<RawReply>(command));
  }

  /** Runs the commands as one MULTI … EXEC transaction. */
  async transaction(commands: readonly Command[]): Promise<RawReply[]> {
    const multi = (await this.current()).multi();
    for (const command of commands) multi.sendCommand(command);
    return (await multi.exec()) as unknown as RawReply[];
  }

  /**
   * Whether the connection keeps the process alive. A producer lets go of
   * it while nothing is out, so that a program whose remote stage sits idle
   * exits by itself, as with idle worker threads.
   */
  keepAlive(alive: boolean): void {
    this.alive = alive;
    if (alive) this.client.ref();
    else this.client.unref();
  }

  /** Closes at once; commands in flight are rejected. Safe to call twice. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.watcher?.close();
    try {
      this.client.destroy();
    } catch {
      // Already closed by the reconnect strategy.
    }
  }

  private lose(cause: Error): void {
    if (this.lostError !== undefined || this.closing) return;
    this.lostError = cause;
    for (const listener of this.lostListeners) listener(cause);
  }
}

/** A plain client to a sentinel, for sentinel.ts: no reconnect, replies as strings. */
function sentinelClient(host: string, port: number, connectTimeoutMs: number): SentinelClient {
  return createClient({ RESP: 2, socket: { host, port, connectTimeout: connectTimeoutMs, reconnectStrategy: false } });
}

async function checkPrimary(client: Client, url: string): Promise<void> {
  const role = await client.sendCommand<RawReply>(['ROLE']);
  const name = Array.isArray(role) ? String(role[0]) : '';
  if (name !== 'master') throw new Error(`${redactUrl(url)} is a ${name}, not the primary, yet`);
}

/**
 * Whether a command failed because the server refused it (an error reply:
 * OOM, NOPERM, WRONGTYPE), not because the connection went: a refusal comes
 * back the same after a reconnect.
 */
export function isErrorReply(error: unknown): boolean {
  return error instanceof ErrorReply;
}

/** The URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href;
  } catch {
    return '(an invalid URL)';
  }
}
