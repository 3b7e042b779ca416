import { StageError } from '../errors.js';
import { PipelineItem } from '../timing/pipeline-item.js';

/** An item's outcome once its batch is back; `PassThrough` is decided on arrival. */
export const TaskState = {
  Value: 0,
  Drop: 1,
  Many: 2,
  Error: 3,
  /** An error emitted upstream (`onError: 'emit'`): passed on untouched, in place. */
  PassThrough: 4,
  Pending: 5,
  /** A fused chain ran; `value` locates the item's records (see chain-replay.ts). */
  Chain: 6,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** One item inside a stage, from acceptance to emission. */
export interface Task {
  /** The chunk as received: the envelope, or the plain value. */
  readonly input: unknown;
  /**
   * What the function is called with. Replaced when moved bytes come back
   * (`transfer`): the view that was moved is empty, the executor's copy is not.
   */
  data: unknown;
  readonly item: PipelineItem | undefined;
  readonly seq: number;
  /**
   * When the item joined this stage's queue, seconds since the epoch (0 when
   * not timed): when the stage before let go of it, so that waiting in the
   * buffers between stages counts as queue wait, as in the original's queues.
   */
  readonly enteredAt: number;
  state: TaskState;
  value: unknown;
  startedAt: number;
  endedAt: number;
  /** The thread that ran it (from its batch's reply; 0 is the main thread). */
  threadId: number;
  error: StageError | undefined;
  /** Workers that died while running this item alone. */
  deaths: number;
  /** Runs in a batch of its own: set once a batch with it died, to find the culprit. */
  alone: boolean;
}

export function createTask(chunk: unknown, arrival: number): Task {
  const item = chunk instanceof PipelineItem ? chunk : undefined;
  const data = item === undefined ? chunk : item.data;
  return {
    input: chunk,
    data,
    item,
    seq: item === undefined ? arrival : item.seq,
    enteredAt: item?.timed === true ? item.queuedSince : 0,
    state: StageError.isStageError(data) ? TaskState.PassThrough : TaskState.Pending,
    value: undefined,
    startedAt: 0,
    endedAt: 0,
    threadId: 0,
    error: undefined,
    deaths: 0,
    alone: false,
  };
}

/** What the function is called with, one per task: a plain loop, as this runs per batch on the busiest thread. */
export function inputsOf(batch: readonly Task[]): unknown[] {
  const inputs = new Array<unknown>(batch.length);
  for (let i = 0; i < batch.length; i++) inputs[i] = batch[i]!.data;
  return inputs;
}

/** Whether some task of the batch records per-item timing (the worker reads its clock per item only then). */
export function anyTimed(batch: readonly Task[]): boolean {
  for (const task of batch) if (task.enteredAt !== 0) return true;
  return false;
}
