// A worker's side of a death's suspects: batches a producer sends alone
// (Field.Alone) after a worker died under them, to find the culprit. Under
// several producers one process may hold suspects and batches of other
// runs, so a death counts against a suspect only if the suspect had begun:
// it is marked begun (SADD PREFIX:STAGE:suspects-started) before it runs,
// and a dead process's suspect that had not begun is put back unrun.

import type { RedisConnection } from './connection.js';
import { GROUP, Field } from './keys.js';
import { text } from './wire.js';
import type { Entry } from './wire.js';

/** A batch that must run alone: a suspect of a worker's death. */
export function isSuspect(entry: Entry): boolean {
  return text(entry, Field.Alone) === '1';
}

/** A suspect is about to run: from now on, this process's death is its death. Rejects if unmarked. */
export async function markBegun(commands: RedisConnection, started: string, entry: Entry): Promise<void> {
  await commands.send(['SADD', started, entry.id]);
}

/** Whether a dead process's suspect had begun (and so whether the death was its own). */
export async function hadBegun(commands: RedisConnection, started: string, entry: Entry): Promise<boolean> {
  return Number(await commands.send(['SISMEMBER', started, entry.id])) === 1;
}

/** The entry again at the request stream's end, the old one acknowledged and deleted, all or none. */
export async function putBack(commands: RedisConnection, requests: string, entry: Entry): Promise<void> {
  await commands.transaction([
    ['XADD', requests, '*', ...[...entry.fields].flat()],
    ['XACK', requests, GROUP, entry.id],
    ['XDEL', requests, entry.id],
  ]);
}
