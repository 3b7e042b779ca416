// The programs of one pool: what a thread must load to run a stage's
// batches (its steps, context and flags). Stages that would load the same
// thing share one program, so that a pipeline built per request finds its
// module already loaded on every warm thread.

import { serialize } from 'node:v8';
import type { WorkerInit } from './protocol.js';

/** One stage's (or fused chain's) code as the threads know it. */
export interface Program {
  readonly id: number;
  readonly init: WorkerInit;
  /** What makes two programs the same; undefined for one never shared. */
  readonly key: string | undefined;
  /** Stages that use it now. */
  users: number;
  /**
   * Seconds of work per item, learnt from replies and shared by every stage
   * of the program: a stage made per request sizes its first batch from what
   * the ones before it saw. 0 before the first reply.
   */
  secondsPerItem: number;
}

// Programs no stage uses are kept this many at most (a module stage made
// again finds its program loaded); past it the oldest is forgotten by the
// threads. Function stages whose source differs each time would otherwise
// grow every thread's table without end.
const KEPT_UNUSED = 64;

// A context this large is not worth comparing byte for byte: its stage gets
// a program of its own (the context still reaches each thread once).
const MAX_CONTEXT_KEY_BYTES = 16 * 1024;

export class Programs {
  private readonly byKey = new Map<string, Program>();
  /** Unused programs, oldest first (a Set keeps insertion order). */
  private readonly unused = new Set<Program>();
  private nextId = 1;

  /** @param forget called when threads should drop a program for good */
  constructor(private readonly forget: (program: Program) => void) {}

  /** The program for `init`, shared with any stage that loads the same thing. */
  acquire(init: WorkerInit): Program {
    const key = keyOf(init);
    let program = key === undefined ? undefined : this.byKey.get(key);
    if (program === undefined) {
      program = { id: this.nextId++, init, key, users: 0, secondsPerItem: 0 };
      if (key !== undefined) this.byKey.set(key, program);
    }
    this.unused.delete(program);
    program.users++;
    return program;
  }

  /** A stage is done with its program. */
  release(program: Program): void {
    if (--program.users > 0) return;
    if (program.key === undefined) {
      this.forget(program);
      return;
    }
    this.unused.add(program);
    if (this.unused.size <= KEPT_UNUSED) return;
    const oldest = this.unused.values().next().value as Program;
    this.unused.delete(oldest);
    this.byKey.delete(oldest.key!);
    this.forget(oldest);
  }
}

/** What makes two programs the same, or undefined when it is not worth finding out. */
function keyOf(init: WorkerInit): string | undefined {
  const steps: unknown[] = [];
  for (const step of init.steps) {
    let context: string | null = null;
    if (step.context !== undefined) {
      // Equal values serialise to equal bytes. A context v8.serialize cannot
      // take (a SharedArrayBuffer: memory shared with this stage alone) is never shared.
      let bytes: Buffer;
      try {
        bytes = serialize(step.context);
      } catch {
        return undefined;
      }
      if (bytes.length > MAX_CONTEXT_KEY_BYTES) return undefined;
      context = bytes.toString('base64');
    }
    steps.push([step.spec, step.emitErrors, context]);
  }
  return JSON.stringify([steps, init.transfer, init.json]);
}
