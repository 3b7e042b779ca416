// A TCP server with one worker pipeline per connection: a client writes JSON
// Lines, reads one result line per line, in order, and ends its side when
// done; the server then ends its own. Lines are answered as they arrive, so
// an interactive client sees each result without waiting for the end.
// Run it: `npm run example:tcp` (see README.md in this folder).

import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Pipeline, Stage } from 'async-task-pipeline';
import { errorLineOf } from '../http-server/error-line.js';
// The same worker stages as the HTTP example: only the transport differs.
// (Importing the HTTP server module does not start it: it only listens when run.)
import { defaultStages } from '../http-server/server.js';
import { runLines } from '../http-server/run-lines.js';
import { listenOnLoopback } from '../http-server/listen.js';

export interface TcpServerOptions {
  /** Makes the worker stages for one connection. @default analyse, then label (../http-server/stages.js) */
  stages?: () => Stage[];
  /** The most threads of the shared pool each default stage uses at once. @default every thread of the pool */
  concurrency?: number;
  /** Queue bound of every stream in a connection's pipeline, in items. @default 64 */
  highWaterMark?: number;
  /** Sees each connection's pipeline before data flows: for stats and tests. */
  onPipeline?: (pipeline: Pipeline, socket: Socket) => void;
}

/**
 * A net.Server that gives each connection its own pipeline. A failure is
 * sent as a last line, `{"error":{...}}`, after the results so far; then the
 * server ends the connection.
 */
export function createTcpServer(options: TcpServerOptions = {}): Server {
  const makeStages = options.stages ?? (() => defaultStages(options.concurrency));
  const highWaterMark = options.highWaterMark ?? 64;
  // Half-open: the client's end of input must not end our side before the
  // last results are written.
  return createServer({ allowHalfOpen: true }, (socket) => {
    void serve(socket, makeStages(), highWaterMark, options.onPipeline);
  });
}

async function serve(socket: Socket, stages: Stage[], highWaterMark: number, onPipeline: TcpServerOptions['onPipeline']): Promise<void> {
  // A client that goes away must not leave workers running.
  const gone = new AbortController();
  socket.on('close', () => gone.abort());
  socket.on('error', () => gone.abort());
  try {
    await runLines({
      input: socket, output: socket, stages, highWaterMark, signal: gone.signal,
      onPipeline: onPipeline && ((pipeline) => onPipeline(pipeline, socket)),
    });
    socket.end();
  } catch (error) {
    if (gone.signal.aborted) return;
    socket.resume(); // drop what the client still sends
    socket.end(JSON.stringify(errorLineOf(error)) + '\n');
  }
}

/** Listens on 127.0.0.1, port `PORT` or any free one, and prints the address. */
export async function main(): Promise<Server> {
  const server = createTcpServer({ concurrency: process.env.CONCURRENCY === undefined ? undefined : Number(process.env.CONCURRENCY) });
  const port = await listenOnLoopback(server);
  console.log(`listening on tcp://127.0.0.1:${port} (write JSON Lines, end your side to finish; Ctrl-C stops)`);
  return server;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
