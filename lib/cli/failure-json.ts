// Failed items as JSON, for `--on-error emit` (in the output, in the item's
// place) and for `--dead-letter FILE`. A StageError serialized by
// JSON.stringify would lose its message and cause (both not enumerable).

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { StageError, describe } from '../errors.js';

/** A StageError as a JSON line carries it. */
export interface FailureJson {
  code: string;
  stage: string;
  /** The item's position in the input, from 0, when one item was at fault. */
  seq: number | undefined;
  message: string;
  /** The original error: `{ name, message }` for an Error, else its description. */
  cause: { name: string; message: string } | string | undefined;
}

export function failureJson(error: StageError): FailureJson {
  const { cause } = error;
  return {
    code: error.code,
    stage: error.stage,
    seq: error.seq,
    message: error.message,
    cause: cause === undefined ? undefined : cause instanceof Error ? { name: cause.name, message: cause.message } : describe(cause),
  };
}

/** Replaces each emitted StageError by `{ error: FailureJson }`; other items pass untouched. */
export function emittedErrorsAsJson(): Transform {
  return new Transform({
    objectMode: true,
    transform(item: unknown, _encoding: BufferEncoding, callback: TransformCallback) {
      callback(null, StageError.isStageError(item) ? { error: failureJson(item) } : item);
    },
  });
}
