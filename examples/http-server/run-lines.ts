// The heart of both server examples: JSON Lines from a client, through a
// worker pipeline, back to the client, with backpressure end to end.
//
// The client's streams stay out of stream.pipeline on purpose: on an error
// pipeline destroys every stream it holds, and destroying an HTTP request or
// a socket closes the connection before we could tell the client what went
// wrong. So the input is piped into the parser (pipe unpipes, and pauses the
// input, when the parser is destroyed), and the output is written by a sink
// function that waits for 'drain'; the caller ends or answers the connection.

import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPipeline, jsonLines, toJsonLines } from 'async-task-pipeline';
import type { Pipeline, Stage } from 'async-task-pipeline';

export interface RunLinesOptions {
  /** Where the JSON Lines come from: an HTTP request or a socket. */
  input: Readable;
  /** Where the result lines go; left open for the caller to end. */
  output: Writable;
  /** The worker stages for this input only (a pipeline is used once). */
  stages: Stage[];
  /** Queue bound of every stream between input and output, in items. */
  highWaterMark: number;
  /** Aborted when the client goes away: destroys the pipeline and its workers. */
  signal: AbortSignal;
  /** Sees the pipeline before data flows (stats, reports, tests). */
  onPipeline?: ((pipeline: Pipeline) => void) | undefined;
}

/**
 * Resolves when every result line has been handed to `output`; rejects with
 * the first error (a bad line, a failed stage, an abort), after which the
 * pipeline and its workers are destroyed and `input` is left paused. A bad
 * line rejects only once the results of every line before it are written.
 */
export async function runLines(options: RunLinesOptions): Promise<void> {
  const { input, output, stages, highWaterMark, signal } = options;
  const workers = createPipeline(stages, { highWaterMark });
  options.onPipeline?.(workers);
  const parse = jsonLines({ highWaterMark });
  input.pipe(parse);
  // A bad line must not destroy the workers: stream.pipeline would, dropping
  // the results of the lines before it still inside (a different share each
  // run). It ends the input instead, the pipeline drains, then we report it.
  let badLine: Error | undefined;
  async function* linesBeforeABadOne(): AsyncGenerator<unknown> {
    try {
      yield* parse;
    } catch (error) {
      badLine = error as Error;
    }
  }
  await pipeline(linesBeforeABadOne, workers, toJsonLines({ highWaterMark }), writeTo(output), { signal });
  if (badLine !== undefined) throw badLine;
}

/** A pipeline sink that writes to a stream it does not own, pausing at its highWaterMark. */
function writeTo(output: Writable) {
  // stream.pipeline passes `{ signal }`, aborted on any error in the pipeline;
  // Node's types leave the argument out.
  return async function sink(chunks: AsyncIterable<Buffer>, options?: { signal?: AbortSignal }): Promise<void> {
    for await (const chunk of chunks) {
      // A slow client fills the socket, then `output`; waiting here stops the
      // loop, which stops toJsonLines, the stages and the parser in turn.
      if (!output.write(chunk)) await once(output, 'drain', { signal: options?.signal });
    }
  };
}
