// Stream entries as both sides read and write them. Values cross with
// v8.serialize: the structured clone algorithm, so a remote stage takes and
// returns the same values as a stage on threads (Map, Date, BigInt, Buffer,
// typed arrays), and never code.

import { deserialize, serialize } from 'node:v8';
import type { BatchReply } from '../protocol.js';
import type { RawReply } from './connection.js';
import { Field, ReplyKind } from './keys.js';

/** A batch's reply as it crosses: the worker's reply, plus when the worker sent it. */
export interface WireReply extends BatchReply {
  /** The worker's clock when it wrote the reply, seconds since the epoch. */
  sentAt: number;
}

/** One stream entry: its id and its fields by name. */
export interface Entry {
  id: string;
  fields: Map<string, Buffer>;
}

export function encode(value: unknown): Buffer {
  return serialize(value);
}

export function decode<T>(payload: Buffer | undefined): T {
  if (payload === undefined) throw new Error('stream entry without a payload');
  return deserialize(payload) as T;
}

/** The arguments of XADD after the key and id, for a request. */
export function requestFields(replyTo: string, batch: number, alone: boolean, payload: Buffer): Array<string | Buffer> {
  return [Field.ReplyTo, replyTo, Field.Batch, String(batch), Field.Alone, alone ? '1' : '0', Field.Data, payload];
}

/** The arguments of XADD after the key and id, for a reply. */
export function replyFields(batch: string, kind: ReplyKind, worker: string, threads: number, payload: Buffer): Array<string | Buffer> {
  return [Field.Batch, batch, Field.Kind, kind, Field.Worker, worker, Field.Threads, String(threads), Field.Data, payload];
}

/** The entries of an XREAD or XREADGROUP reply for one stream (nil when it timed out). */
export function entriesOf(reply: RawReply): Entry[] {
  if (!Array.isArray(reply)) return [];
  const entries: Entry[] = [];
  for (const stream of reply) {
    const list = (stream as RawReply[])[1];
    if (Array.isArray(list)) for (const raw of list) pushEntry(entries, raw);
  }
  return entries;
}

/** The entries of an XAUTOCLAIM reply (cursor, entries, deleted ids), and its next cursor. */
export function claimedOf(reply: RawReply): { cursor: string; entries: Entry[] } {
  const [cursor, list] = reply as [Buffer, RawReply[]];
  const entries: Entry[] = [];
  for (const raw of list) pushEntry(entries, raw);
  return { cursor: cursor.toString(), entries };
}

// An entry deleted while pending comes back with nil fields: skipped.
function pushEntry(entries: Entry[], raw: RawReply): void {
  const [id, flat] = raw as [Buffer, RawReply[] | null];
  if (!Array.isArray(flat)) return;
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1] as Buffer);
  entries.push({ id: id.toString(), fields });
}

export function text(entry: Entry, field: string): string {
  return entry.fields.get(field)?.toString() ?? '';
}
