// Where a producer and its workers meet: keys made of the prefix and the
// stage's name. Put a hash tag in the prefix (`{docs}`) when the server is a
// Redis Cluster or a proxy that shards by key: a worker's reply touches the
// request stream and the reply stream in one MULTI, so a stage's keys must
// live on one shard.

/** The consumer group every worker of a stage joins. */
export const GROUP = 'workers';

/** The stream of batches waiting for a worker: one per stage. */
export function requestKey(prefix: string, stage: string): string {
  return `${prefix}:${stage}:requests`;
}

/** The stream one producer run reads its replies from. */
export function replyKey(prefix: string, stage: string, run: string): string {
  return `${prefix}:${stage}:replies:${run}`;
}

/**
 * The set of suspect entries (Field.Alone) a worker process has begun to
 * run: a dead process's suspect counts a death only if it had begun.
 */
export function startedKey(prefix: string, stage: string): string {
  return `${prefix}:${stage}:suspects-started`;
}

/** Field names of stream entries: one letter each, they travel with every batch. */
export const Field = {
  /** Request: the reply stream. */
  ReplyTo: 'r',
  /** Request and reply: the producer's batch id. */
  Batch: 'b',
  /** Request: '1' when the batch is a suspect of a worker's death and must run alone. */
  Alone: 'a',
  /** Request and reply: the v8-serialized payload. */
  Data: 'd',
  /** Reply: what happened (see ReplyKind). */
  Kind: 'k',
  /** Reply: the worker's consumer name. */
  Worker: 'w',
  /** Reply: the worker's thread count for this stage. */
  Threads: 't',
} as const;

/** What a reply entry reports. */
export const ReplyKind = {
  /** The batch ran: the payload is a WireReply. */
  Done: 'done',
  /** The batch's worker process or thread died: the payload is the cause, a SerializedError. */
  Died: 'died',
  /** The worker could not run the batch at all (its stage failed to reload): a SerializedError. */
  Failed: 'failed',
} as const;
export type ReplyKind = (typeof ReplyKind)[keyof typeof ReplyKind];

/** Error replies meaning "already exists", which creating a group twice gets. */
export function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP');
}
