// A batch's reply on its way back to the producer. v8.serialize and the
// structured clone the threads used differ at the edges (host objects), so a
// result that cannot cross fails alone with DATA_CLONE, as on threads.

import { nowSeconds } from '../../timing/clock.js';
import type { BatchReply } from '../protocol.js';
import { Outcome } from '../protocol.js';
import { serializeError } from '../serialized-error.js';
import { encode } from './wire.js';
import type { WireReply } from './wire.js';

export function encodeReply(reply: BatchReply): Buffer {
  const wire: WireReply = { ...reply, sentAt: nowSeconds() };
  try {
    return encode(wire);
  } catch {
    markUnserializable(wire);
    return encode(wire);
  }
}

function markUnserializable(reply: WireReply): void {
  const failed: number[] = reply.uncloneable ?? [];
  for (let i = 0; i < reply.kinds.length; i++) {
    try {
      encode(reply.values[i]);
    } catch (error) {
      reply.kinds[i] = Outcome.Error;
      reply.values[i] = serializeError(error);
      failed.push(i);
    }
  }
  reply.uncloneable = failed;
}
