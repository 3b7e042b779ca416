// Batches of producer runs that have gone: their reply stream was deleted
// (the producer closed) or expired (it died). A worker drops them unrun,
// since their results would go to nobody.

import type { RedisConnection } from './connection.js';
import { GROUP, Field } from './keys.js';
import { text } from './wire.js';
import type { Entry } from './wire.js';

/**
 * The runs among these entries' whose reply stream is gone. One EXISTS per
 * run, pipelined: one round trip per read. A failed check counts the run as alive.
 */
export async function goneRuns(commands: RedisConnection, entries: Entry[]): Promise<Set<string>> {
  const runs = [...new Set(entries.map((entry) => text(entry, Field.ReplyTo)))];
  const exists = await Promise.all(runs.map((run) => commands.send(['EXISTS', run]).then(Number, () => 1)));
  return new Set(runs.filter((_, i) => exists[i] === 0));
}

/** A batch of a run that has gone: acknowledged and deleted, never run. */
export async function discard(commands: RedisConnection, requests: string, entry: Entry): Promise<void> {
  await commands.transaction([['XACK', requests, GROUP, entry.id], ['XDEL', requests, entry.id]]);
}
