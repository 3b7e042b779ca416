// The stage function of the distributed example. Worker processes load this
// module by path (`--stage ./work.js#fingerprint`); the producer names the
// same module and export, and only data crosses between them.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

export interface Doc {
  id: number;
  text: string;
}

export interface Fingerprint {
  id: number;
  sha256: string;
  /** Which process computed it: host and pid. */
  worker: string;
}

// Enough hashing to be worth shipping out: about a quarter of a millisecond.
const ROUNDS = 200;

export function fingerprint(doc: Doc): Fingerprint {
  let digest = doc.text;
  for (let i = 0; i < ROUNDS; i++) digest = createHash('sha256').update(digest).digest('hex');
  return { id: doc.id, sha256: digest, worker: `${hostname()}:${process.pid}` };
}
