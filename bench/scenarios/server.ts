// Scenario "server" (issue 16): the package's HTTP example, which builds
// createPipeline per request with module stages, against the server a user
// would otherwise write: the same two functions on one long-lived piscina
// pool (one task per line; for large bodies also one task per request chunk,
// the best a user assembles). Each server runs in a process of its own; this
// process is the load generator (keep-alive connections, one request after
// another per connection, as wrk does). Servers go in turns, round after
// round; figures are medians of the rounds, and every response is compared
// byte for byte with the reference.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPipeline, stage } from 'async-task-pipeline';
import { answerOf, drive } from '../lib/http-load.js';
import type { LoadResult } from '../lib/http-load.js';
import { median, percentile } from '../lib/measure.js';
import type { BenchOptions } from '../lib/options.js';
import { check } from '../lib/report.js';
import type { ScenarioResult } from '../lib/report.js';
import { OutputMismatch } from '../lib/same-output.js';
import { ScenarioRun } from '../lib/scenario-run.js';
import type { ServerStats } from './server-child.js';

type Kind = 'ours' | 'piscina-line' | 'piscina-chunk';
const CHILD = new URL('./server-child.js', import.meta.url);
const STAGES = new URL('../../examples/http-server/stages.js', import.meta.url);

interface Server {
  kind: Kind;
  port: number;
  child: ChildProcess;
}

async function startServer(kind: Kind): Promise<Server> {
  const child = fork(CHILD, [kind], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = await once(child, 'message') as [{ port: number }];
  return { kind, port: message.port, child };
}

async function statsOf(server: Server): Promise<ServerStats> {
  server.child.send('stats');
  const [stats] = await once(server.child, 'message') as [ServerStats];
  return stats;
}

async function stop(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.send('exit');
  await exited;
}

/** A JSON Lines body of `lines` lines of about twelve words. */
function bodyOf(lines: number): string {
  let text = '';
  for (let id = 0; id < lines; id++) {
    const words = Array.from({ length: 8 + (id % 9) }, (_, w) => `word${(id * 7 + w * 13) % 101}`);
    text += JSON.stringify({ id, text: words.join(' ') }) + '\n';
  }
  return text;
}

interface Case {
  lines: number;
  connections: number;
  /** The piscina server it is held against. */
  anchor: Kind;
}

/** The per-request cost in this process: createPipeline of the example's two module stages, one item, to its result. */
async function perRequestMs(count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const p = createPipeline([stage({ module: STAGES, export: 'analyse' }), stage({ module: STAGES, export: 'label' })]);
    await Readable.from([{ id: i, text: 'one small line' }]).pipe(p).toArray();
    times.push(performance.now() - started);
  }
  return times;
}

/** 64 clients that go away: half in the middle of their body, half in the middle of the response. */
async function disconnectingClients(port: number, body: string): Promise<void> {
  const clients = Array.from({ length: 64 }, (_, i) => new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      const head = `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-ndjson\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
      if (i % 2 === 0) {
        socket.write(head + body.slice(0, body.length >> 1));
        setTimeout(() => socket.destroy(), 20);
      } else {
        socket.write(head + body);
        socket.once('data', () => socket.destroy());
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  }));
  await Promise.all(clients);
}

export async function runServer(options: BenchOptions): Promise<ScenarioResult> {
  const durationMs = options.quick ? 400 : 3000;
  const cases: Case[] = options.quick
    ? [{ lines: 1, connections: 10, anchor: 'piscina-line' }, { lines: 20, connections: 10, anchor: 'piscina-line' }, { lines: 2000, connections: 1, anchor: 'piscina-chunk' }]
    : [
      ...[1, 10, 64].map((connections): Case => ({ lines: 1, connections, anchor: 'piscina-line' })),
      ...[1, 10, 64].map((connections): Case => ({ lines: 20, connections, anchor: 'piscina-line' })),
      { lines: 2000, connections: 1, anchor: 'piscina-chunk' },
    ];
  const run = new ScenarioRun('server', `Server: an HTTP server building createPipeline per request vs one piscina pool of ${availableParallelism()} threads, ${durationMs} ms per run, in turns`, options);
  const servers = await Promise.all((['ours', 'piscina-line', 'piscina-chunk'] as Kind[]).map(startServer));
  const [ours, piscinaLine, piscinaChunk] = servers as [Server, Server, Server];
  try {
    // Ten requests, then what an idle server keeps: the baseline of the memory target.
    const small = bodyOf(1);
    const smallAnswer = await answerOf(ours.port, small);
    for (let i = 0; i < 9; i++) await answerOf(ours.port, small);
    for (let i = 0; i < 10; i++) await answerOf(piscinaLine.port, small);
    const afterTen = await statsOf(ours);
    const piscinaAfterTen = await statsOf(piscinaLine);
    let oursRequestsAt64 = 0;

    for (const c of cases) {
      const body = bodyOf(c.lines);
      const expected = await answerOf(ours.port, body);
      const runners = [ours, c.anchor === 'piscina-line' ? piscinaLine : piscinaChunk];
      for (const r of runners) {
        if (await answerOf(r.port, body) !== expected) throw new OutputMismatch(`scenario server: ${r.kind}'s answer to ${c.lines} lines differs from ours`);
      }
      const rounds = runners.map(() => [] as LoadResult[]);
      const peaks = runners.map(() => [] as ServerStats[]);
      for (let round = 0; round < options.warmups + options.runs; round++) {
        const warmUp = round < options.warmups;
        for (const [i, r] of runners.entries()) {
          const what = `scenario server, ${r.kind}, ${c.lines} lines x ${c.connections}`;
          const result = await drive(r.port, body, expected, c.connections, warmUp ? durationMs / 4 : durationMs, what);
          const stats = await statsOf(r);
          if (r === ours && c.connections === 64) oursRequestsAt64 += result.requests;
          if (!warmUp) {
            rounds[i]!.push(result);
            peaks[i]!.push(stats);
          }
        }
      }
      const label = `${c.lines} line${c.lines === 1 ? '' : 's'} x ${c.connections}`;
      const [mine, theirs] = rounds.map((results) => ({
        perSecond: median(results.map((x) => x.perSecond)),
        p50Ms: median(results.map((x) => x.p50Ms)),
        p99Ms: median(results.map((x) => x.p99Ms)),
        spread: `${Math.min(...results.map((x) => x.perSecond)).toFixed(0)}-${Math.max(...results.map((x) => x.perSecond)).toFixed(0)} req/s`,
      })) as [{ perSecond: number; p50Ms: number; p99Ms: number; spread: string }, { perSecond: number; p50Ms: number; p99Ms: number; spread: string }];
      const [myPeak, theirPeak] = peaks.map((p) => ({ threads: Math.max(...p.map((s) => s.peakThreads)), rss: Math.max(...p.map((s) => s.peakRssMb)) })) as [{ threads: number; rss: number }, { threads: number; rss: number }];
      for (const [name, m, peak] of [['ours', mine, myPeak], [c.anchor, theirs, theirPeak]] as const) {
        run.rows.push({ runner: `${name}, ${label}`, items: c.lines, itemsPerSecond: m.perSecond, note: `req/s` });
        console.log(`   ${name}, ${label}: ${m.perSecond.toFixed(1)} req/s (${m.spread}), p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, peak ${peak.threads} OS threads, ${peak.rss.toFixed(0)} MB`);
        run.figures[`${name} ${label}: req/s`] = m.perSecond;
        run.figures[`${name} ${label}: p99 ms`] = m.p99Ms;
      }
      run.checks.push(
        check(`${label}: ours / ${c.anchor} requests/s`, mine.perSecond / theirs.perSecond, 'x', { atLeast: 1 }),
        check(`${label}: ours / ${c.anchor} p99`, mine.p99Ms / theirs.p99Ms, 'x', { atMost: 1 }),
      );
    }

    const afterMany = await statsOf(ours);
    const piscinaAfterMany = await statsOf(piscinaLine);
    run.checks.push(
      check(`idle RSS after ${oursRequestsAt64 > 0 ? `${oursRequestsAt64.toLocaleString('en-US')} requests at 64 connections` : 'the runs'} / after 10 (${afterMany.idleRssMb.toFixed(0)} vs ${afterTen.idleRssMb.toFixed(0)} MB)`, afterMany.idleRssMb / afterTen.idleRssMb, 'x', { atMost: 1.25 }),
      check(`piscina-line: idle RSS after the same runs / after 10 (${piscinaAfterMany.idleRssMb.toFixed(0)} vs ${piscinaAfterTen.idleRssMb.toFixed(0)} MB)`, piscinaAfterMany.idleRssMb / piscinaAfterTen.idleRssMb, 'x'),
    );

    // Threads under many connections: the pool's, plus Node's own, whatever the number.
    const manyConnections = options.quick ? 64 : 256;
    const base = await drive(ours.port, small, smallAnswer, 1, durationMs / 4, 'scenario server, 1 connection');
    const atOne = (await statsOf(ours)).peakThreads;
    await drive(ours.port, small, smallAnswer, manyConnections, durationMs, `scenario server, ${manyConnections} connections`);
    const atMany = (await statsOf(ours)).peakThreads;
    run.checks.push(check(`ours: OS threads at ${manyConnections} connections minus at 1 (${atMany} vs ${atOne}; ${base.requests} requests at 1)`, atMany - atOne, 'threads', { atMost: 2 }));

    // Clients that go away mid-body and mid-response leave nothing behind.
    const before = await statsOf(ours);
    await disconnectingClients(ours.port, bodyOf(2000));
    await sleep(1500);
    const after = await statsOf(ours);
    if (await answerOf(ours.port, small) !== smallAnswer) throw new OutputMismatch('scenario server: ours answers wrongly after 64 clients went away');
    run.checks.push(
      check(`ours after 64 clients went away mid-body and mid-response: OS threads (${after.threads} vs ${before.threads} before)`, after.threads - before.threads, 'threads', { atMost: 0 }),
      check(`ours after 64 clients went away: idle RSS / before (${after.idleRssMb.toFixed(0)} vs ${before.idleRssMb.toFixed(0)} MB)`, after.idleRssMb / before.idleRssMb, 'x', { atMost: 1.25 }),
    );
  } finally {
    await Promise.all(servers.map(stop));
  }

  // The cost a request adds in a warm process, measured here (not in a server).
  await perRequestMs(50);
  const times = await perRequestMs(options.quick ? 200 : 2000);
  run.checks.push(check(`createPipeline of 2 module stages, 1 item, to its result, warm (p99 ${percentile(times, 99).toFixed(2)} ms)`, median(times), 'ms', { atMost: 0.5 }));
  run.notes.push(
    'servers in processes of their own; this process drives them with keep-alive connections, one request after another on each',
    'threads are the server process\'s OS threads (Node\'s own, V8\'s, libuv\'s and the pool\'s), peak over a run; RSS after a forced GC for the idle figures',
  );
  return run.result();
}
