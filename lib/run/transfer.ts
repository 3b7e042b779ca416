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

// Moved bytes are gone from this thread until the worker answers; if it dies
// (or a batch times out) they die with it. A batch whose worker died is run
// again, and a failed item goes to onError, so while a batch is in flight this
// side keeps a copy of what it moved (issue 8, item 1). Measured on this
// machine: copying 1 MB costs 150-280 us, against a moved round trip of 12-17
// us and a copied one of 565-615 us; moved with the kept copy, 192-199 us. At
// 64 KB every way is within the round trip's own noise (35-86 us).

/** One moved view's copy and where it sat in the batch. */
interface KeptView {
  index: number;
  /** The property it sat in, or undefined for the item itself. */
  key: string | undefined;
  copy: ArrayBuffer;
  rebuild: (bytes: ArrayBuffer) => ArrayBufferView;
}

/** Copies of the bytes a batch moves, to put back where they were. */
export class KeptBytes {
  private readonly views: KeptView[] = [];
  private readonly copies = new Map<ArrayBuffer, ArrayBuffer>();

  /** Copies the bytes that transferablesOf(inputs) would move; undefined when there are none. */
  static of(inputs: readonly unknown[]): KeptBytes | undefined {
    const kept = new KeptBytes();
    for (let i = 0; i < inputs.length; i++) {
      const value = inputs[i];
      if (ownedBuffer(value) !== undefined) {
        kept.keep(i, undefined, value as ArrayBufferView);
      } else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
        const record = value as Record<string, unknown>;
        for (const key in record) if (ownedBuffer(record[key]) !== undefined) kept.keep(i, key, record[key] as ArrayBufferView);
      }
    }
    return kept.views.length === 0 ? undefined : kept;
  }

  /** Puts the kept bytes back into `inputs` (in place), for every item or those `wanted` says. */
  putBack(inputs: unknown[], wanted?: (index: number) => boolean): void {
    for (const { index, key, copy, rebuild } of this.views) {
      if (wanted !== undefined && !wanted(index)) continue;
      if (key === undefined) inputs[index] = rebuild(copy);
      else (inputs[index] as Record<string, unknown>)[key] = rebuild(copy);
    }
  }

  private keep(index: number, key: string | undefined, view: ArrayBufferView): void {
    const buffer = view.buffer as ArrayBuffer;
    // A view already detached has nothing to keep; sending it fails as DATA_CLONE.
    if (isDetached(buffer)) return;
    let copy = this.copies.get(buffer);
    if (copy === undefined) {
      copy = buffer.slice(0);
      this.copies.set(buffer, copy);
    }
    this.views.push({ index, key, copy, rebuild: rebuilderOf(view) });
  }
}

function rebuilderOf(view: ArrayBufferView): (bytes: ArrayBuffer) => ArrayBufferView {
  if (Buffer.isBuffer(view)) return (bytes) => Buffer.from(bytes);
  const View = view.constructor as new (bytes: ArrayBuffer) => ArrayBufferView;
  return (bytes) => new View(bytes);
}

/**
 * Whether an ArrayBuffer was detached (moved away). Node 20 has no
 * `ArrayBuffer.prototype.detached`; a detached buffer has length 0 and
 * refuses a view, which an empty one accepts.
 */
export function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
