// A server of the "server" scenario, in a process of its own so that the load
// generator's work is not the server's: `node server-child.js KIND`, KIND one of
// - `ours`: the package's HTTP example (createPipeline per request, module stages);
// - `piscina-line`: the same two functions on one long-lived piscina pool, one task per line;
// - `piscina-chunk`: the same, one task per chunk of the request body.
// It prints its port, then answers IPC 'stats' with its threads and memory
// (peaks since the last 'stats'), and exits on 'exit'.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { createServer as createOurServer } from '../../examples/http-server/server.js';
import { listenOnLoopback } from '../../examples/http-server/listen.js';

export interface ServerStats {
  threads: number;
  rssMb: number;
  peakThreads: number;
  peakRssMb: number;
  idleRssMb: number;
}

const WORKER = new URL('./server-piscina-worker.js', import.meta.url).href;
const kind = process.argv[2];

function osThreads(): number {
  const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match === null ? NaN : Number(match[1]);
}

let peakThreads = 0;
let peakRss = 0;
const sampler = setInterval(() => {
  peakThreads = Math.max(peakThreads, osThreads());
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();

/** The piscina server a careful user writes: one pool for the process, lines parsed and written on the main thread. */
function piscinaServer(perChunk: boolean) {
  const pool = new Piscina({ filename: WORKER, minThreads: availableParallelism(), maxThreads: availableParallelism(), idleTimeout: 10_000 });
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      response.setHeader('content-type', 'application/x-ndjson');
      let rest = '';
      // Tasks in request order; each chunk's (or line's) answer is written when its turn comes.
      const pending: Array<Promise<unknown[]>> = [];
      request.setEncoding('utf8');
      for await (const chunk of request as AsyncIterable<string>) {
        const text = rest + chunk;
        const end = text.lastIndexOf('\n');
        if (end < 0) { rest = text; continue; }
        rest = text.slice(end + 1);
        const lines = text.slice(0, end).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
        if (perChunk) pending.push(pool.run(lines, { name: 'manyLines' }) as Promise<unknown[]>);
        else for (const line of lines) pending.push((pool.run(line, { name: 'oneLine' }) as Promise<unknown>).then((r) => [r]));
      }
      if (rest.trim() !== '') pending.push((pool.run(JSON.parse(rest), { name: 'oneLine' }) as Promise<unknown>).then((r) => [r]));
      for (const answer of pending) {
        for (const result of await answer) response.write(JSON.stringify(result) + '\n');
      }
      response.end();
    })().catch((error: unknown) => {
      if (!response.headersSent) response.statusCode = 500;
      response.end(JSON.stringify({ error: String(error) }) + '\n');
    });
  });
}

const server = kind === 'ours' ? createOurServer() : piscinaServer(kind === 'piscina-chunk');
server.keepAliveTimeout = 60_000;
const port = await listenOnLoopback(server);
process.send!({ port });
process.on('message', (message: string) => {
  if (message === 'stats') {
    const stats: ServerStats = {
      threads: osThreads(),
      rssMb: process.memoryUsage.rss() / 2 ** 20,
      peakThreads: Math.max(peakThreads, osThreads()),
      peakRssMb: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20,
      // What an idle server keeps, once garbage is collected (the child runs with --expose-gc).
      idleRssMb: (globalThis.gc?.(), process.memoryUsage.rss() / 2 ** 20),
    };
    peakThreads = 0;
    peakRss = 0;
    process.send!(stats);
  } else if (message === 'exit') {
    process.exit(0);
  }
});
