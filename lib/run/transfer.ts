// Binary data across the thread boundary, used on both sides of it: moving
// it instead of copying (stages with `transfer: true`), and giving Buffers
// back their class, which structured clone drops whether it moves or copies
// (issue 8, item 8). The receiving side cannot tell a Buffer that lost its
// class from a plain Uint8Array, so every Uint8Array it finds (the item, or
// one level inside it) becomes a Buffer over the same memory: no copy, and a
// Buffer is a Uint8Array. Measured on tiny items ({ id, value }, arrays of
// 256): 15-25 ns per item against 0.7-1.2 us for their structured clone.
//
// Only a view that owns its whole ArrayBuffer is moved: small Buffers from
// Buffer.from()/allocUnsafe() are slices of one shared pool, and moving the
// pool would detach memory other code still uses (Node 21+ refuses outright).
// Those are copied, as is everything else.

import { Outcome } from './protocol.js';
import type { BatchReply, ChainError } from './protocol.js';

function ownedBuffer(value: unknown): ArrayBuffer | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const { buffer, byteOffset, byteLength } = value;
  if (!(buffer instanceof ArrayBuffer) || byteOffset !== 0 || byteLength !== buffer.byteLength) return undefined;
  return buffer;
}

function collectOne(value: unknown, into: Set<ArrayBuffer>): void {
  const own = ownedBuffer(value);
  if (own !== undefined) {
    into.add(own);
  } else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    // One level deep: { path, contents } and the like.
    for (const key in value) {
      const inner = ownedBuffer((value as Record<string, unknown>)[key]);
      if (inner !== undefined) into.add(inner);
    }
  }
}

/** The ArrayBuffers to move with these values (each once: moving one twice throws). */
export function transferablesOf(values: readonly unknown[]): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  for (const value of values) collectOne(value, found);
  return [...found];
}

/** The ArrayBuffers to move with a reply's results (a chain's records included). */
export function replyTransferables(reply: BatchReply): ArrayBuffer[] {
  const { kinds, values } = reply.chain ?? reply;
  const found = new Set<ArrayBuffer>();
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === Outcome.Value) collectOne(values[i], found);
    else if (kinds[i] === Outcome.Many && Array.isArray(values[i])) for (const value of values[i] as unknown[]) collectOne(value, found);
  }
  return [...found];
}

// Structured clone turns a Buffer into a plain Uint8Array; give it back.
function asBuffer(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : value;
}

function restoreOne(value: unknown): unknown {
  if (value instanceof Uint8Array) return asBuffer(value);
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key in record) if (record[key] instanceof Uint8Array) record[key] = asBuffer(record[key]);
  }
  return value;
}

/** Turns Uint8Arrays that arrived (top level or one level deep) back into Buffers, in place. */
export function restoreBuffers(values: unknown[]): void {
  for (let i = 0; i < values.length; i++) values[i] = restoreOne(values[i]);
}

/** The same for a reply's results (a chain's records and the data its failures carry included), in place. */
export function restoreReplyBuffers(reply: BatchReply): void {
  const { kinds, values } = reply.chain ?? reply;
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === Outcome.Value) values[i] = restoreOne(values[i]);
    else if (kinds[i] === Outcome.Many && Array.isArray(values[i])) restoreBuffers(values[i] as unknown[]);
    else if (kinds[i] === Outcome.Error && reply.chain !== undefined) restoreFailureData(values[i] as ChainError);
  }
}

function restoreFailureData(failure: ChainError): void {
  failure.data = restoreOne(failure.data);
}
