// The stage functions every scenario runs. One module, loaded identically by
// our stages (`{ module, export }`), by piscina (`name`), by the raw-workers
// anchor and, imported directly, by the inline anchor, so that every runner
// does exactly the same work. Each function takes the item (and an unused
// context, as our stages pass one) and returns a new value: results are
// compared across runners, so every function is deterministic.

import { createHash } from 'node:crypto';

export interface Small {
  id: number;
  value: number;
}

export interface Person {
  id: number;
  name: string;
  email: string;
  active: boolean;
  tags: string[];
  address: { street: string; city: string; zip: string; country: string };
  scores: number[];
  note: string;
  total?: number;
  checksum?: number;
}

// About 1 ms of integer work on this machine (calibrated by hand: 600k rounds
// of an xor-multiply mix took 0.98 ms on Node 20 here). A fixed count, not a
// clock, so that every thread computes the same result.
const BUSY_ROUNDS = 600_000;

function mix(seed: number, rounds: number): number {
  let h = seed | 0;
  for (let i = 0; i < rounds; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
  return h;
}

/** About 1 ms of CPU work. */
export function busy1ms(item: Small): Small {
  return { id: item.id, value: mix(item.value, BUSY_ROUNDS) };
}

/** Light stages: nearly no work, so the cost measured is the stage's own. */
export function addOne(item: Small): Small {
  return { id: item.id, value: item.value + 1 };
}

export function double(item: Small): Small {
  return { id: item.id, value: item.value * 2 };
}

export function negate(item: Small): Small {
  return { id: item.id, value: -item.value };
}

/** Returns its input: the trivial stage of the light-load scenario. */
export function identity<T>(item: T): T {
  return item;
}

/** Record stage 1: a little string and number work over a ~1 KB object. */
export function normalizeRecord(record: Person): Person {
  let total = 0;
  for (const score of record.scores) total += score;
  return { ...record, name: record.name.toUpperCase(), email: record.email.toLowerCase(), total };
}

/** Record stage 2: a checksum over the note and tags, kept beside the record. */
export function checksumRecord(record: Person): Person {
  let sum = 0;
  const text = record.note + record.tags.join(',');
  for (let i = 0; i < text.length; i++) sum = (sum * 31 + text.charCodeAt(i)) | 0;
  return { ...record, checksum: sum };
}

/** SHA-256 of a buffer, as hex. A worker receives a Buffer as a Uint8Array; both hash alike. */
export function hashBuffer(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
