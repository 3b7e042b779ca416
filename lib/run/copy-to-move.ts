// Copying large binary data the cheap way (issue 17). Left to structured
// clone, a Uint8Array goes through V8's serializer: its whole backing
// ArrayBuffer (a 10-byte view of a 1 MB buffer sends 1 MB) is copied into a
// growing buffer, then again on the far side, each time into freshly
// faulted pages. Measured on 2 cores, Node 20, 1 MB Buffers through SHA-256
// at concurrency 2: copied that way ran at 0.55-0.75x moved, with runs
// 1.4-1.6x apart. Copying just the view's bytes once and moving the copy
// costs one copy (0.94-1.0x moved, measured with the copy made by hand), and
// the caller's bytes stay untouched, as a copy promises: nothing needs
// keeping for a retry. Small views (Buffer's 8 KB pool slices among them)
// stay with structured clone, which copies them inline more cheaply than a
// new ArrayBuffer and its transfer would.

const COPY_TO_MOVE_BYTES = 64 * 1024;

/** What to send instead: the values with large views replaced by fresh copies, and those copies' buffers to move. */
export interface CopiedToMove {
  values: unknown[];
  transfer: ArrayBuffer[];
}

function large(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.buffer instanceof ArrayBuffer && value.buffer.byteLength >= COPY_TO_MOVE_BYTES;
}

function copyOf(view: Uint8Array, transfer: ArrayBuffer[]): Uint8Array {
  // allocUnsafeSlow: a buffer of its own, exactly this long, not zero-filled first.
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  transfer.push(copy.buffer);
  return copy;
}

/**
 * Large Uint8Arrays (Buffers) among `values`, the value itself or one level
 * inside it as elsewhere in transfer.ts, copied to be moved; undefined when
 * there is none (the common case costs a type check per value). `values`
 * and what it holds are not changed: an object holding one is sent as a
 * shallow copy with the copy in its place.
 */
export function copiedToMove(values: readonly unknown[]): CopiedToMove | undefined {
  let out: unknown[] | undefined;
  let transfer: ArrayBuffer[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (large(value)) {
      out ??= values.slice();
      transfer ??= [];
      out[i] = copyOf(value, transfer);
    } else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
      let record: Record<string, unknown> | undefined;
      for (const key in value) {
        const inner = (value as Record<string, unknown>)[key];
        if (!large(inner) || !Object.hasOwn(value, key)) continue;
        record ??= { ...(value as Record<string, unknown>) };
        transfer ??= [];
        record[key] = copyOf(inner, transfer);
      }
      if (record !== undefined) {
        out ??= values.slice();
        out[i] = record;
      }
    }
  }
  return out === undefined ? undefined : { values: out, transfer: transfer! };
}
