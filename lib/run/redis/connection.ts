// The one module that imports the `redis` client (node-redis), an optional
// peer dependency: only `async-task-pipeline/redis` and the `worker` command
// reach this file. Everything else in this folder sends raw commands through
// a RedisConnection and reads raw RESP2 replies, with every string as a
// Buffer, so that v8-serialized payloads cross untouched.

import { ErrorReply, createClient, RESP_TYPES } from 'redis';

/** A RESP2 reply: bulk strings as Buffers, integers as numbers, nil as null. */
export type RawReply = Buffer | string | number | null | RawReply[];
export type Command = ReadonlyArray<string | Buffer>;

export interface ConnectionOptions {
  /** `redis://` or `rediss://` URL, with `user:password@` for an ACL user. */
  url: string;
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

function makeClient(options: ConnectionOptions, onGiveUp: (error: Error) => void) {
  let lostAt = 0;
  let ready = false;
  // RESP2 keeps every reply a plain array (RESP3 would make maps of some).
  return createClient({
    url: options.url,
    RESP: 2,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      ...(options.silenceTimeoutMs === undefined ? {} : { socketTimeout: options.silenceTimeoutMs }),
      ...(options.tls ?? {}),
      reconnectStrategy: (retries: number, cause: Error) => {
        // A first connection that fails (refused, bad password) is final:
        // reconnecting is for a connection that worked and was lost.
        if (options.reconnectForMs === 0 || !ready) {
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

  private constructor(private readonly options: ConnectionOptions, private readonly client: Client) {}

  /** Connects; rejects with the client's error (refused, timed out, bad credentials). */
  static async open(options: ConnectionOptions): Promise<RedisConnection> {
    const made: { connection?: RedisConnection } = {};
    let firstError: Error | undefined;
    const client = makeClient(options, (cause) => made.connection?.lose(cause));
    // node-redis throws an 'error' with no listener; the failure reaches us
    // through connect() or the reconnect strategy instead.
    client.on('error', (error: Error) => { firstError ??= error; });
    const connection = new RedisConnection(options, client);
    made.connection = connection;
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      throw firstError ?? error;
    }
    return connection;
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
    return this.client.sendCommand<RawReply>(command);
  }

  /** Runs the commands as one MULTI … EXEC transaction. */
  async transaction(commands: readonly Command[]): Promise<RawReply[]> {
    const multi = this.client.multi();
    for (const command of commands) multi.sendCommand(command);
    return (await multi.exec()) as unknown as RawReply[];
  }

  /**
   * Whether the connection keeps the process alive. A producer lets go of
   * it while nothing is out, so that a program whose remote stage sits idle
   * exits by itself, as with idle worker threads.
   */
  keepAlive(alive: boolean): void {
    if (alive) this.client.ref();
    else this.client.unref();
  }

  /** Closes at once; commands in flight are rejected. Safe to call twice. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
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
