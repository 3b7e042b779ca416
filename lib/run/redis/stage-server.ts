// One stage as a worker process serves it: fetch batches from the stage's
// request stream with XREADGROUP, run each on the local thread pool, answer
// with one MULTI (reply XADD, XACK, XDEL), keep held batches alive with
// heartbeats, and answer for batches whose worker process died.

import { WorkerExit } from '../executor.js';
import { serializeError } from '../serialized-error.js';
import type { PoolExecutor } from '../pool-executor.js';
import { isErrorReply } from './connection.js';
import type { RedisConnection } from './connection.js';
import { GROUP, Field, ReplyKind, isBusyGroup, requestKey, startedKey } from './keys.js';
import { claimedOf, decode, encode, entriesOf, replyFields, text } from './wire.js';
import type { Entry } from './wire.js';
import { encodeReply } from './reply-payload.js';
import { hadBegun, isSuspect, markBegun, putBack } from './suspects.js';
import { discard, goneRuns } from './gone-runs.js';

// A blocking read returns at least this often, so that a drain starts soon.
const READ_BLOCK_MS = 1_000;
const RETRY_MS = 250;

export interface StageServerOptions {
  stage: string;
  prefix: string;
  /** This process's consumer name in the group. */
  consumer: string;
  threads: number;
  reclaimAfterMs: number;
  /** The stage's batches on the process's thread pool. */
  pool: PoolExecutor;
  commands: RedisConnection;
  /** A connection of its own: XREADGROUP … BLOCK holds it. */
  reader: RedisConnection;
  log: (line: string) => void;
}

interface Held {
  entry: Entry;
  /** A suspect of a worker's death: runs with nothing else on this process. */
  alone: boolean;
}

export class StageServer {
  private readonly requests: string;
  private readonly started: string;
  /** Batches this process has fetched and not yet answered, by entry id. */
  private readonly held = new Map<string, Held>();
  private readonly queue: Held[] = [];
  private stopping = false;
  private wake: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private reclaiming = false;
  /** A suspect is running: nothing else starts on this process until it is answered. */
  private aloneRunning = false;

  constructor(private readonly options: StageServerOptions) {
    this.requests = requestKey(options.prefix, options.stage);
    this.started = startedKey(options.prefix, options.stage);
    // The process's threads are shared by its stages: room also opens when another stage's batch ends.
    options.pool.onRoom(() => this.pump());
  }

  /** Serves until `stop()`, then finishes and answers what it holds. */
  async serve(): Promise<void> {
    const { reclaimAfterMs } = this.options;
    await this.retried(() => this.createGroup());
    await this.retried(() => this.answerOwnPending());
    // Three heartbeats per reclaim period: a live worker's batches never look idle.
    this.timers.push(setInterval(() => this.heartbeat(), Math.max(10, reclaimAfterMs / 3)));
    this.timers.push(setInterval(() => void this.reclaim(), Math.max(10, reclaimAfterMs / 4)));
    while (!this.stopping) await this.fetch();
    while (this.held.size > 0) await new Promise<void>((resolve) => { this.wake = resolve; });
    for (const timer of this.timers) clearInterval(timer);
    await this.leaveGroup();
  }

  /** Stops fetching; `serve()` resolves once every held batch is answered. */
  stop(): void {
    this.stopping = true;
    this.wakeUp();
  }

  private async fetch(): Promise<void> {
    const room = this.room();
    if (room === 0) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
      return;
    }
    let reply;
    try {
      reply = await this.options.reader.send([
        'XREADGROUP', 'GROUP', GROUP, this.options.consumer, 'COUNT', String(room), 'BLOCK', String(READ_BLOCK_MS),
        'STREAMS', this.requests, '>',
      ]);
    } catch (error) {
      await this.recover(error);
      return;
    }
    const entries = entriesOf(reply);
    const { commands, log, stage } = this.options;
    // A run whose reply stream is gone (gone-runs.ts): its batches would run for nobody.
    const gone = await goneRuns(commands, entries);
    // Entries a read returns are in this consumer's pending list: they are
    // run and answered even when a drain began meanwhile.
    for (const entry of entries) {
      if (gone.has(text(entry, Field.ReplyTo))) {
        discard(commands, this.requests, entry).catch((error: unknown) => {
          log(`stage "${stage}": could not drop entry ${entry.id} of a run that has gone: ${(error as Error).message}`);
        });
        continue;
      }
      const held = { entry, alone: isSuspect(entry) };
      this.held.set(entry.id, held);
      this.queue.push(held);
    }
    this.pump();
  }

  /**
   * Batches to ask for: two per thread, so that each has the next one at hand;
   * none while a suspect is held, which runs with nothing else beside it.
   */
  private room(): number {
    for (const held of this.held.values()) if (held.alone) return 0;
    return Math.max(0, 2 * this.options.threads - this.held.size);
  }

  /**
   * Starts what is queued, in order. A suspect runs on a process running
   * nothing else, of any run: the pool's `alone` keeps it only on a thread
   * of its own, and another producer's poison on the next thread would kill
   * the process and be counted against this run's suspect (issue 19).
   */
  private pump(): void {
    const pool = this.options.pool;
    while (this.queue.length > 0 && !this.aloneRunning) {
      const next = this.queue[0]!;
      const running = this.held.size - this.queue.length;
      if (next.alone ? running > 0 || !pool.hasRoom(true) : !pool.hasRoom(false)) return;
      this.queue.shift();
      if (next.alone) this.aloneRunning = true;
      void this.execute(next);
    }
  }

  private async execute(held: Held): Promise<void> {
    const { entry, alone } = held;
    let kind: ReplyKind;
    let payload: Buffer;
    // Marked before it runs, so that a death from now on is the suspect's own.
    if (alone) await this.markStarted(entry);
    try {
      const reply = await this.options.pool.run(decode<unknown[]>(entry.fields.get(Field.Data)), alone);
      kind = ReplyKind.Done;
      payload = encodeReply(reply);
    } catch (error) {
      // A thread of this process died under the batch: the producer re-runs
      // its items as it would on its own threads.
      kind = error instanceof WorkerExit ? ReplyKind.Died : ReplyKind.Failed;
      payload = encode(serializeError(error instanceof WorkerExit && error.cause !== undefined ? error.cause : error));
    }
    await this.answer(entry, kind, payload);
    this.held.delete(entry.id);
    if (alone) this.aloneRunning = false;
    this.pump();
    this.wakeUp();
  }

  /** The reply, the acknowledgement and the deletion of the request (and its start mark), all or none. */
  private async answer(entry: Entry, kind: ReplyKind, payload: Buffer): Promise<void> {
    const { commands, consumer, threads, log } = this.options;
    try {
      await commands.transaction([
        // NOMKSTREAM: a run that has gone (its reply stream deleted or
        // expired) gets no reply stream made again.
        ['XADD', text(entry, Field.ReplyTo), 'NOMKSTREAM', '*', ...replyFields(text(entry, Field.Batch), kind, consumer, threads, payload)],
        ['XACK', this.requests, GROUP, entry.id],
        ['XDEL', this.requests, entry.id],
        ...(isSuspect(entry) ? [['SREM', this.started, entry.id]] : []),
      ]);
    } catch (error) {
      log(`stage "${this.options.stage}": could not answer entry ${entry.id}: ${(error as Error).message}`);
    }
  }

  /**
   * Resets the idle time of every batch held here without counting a
   * delivery (XCLAIM … JUSTID), so that XAUTOCLAIM elsewhere takes only the
   * batches of processes that stopped: a slow batch is not taken from a live one.
   */
  private heartbeat(): void {
    if (this.held.size === 0) return;
    const { commands, consumer, log } = this.options;
    commands.send(['XCLAIM', this.requests, GROUP, consumer, '0', ...this.held.keys(), 'JUSTID']).catch((error: unknown) => {
      log(`stage "${this.options.stage}": heartbeat failed: ${(error as Error).message}`);
    });
  }

  /**
   * Takes batches idle past --reclaim-after (their process died: a live one
   * beats) and answers each as a death, without running it. The producer
   * then runs its items again one by one, as the thread pool does with the
   * items of a dead thread, and fails an item alone with WORKER_DIED once it
   * has killed `retries + 1` workers while running alone.
   */
  private async reclaim(): Promise<void> {
    if (this.stopping || this.reclaiming) return;
    this.reclaiming = true;
    const { commands, consumer, reclaimAfterMs } = this.options;
    let cursor = '0-0';
    try {
      do {
        const claimed = claimedOf(await commands.send([
          'XAUTOCLAIM', this.requests, GROUP, consumer, String(reclaimAfterMs), cursor, 'COUNT', '64',
        ]));
        cursor = claimed.cursor;
        const cause = `a worker process held this batch ${reclaimAfterMs} ms without a heartbeat; it was reclaimed by "${consumer}"`;
        for (const entry of claimed.entries) await this.answerDead(entry, cause);
      } while (cursor !== '0-0' && !this.stopping);
    } catch (error) {
      this.options.log(`stage "${this.options.stage}": reclaim failed: ${(error as Error).message}`);
    } finally {
      this.reclaiming = false;
    }
  }

  /** Batches a previous process of this consumer name held when it stopped: it died with them. */
  private async answerOwnPending(): Promise<void> {
    const reply = await this.options.commands.send([
      'XREADGROUP', 'GROUP', GROUP, this.options.consumer, 'COUNT', '1000', 'STREAMS', this.requests, '0',
    ]);
    const cause = `the worker process "${this.options.consumer}" stopped with this batch; a new process of that name answers for it`;
    for (const entry of entriesOf(reply)) await this.answerDead(entry, cause);
  }

  /**
   * A batch whose process died with it. A suspect that process had not
   * begun (it waited behind a batch that killed the process, perhaps another
   * producer's) goes back to the stream unrun: answered as a death, the
   * death would count against an item that never ran. Any other batch is
   * answered as a death, and its producer runs its items again alone.
   */
  private async answerDead(entry: Entry, cause: string): Promise<void> {
    const { commands, log, stage } = this.options;
    if (isSuspect(entry) && !(await hadBegun(commands, this.started, entry))) {
      await putBack(commands, this.requests, entry).catch((error: unknown) => {
        log(`stage "${stage}": could not put back entry ${entry.id}: ${(error as Error).message}`);
      });
      return;
    }
    await this.answer(entry, ReplyKind.Died, encode(serializeError(new Error(cause))));
  }

  /** A suspect is about to run: marked begun, so that from now on this process's death is its death. */
  private async markStarted(entry: Entry): Promise<void> {
    try {
      await markBegun(this.options.commands, this.started, entry);
    } catch (error) {
      // Unmarked, a death would put it back to run again rather than count: it runs anyway, and its answer tells.
      this.options.log(`stage "${this.options.stage}": could not mark entry ${entry.id} begun: ${(error as Error).message}`);
    }
  }

  private async createGroup(): Promise<void> {
    await this.options.commands.send(['XGROUP', 'CREATE', this.requests, GROUP, '0', 'MKSTREAM']).catch((error: unknown) => {
      if (!isBusyGroup(error)) throw error;
    });
  }

  /**
   * A drained process leaves the group. Never while it holds entries:
   * XGROUP DELCONSUMER would leave them pending with no owner to reclaim from.
   */
  private async leaveGroup(): Promise<void> {
    const { commands, consumer } = this.options;
    try {
      const pending = await commands.send(['XPENDING', this.requests, GROUP, '-', '+', '1', consumer]);
      if (Array.isArray(pending) && pending.length === 0) await commands.send(['XGROUP', 'DELCONSUMER', this.requests, GROUP, consumer]);
    } catch {
      // Leaving is tidiness only; a consumer with nothing pending harms nobody.
    }
  }

  /**
   * A start-up step, tried again while the connection is being replaced (a
   * frozen server timed it out); a refusal (an error reply: no permission)
   * still stops the stage.
   */
  private async retried(step: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await step();
      } catch (error) {
        if (this.stopping || isErrorReply(error)) throw error;
        this.options.log(`stage "${this.options.stage}": start-up command failed: ${(error as Error).message}; trying again`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** A read failed: a server restarted without its data has lost the group; else wait and read again. */
  private async recover(error: unknown): Promise<void> {
    if (this.stopping) return;
    if (error instanceof Error && error.message.startsWith('NOGROUP')) {
      await this.createGroup().catch(() => undefined);
      return;
    }
    this.options.log(`stage "${this.options.stage}": read failed: ${(error as Error).message}`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

