// Behind Redis Sentinel: which server is the primary now (asked on every
// (re)connect), and word of a failover as the sentinels announce it
// (+switch-master). Sentinels are reached with plain clients that
// connection.ts makes (the one file that imports `redis`).

/** What this file needs of a plain client to a sentinel. */
export interface SentinelClient {
  connect(): Promise<unknown>;
  sendCommand<T>(command: string[]): Promise<T>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  unref(): void;
  destroy(): void;
}

export type MakeClient = (host: string, port: number, connectTimeoutMs: number) => SentinelClient;

/**
 * Where the sentinels of a Sentinel-managed primary are, and its name there
 * (node-redis's `createSentinel` calls these `name` and `sentinelRootNodes`).
 * @example
 * ```js
 * const sentinel = { name: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }] };
 * ```
 */
export interface SentinelOptions {
  /** The name the sentinels monitor the primary under (`sentinel monitor NAME …`). */
  name: string;
  /** The sentinels to ask, in order, until one knows the primary. */
  sentinels: ReadonlyArray<{
    /** A sentinel's host name or address. */
    host: string;
    /** Its port (Sentinel's default is 26379). */
    port: number;
  }>;
}

/**
 * The URL of the primary the sentinels name, with the scheme, credentials
 * and database of `url`. Sentinels are asked in turn with a plain client; the
 * first that names one wins (they agree once a failover is done).
 */
export async function primaryUrl(url: string, sentinel: SentinelOptions, connectTimeoutMs: number, connect: MakeClient): Promise<string> {
  const errors: string[] = [];
  for (const { host, port } of sentinel.sentinels) {
    const client = connect(host, port, connectTimeoutMs);
    client.on('error', () => undefined);
    try {
      await client.connect();
      const reply = await client.sendCommand<[string, string] | null>(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.name]);
      if (reply === null) {
        errors.push(`${host}:${port} knows no primary "${sentinel.name}"`);
        continue;
      }
      const parsed = new URL(url);
      parsed.hostname = String(reply[0]);
      parsed.port = String(reply[1]);
      return parsed.href;
    } catch (error) {
      errors.push(`${host}:${port}: ${(error as Error).message}`);
    } finally {
      client.destroy();
    }
  }
  throw new Error(`no sentinel named the primary "${sentinel.name}" (${errors.join('; ')})`);
}

/**
 * Calls `onSwitch` with the new primary's host:port when a sentinel announces one for
 * `sentinel.name` (+switch-master NAME OLD-IP OLD-PORT NEW-IP NEW-PORT).
 * One plain subscriber connection to the first sentinel that answers, tried
 * again (each in turn, every second) when it drops; unref'd, so that it never
 * holds the process open, and gone at close().
 */
export function watchSwitches(sentinel: SentinelOptions, connectTimeoutMs: number, connect: MakeClient, onSwitch: (address: string) => void): { close: () => void } {
  let closed = false;
  let current: { destroy: () => void } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => { retry = undefined; void subscribe(); }, 1_000).unref();
  };
  const subscribe = async (): Promise<void> => {
    for (const { host, port } of sentinel.sentinels) {
      if (closed) return;
      const client = connect(host, port, connectTimeoutMs);
      current = client;
      client.unref();
      // A sentinel that goes away: another is asked.
      client.on('error', () => { if (client === current) again(); });
      try {
        await client.connect();
        await client.subscribe('+switch-master', (message: string) => {
          const [name, , , host, port] = message.split(' ');
          if (name === sentinel.name) onSwitch(`${host}:${port}`);
        });
        return;
      } catch {
        destroyQuietly(client);
      }
    }
    again();
  };
  void subscribe();
  return {
    close: () => {
      closed = true;
      clearTimeout(retry);
      if (current !== undefined) destroyQuietly(current);
    },
  };
}

function destroyQuietly(client: { destroy: () => void }): void {
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}
