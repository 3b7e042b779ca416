// The producer's side of a remote stage: an Executor whose batches are
// entries of a Redis stream, run by `async-task-pipeline worker` processes
// wherever they are, and answered on a reply stream of this run's own.

import { randomUUID } from 'node:crypto';
import { StageError } from '../../errors.js';
import { nowSeconds } from '../../timing/clock.js';
import { WorkerExit } from '../executor.js';
import type { Executor, RunResult } from '../executor.js';
import type { SerializedError } from '../protocol.js';
import { deserializeError } from '../serialized-error.js';
import { RedisConnection, isErrorReply, redactUrl } from './connection.js';
import { isOutOfMemory, keepRepliesAlive, outOfMemory, prepareRun } from './reply-stream.js';
import type { ConnectionOptions } from './connection.js';
import { Field, ReplyKind, replyKey, requestKey } from './keys.js';
import { decode, encode, entriesOf, requestFields, text } from './wire.js';
import type { Entry, WireReply } from './wire.js';
import { runSendable } from './sendable.js';
import { reconnectPrepared } from './reconnect.js';
import { BatchPacing } from './batch-pacing.js';
import { UnansweredBatches } from './unanswered-batches.js';
import type { Unanswered } from './unanswered-batches.js';

const READ_BLOCK_MS = 1_000;
// The reader hears from Redis at least once per READ_BLOCK_MS: this much
// silence means the server stopped answering.
const SILENCE_TIMEOUT_MS = 5_000;
const READ_COUNT = 1_000;

export interface RedisExecutorOptions {
  stage: string;
  /** For LOAD_FAILED messages: the module and export. */
  target: string;
  highWaterMark: number;
  prefix: string;
  connection: ConnectionOptions;
  /** After a lost connection, reconnect and re-send for this long; 0: the first loss fails the stage. */
  reconnectDeadlineMs: number;
}

export class RedisExecutor implements Executor {
  private readonly requests: string;
  private readonly replies: string;
  private commands: RedisConnection | undefined;
  private reader: RedisConnection | undefined;
  private starting: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;
  private abortStart: ((error: Error) => void) | undefined;
  private closing: Promise<void> | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private readonly outstanding = new UnansweredBatches();
  private lastReplyId = '0-0';
  private readonly pacing: BatchPacing;
  private failure: StageError | undefined;
  /** Set while the connections are being made again; batches wait in `outstanding` meanwhile. */
  private reconnecting: Promise<void> | undefined;
  /** Times the connections were made again (specs read it). */
  reconnects = 0;

  constructor(private readonly options: RedisExecutorOptions) {
    this.requests = requestKey(options.prefix, options.stage);
    this.replies = replyKey(options.prefix, options.stage, randomUUID());
    this.pacing = new BatchPacing(options.highWaterMark);
  }

  start(): Promise<void> {
    // close() during a connect settles start() at once; the connection, if
    // it still comes, is closed by shutDown.
    this.starting ??= Promise.race([
      (this.connecting = this.connect()),
      new Promise<never>((_, reject) => { this.abortStart = reject; }),
    ]);
    return this.starting;
  }

  /** Replies to batches already answered (a worker that was thought dead), dropped (specs read it). */
  get duplicates(): number {
    return this.outstanding.duplicates;
  }

  hasRoom(alone = false): boolean {
    // A failed transport takes the next batch only to reject it: the stage then fails.
    if (this.failure !== undefined) return true;
    // A suspect of a death runs with nothing else of this stage out, so that
    // if its worker process dies again, the suspect is the cause.
    if (this.outstanding.suspects > 0) return false;
    if (alone) return this.outstanding.size === 0;
    return this.outstanding.size < this.pacing.window();
  }

  batchLimit(): number {
    return this.pacing.batchLimit();
  }

  async run(inputs: unknown[], alone = false): Promise<RunResult> {
    if (this.failure !== undefined) throw this.failure;
    let payload: Buffer;
    try {
      payload = encode(inputs);
    } catch {
      return runSendable(inputs, (sendable) => this.run(sendable, alone));
    }
    const { batch, waiting, reply } = this.outstanding.add(alone, payload);
    // While reconnecting the batch waits: the reconnect sends every batch out.
    if (this.reconnecting === undefined) this.send(batch, waiting);
    if (this.outstanding.size === 1) this.keepAlive(true);
    return reply;
  }

  /**
   * Commands sent in one tick go out as one pipeline (node-redis), so the
   * batches of one dispatch cost one round trip.
   */
  private send(batch: number, waiting: Unanswered): void {
    waiting.entryId = this.commands!.send(['XADD', this.requests, '*', ...requestFields(this.replies, batch, waiting.alone, waiting.payload)]).then(
      (id) => String(id),
      (error: unknown) => {
        this.onCommandFailed(error);
        return undefined;
      },
    );
  }

  /** A refusal (an error reply) fails the stage; a lost connection is ridden out. */
  private onCommandFailed(error: unknown): void {
    if (!isErrorReply(error)) {
      this.onLost(error);
      return;
    }
    if (isOutOfMemory(error)) {
      this.fail(error, outOfMemory(this.options.connection.url));
    } else {
      this.fail(error, ` could not send a batch to Redis at ${redactUrl(this.options.connection.url)}`);
    }
  }

  causeOf(stored: unknown): unknown {
    return deserializeError(stored as SerializedError);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async connect(): Promise<void> {
    const { connection } = this.options;
    try {
      this.commands = await RedisConnection.open(connection);
      this.reader = await this.commands.duplicate({ silenceTimeoutMs: SILENCE_TIMEOUT_MS });
      await this.prepare(this.commands);
    } catch (error) {
      this.reader?.close();
      this.commands?.close();
      if (isOutOfMemory(error)) throw StageError.transportFailed(this.options.stage, outOfMemory(connection.url), error);
      throw StageError.transportFailed(this.options.stage, `could not reach Redis at ${redactUrl(connection.url)}`, error);
    }
    if (this.closing !== undefined) return;
    this.listen();
    this.keepAlive(false);
  }

  /** The group and the reply stream (reply-stream.ts), and where to read replies from. */
  private async prepare(commands: RedisConnection): Promise<void> {
    this.lastReplyId = await prepareRun(commands, this.requests, this.replies, this.lastReplyId);
  }

  /** Watches the connections, keeps the reply stream alive and starts reading replies. */
  private listen(): void {
    const commands = this.commands!;
    commands.onLost((error) => this.onLost(error));
    this.reader!.onLost((error) => this.onLost(error));
    this.refresher = keepRepliesAlive(commands, this.replies, (error) => this.onCommandFailed(error));
    void this.readReplies(this.reader!);
  }

  /** A connection is gone: reconnect and re-send, or, with no deadline, fail as before. */
  private onLost(cause: unknown): void {
    if (this.failure !== undefined || this.closing !== undefined || this.reconnecting !== undefined) return;
    if (this.options.reconnectDeadlineMs === 0) {
      this.fail(cause);
      return;
    }
    this.reconnecting = this.reconnect(cause);
  }

  /**
   * New connections, the group and reply stream made again if the server
   * lost them, and every batch not yet answered sent again: the stage still
   * holds their items. A batch that was answered meanwhile is answered
   * twice, and its second reply is dropped by batch id (onReply).
   */
  private async reconnect(cause: unknown): Promise<void> {
    const { connection, reconnectDeadlineMs } = this.options;
    clearInterval(this.refresher);
    this.reader?.close();
    this.commands?.close();
    const cancelled = (): boolean => this.closing !== undefined;
    let pair;
    try {
      const prepare = (commands: RedisConnection): Promise<void> => this.prepare(commands);
      pair = await reconnectPrepared(connection, { silenceTimeoutMs: SILENCE_TIMEOUT_MS }, Date.now() + reconnectDeadlineMs, cancelled, prepare, cause);
    } catch (error) {
      if (cancelled()) return;
      this.reconnecting = undefined;
      this.fail(error, `lost its connection to Redis at ${redactUrl(connection.url)} and could not reconnect within options.reconnectDeadlineMs (${reconnectDeadlineMs} ms)`);
      return;
    }
    // Closing meanwhile: shutDown cleans up through the new connections.
    this.commands = pair.commands;
    this.reader = pair.reader;
    if (cancelled()) return;
    this.reconnects++;
    this.reconnecting = undefined;
    this.resend();
    this.listen();
    this.keepAlive(this.outstanding.size > 0);
  }

  /** The batches out, taken back from the request stream if it kept them, and sent again. */
  private resend(): void {
    for (const [batch, waiting] of this.outstanding.entries()) {
      const old = waiting.entryId;
      // A worker that already holds the old entry still answers it; whichever answer comes first counts.
      void old.then((id) => {
        if (id !== undefined) this.commands!.send(['XDEL', this.requests, id]).catch(() => undefined);
      });
      this.send(batch, waiting);
    }
  }

  /** Holds the process open while batches are out, not otherwise. */
  private keepAlive(alive: boolean): void {
    this.commands?.keepAlive(alive);
    this.reader?.keepAlive(alive);
  }

  /** Threads of every worker process that answered this stage (the run report's busy share divides by them). */
  parallelism(): number {
    return this.pacing.parallelism();
  }

  private async readReplies(reader: RedisConnection): Promise<void> {
    // A reader replaced by a reconnect stops: the new one reads on.
    while (this.closing === undefined && this.failure === undefined && reader === this.reader) {
      let reply;
      try {
        reply = await reader.send(['XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(READ_BLOCK_MS), 'STREAMS', this.replies, this.lastReplyId]);
      } catch (error) {
        if (reader === this.reader) this.onLost(error);
        return;
      }
      if (reader !== this.reader) return;
      const receivedAt = nowSeconds();
      const entries = entriesOf(reply);
      if (entries.length === 0) continue;
      for (const entry of entries) this.onReply(entry, receivedAt);
      this.lastReplyId = entries[entries.length - 1]!.id;
      // What has been read is dropped (MINID keeps the last id); this is the
      // reply stream, which no consumer group points into.
      this.commands!.send(['XTRIM', this.replies, 'MINID', this.lastReplyId]).catch(() => undefined);
    }
  }

  private onReply(entry: Entry, receivedAt: number): void {
    // The reply stream's own 'open' entries (one per connect) answer nothing.
    if (!entry.fields.has(Field.Kind)) return;
    const batch = Number(text(entry, Field.Batch));
    // At-least-once delivery: a batch answered twice (its worker was thought
    // dead, then answered after all) keeps its first answer.
    const waiting = this.outstanding.answer(batch);
    if (waiting === undefined) return;
    if (this.outstanding.size === 0) this.keepAlive(false);
    const worker = text(entry, Field.Worker);
    this.pacing.seen(worker, Number(text(entry, Field.Threads)) || 1, receivedAt);
    const kind = text(entry, Field.Kind);
    try {
      if (kind === ReplyKind.Done) waiting.resolve(this.timed(decode<WireReply>(entry.fields.get(Field.Data)), receivedAt));
      else if (kind === ReplyKind.Died) waiting.reject(new WorkerExit(-1, deserializeError(decode<SerializedError>(entry.fields.get(Field.Data)))));
      else waiting.reject(StageError.loadFailed(this.options.stage, this.options.target, deserializeError(decode<SerializedError>(entry.fields.get(Field.Data)))));
    } catch (error) {
      waiting.reject(StageError.transportFailed(this.options.stage, `could not read a reply from worker "${worker}"`, error));
    }
  }

  /**
   * Moves the worker's times onto this clock: its reply is taken to be sent
   * when it arrived here. Computation keeps the worker's own durations; queue
   * wait and transmission are then differences of this clock's readings, so
   * two machines' clocks never meet in one figure (the reply's trip back
   * counts as queue wait).
   */
  private timed(reply: WireReply, receivedAt: number): RunResult {
    const shift = receivedAt - reply.sentAt;
    const times = reply.times;
    for (let i = 0; i < times.length; i++) times[i]! += shift;
    this.pacing.learn(times);
    return reply;
  }

  /** The first transport failure fails every batch out and every batch to come. */
  private fail(cause: unknown, what = ` lost its connection to Redis at ${redactUrl(this.options.connection.url)}`): void {
    if (this.failure !== undefined || this.closing !== undefined) return;
    this.failure = StageError.transportFailed(this.options.stage, what.trimStart(), cause);
    this.outstanding.rejectAll(this.failure);
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.refresher);
    this.abortStart?.(StageError.transportFailed(this.options.stage, 'closed while connecting', new Error('closed')));
    await this.connecting?.catch(() => undefined);
    await this.reconnecting;
    const waiting = this.outstanding.rejectAll(new Error('the stage closed before this batch was answered'));
    // An XADD may still be on its way: its id is needed to take it back.
    const entryIds = (await Promise.all(waiting.map((batch) => batch.entryId))).filter((id) => id !== undefined);
    this.reader?.close();
    const commands = this.commands;
    if (commands === undefined) return;
    // The stage waits for this close (a pipeline's end does): hold the process open until it is done.
    commands.keepAlive(true);
    // Batches nobody has answered are taken back, so that no worker runs them
    // for a run that has gone; the reply stream goes with the run.
    if (commands.lost === undefined && this.failure === undefined) {
      try {
        if (entryIds.length > 0) await commands.send(['XDEL', this.requests, ...entryIds]);
        await commands.send(['DEL', this.replies]);
      } catch {
        // The server went away while closing: nothing left to clean.
      }
    }
    commands.close();
  }
}
