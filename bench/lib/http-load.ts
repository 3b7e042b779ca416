// A load generator for HTTP servers in another process: `connections`
// keep-alive connections, each sending one request after another for a
// fixed time, as wrk does. Every response body is checked against the one
// expected, byte for byte; the figures are requests/s and latency percentiles.

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from './measure.js';
import { OutputMismatch } from './same-output.js';

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function post(agent: Agent, port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One request, for the reference answer. */
export async function answerOf(port: number, body: string): Promise<string> {
  const agent = new Agent({ keepAlive: false });
  try {
    return await post(agent, port, body);
  } finally {
    agent.destroy();
  }
}

/** Drives the server for `durationMs` over `connections` connections; throws on a wrong answer. */
export async function drive(port: number, body: string, expected: string, connections: number, durationMs: number, what: string): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  async function connection(): Promise<void> {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const answer = await post(agent, port, body);
      latencies.push(performance.now() - sent);
      if (answer !== expected) throw new OutputMismatch(`${what}: a response differs from the reference (${answer.length} vs ${expected.length} bytes): ${answer.slice(0, 200)}`);
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, connection));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  return { requests: latencies.length, perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}
