// How a failed pipeline is told to the client: one JSON line, the same shape
// whether it is the whole body (before any result) or the last line.

import { JsonLineError, StageError } from 'async-task-pipeline';

/** The last line of a response whose pipeline failed. */
export interface ErrorLine {
  error: { message: string; code?: string; line?: number; stage?: string };
}

export function errorLineOf(error: unknown): ErrorLine {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof JsonLineError) return { error: { message, code: error.code, line: error.lineNumber } };
  if (error instanceof StageError) return { error: { message, code: error.code, stage: error.stage } };
  return { error: { message } };
}

/** A bad line is the client's fault (400); anything else is ours (500). */
export function statusOf(error: unknown): number {
  return error instanceof JsonLineError ? 400 : 500;
}
