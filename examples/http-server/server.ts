// An HTTP server that takes a JSON Lines request body, runs each line through
// worker-thread stages and streams the results back as JSON Lines.
// Run it: `npm run example:http` (see README.md in this folder).

import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { stage } from 'async-task-pipeline';
import type { Pipeline, Stage } from 'async-task-pipeline';
import { errorLineOf, statusOf } from './error-line.js';
import { runLines } from './run-lines.js';
import { listenOnLoopback } from './listen.js';

export interface HttpServerOptions {
  /** Makes the worker stages for one request. @default analyse, then label (./stages.js) */
  stages?: () => Stage[];
  /** The most threads of the shared pool each default stage uses at once. @default every thread of the pool */
  concurrency?: number;
  /** Queue bound of every stream in a request's pipeline, in items. @default 64 */
  highWaterMark?: number;
  /** Sees each request's pipeline and response before data flows: for stats and tests. */
  onPipeline?: (pipeline: Pipeline, response: ServerResponse) => void;
}

const STAGES = new URL('./stages.js', import.meta.url);

/** The example's two worker stages, made afresh for each request. */
export function defaultStages(concurrency?: number): Stage[] {
  return [
    stage({ module: STAGES, export: 'analyse' }, { concurrency }),
    stage({ module: STAGES, export: 'label' }, { concurrency }),
  ];
}

/**
 * An http.Server answering `POST` (any path) with one JSON line per line of
 * the body, in order. A failure is the response's last line,
 * `{"error":{...}}`: with status 400 (bad JSON) or 500 (a stage failed) if no
 * result had been sent yet, else after the results of a 200 response.
 */
export function createServer(options: HttpServerOptions = {}): Server {
  const makeStages = options.stages ?? (() => defaultStages(options.concurrency));
  const highWaterMark = options.highWaterMark ?? 64;
  return createHttpServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST a JSON Lines body\n');
      return;
    }
    void answer(request, response, makeStages(), highWaterMark, options.onPipeline);
  });
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  stages: Stage[],
  highWaterMark: number,
  onPipeline: HttpServerOptions['onPipeline'],
): Promise<void> {
  // A client that goes away mid-response must not leave workers running.
  const gone = new AbortController();
  response.on('close', () => { if (!response.writableFinished) gone.abort(); });
  request.on('error', () => gone.abort());
  // Headers go out with the first result; until then an error can still set the status.
  response.setHeader('content-type', 'application/x-ndjson');
  try {
    await runLines({
      input: request, output: response, stages, highWaterMark, signal: gone.signal,
      onPipeline: onPipeline && ((pipeline) => onPipeline(pipeline, response)),
    });
    response.end();
  } catch (error) {
    if (gone.signal.aborted) return;
    // Read (and drop) the rest of the body, so that a client still sending
    // it gets to read our answer.
    request.resume();
    if (!response.headersSent) response.statusCode = statusOf(error);
    response.end(JSON.stringify(errorLineOf(error)) + '\n');
  }
}

/** Listens on 127.0.0.1, port `PORT` or any free one, and prints the URL. */
export async function main(): Promise<Server> {
  const server = createServer({ concurrency: process.env.CONCURRENCY === undefined ? undefined : Number(process.env.CONCURRENCY) });
  const port = await listenOnLoopback(server);
  console.log(`listening on http://127.0.0.1:${port}/ (POST a JSON Lines body; Ctrl-C stops)`);
  return server;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
