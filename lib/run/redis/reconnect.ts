// How a producer gets its connections back after Redis restarted or failed
// over: new connections tried with a bounded back-off until a total deadline,
// so that a server that comes back within it costs a pause, and one that does
// not fails the stage with TRANSPORT_FAILED rather than hang.

import { RedisConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

// Back-off between attempts: from FIRST_DELAY_MS, doubling, at most MAX_DELAY_MS.
// A restart takes from a few hundred ms (no data) to seconds (a large AOF):
// one second at most between attempts adds little to either.
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 1_000;

/** A command connection and a reader, as a producer holds them. */
export interface ConnectionPair {
  commands: RedisConnection;
  reader: RedisConnection;
}

/**
 * Opens the pair again, trying until `deadlineMs` (a Date.now() reading)
 * passes; rejects with the last attempt's error then, or at once when
 * `cancelled()` says the stage closed.
 */
export async function reconnectUntil(
  options: ConnectionOptions,
  readerOverrides: Partial<ConnectionOptions>,
  deadlineMs: number,
  cancelled: () => boolean,
): Promise<ConnectionPair> {
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const left = deadlineMs - Date.now();
    let commands: RedisConnection | undefined;
    const attempt = { ...options, connectTimeoutMs: Math.max(1, Math.min(options.connectTimeoutMs, left)) };
    try {
      commands = await within(RedisConnection.open(attempt), attempt.connectTimeoutMs);
      const reader = await within(commands.duplicate(readerOverrides), attempt.connectTimeoutMs);
      return { commands, reader };
    } catch (error) {
      commands?.close();
      if (cancelled() || Date.now() + delay >= deadlineMs) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
    if (cancelled()) throw new Error('the stage closed while reconnecting');
  }
}

/**
 * Opens the pair again and makes on the server what the run needs
 * (`prepare`), until both succeed or `deadlineMs` passes or `cancelled()`:
 * a pair whose preparation fails (the server went again) is closed and
 * another tried. Rejects with the last error (`cause` if none was tried).
 */
export async function reconnectPrepared(
  options: ConnectionOptions,
  readerOverrides: Partial<ConnectionOptions>,
  deadlineMs: number,
  cancelled: () => boolean,
  prepare: (commands: RedisConnection) => Promise<void>,
  cause: unknown,
): Promise<ConnectionPair> {
  let lastError = cause;
  while (Date.now() < deadlineMs && !cancelled()) {
    let pair: ConnectionPair | undefined;
    try {
      pair = await reconnectUntil(options, readerOverrides, deadlineMs, cancelled);
      await prepare(pair.commands);
      return pair;
    } catch (error) {
      lastError = error;
      pair?.reader.close();
      pair?.commands.close();
    }
  }
  throw lastError;
}

/**
 * The connection, or a timeout error after `ms`: a server that accepts the
 * socket but never answers (stopped with SIGSTOP) would hold the handshake
 * for ever. A connection that comes after all is closed.
 */
function within(opening: Promise<RedisConnection>, ms: number): Promise<RedisConnection> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connect timeout: no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([opening, timeout]).finally(() => clearTimeout(timer)).catch((error: unknown) => {
    void opening.then((late) => late.close(), () => undefined);
    throw error;
  });
}
