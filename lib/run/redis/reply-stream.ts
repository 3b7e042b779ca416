// A producer run's side of the server: the stage's group, which it makes if
// no worker has yet, and the run's own reply stream, made before any batch
// is sent and kept alive while the run lives. A producer that dies without
// cleaning up leaves its reply stream for at most REPLY_TTL_MS; workers then
// drop the run's waiting batches unrun (stage-server.ts).

import { isErrorReply, redactUrl } from './connection.js';
import type { RedisConnection } from './connection.js';
import { GROUP, isBusyGroup } from './keys.js';

const REPLY_TTL_MS = 120_000;
// Well within the TTL: a live producer's stream never expires.
const REFRESH_MS = 20_000;

/**
 * Makes what a run needs, on a first connection and again after a restart
 * that lost it: the group (MKSTREAM; BUSYGROUP when it is still there) and
 * the reply stream. Returns the id to read replies after: `lastReplyId` when
 * the stream is still there, else the new stream's first entry.
 */
export async function prepareRun(commands: RedisConnection, requests: string, replies: string, lastReplyId: string): Promise<string> {
  await commands.send(['XGROUP', 'CREATE', requests, GROUP, '0', 'MKSTREAM']).catch((error: unknown) => {
    if (!isBusyGroup(error)) throw error;
  });
  // A reply stream lost with the server's data is read again from its start.
  const kept = Number(await commands.send(['EXISTS', replies])) === 1 && lastReplyId !== '0-0';
  // The reply stream exists before any worker answers: workers add to it
  // with NOMKSTREAM, so that replies to a run that has gone create nothing.
  const opened = String(await commands.send(['XADD', replies, '*', 'open', '1']));
  await commands.send(['PEXPIRE', replies, String(REPLY_TTL_MS)]);
  return kept ? lastReplyId : opened;
}

/**
 * Keeps the reply stream alive until the timer is cleared. The marker is a
 * write Redis refuses at maxmemory as it refuses the workers' replies: a run
 * whose replies cannot be written hears of it (`onFailed`) within REFRESH_MS
 * instead of waiting for ever.
 */
export function keepRepliesAlive(commands: RedisConnection, replies: string, onFailed: (error: unknown) => void): NodeJS.Timeout {
  return setInterval(() => {
    commands.send(['XADD', replies, 'NOMKSTREAM', '*', 'open', '1']).catch(onFailed);
    commands.send(['PEXPIRE', replies, String(REPLY_TTL_MS)]).catch(onFailed);
  }, REFRESH_MS).unref();
}

/** An error reply of a server at maxmemory under noeviction. */
export function isOutOfMemory(error: unknown): boolean {
  return isErrorReply(error) && (error as Error).message.startsWith('OOM');
}

/**
 * Why and what to do. Not a code of its own: the stage fails as on any
 * transport failure, and the message carries the fix.
 */
export function outOfMemory(url: string): string {
  return `failed: Redis at ${redactUrl(url)} refused a batch because it is out of memory (maxmemory); `
    + "give it more memory (maxmemory) and keep maxmemory-policy noeviction, so that it never evicts the stage's streams";
}
