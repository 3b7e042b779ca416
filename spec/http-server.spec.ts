// examples/http-server: JSON Lines in, worker stages, JSON Lines out, with
// backpressure from a slow client back to the request (issue 5).

import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import type { Pipeline } from 'async-task-pipeline';
import { createServer } from '../examples/http-server/server.js';
import type { HttpServerOptions } from '../examples/http-server/server.js';
import type { Analysis } from '../examples/http-server/stages.js';
import { bodyOf, expectAnalyses, linesOf, parseLines } from './fixtures/ecosystem-analysis.js';
import type { ErrorLine } from './fixtures/ecosystem-analysis.js';
import { fixture, range, sleep, waitUntil } from './helpers.js';

/** A started server, the pipelines it made, and how to stop it. */
class Running {
  readonly pipelines: Pipeline[] = [];
  readonly responses: ServerResponse[] = [];
  readonly server: Server;
  url = '';

  constructor(options: HttpServerOptions = {}) {
    this.server = createServer({
      ...options,
      onPipeline: (pipeline, response) => {
        this.pipelines.push(pipeline);
        this.responses.push(response);
      },
    });
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  /** Resolves once every request's pipeline has closed: a pipeline closes only after its stages, and a stage only after its workers have exited. */
  async workersGone(): Promise<void> {
    await waitUntil(() => this.pipelines.every((p) => p.closed), 'every pipeline closed', 15_000);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** Resolves with `count()` once it has not changed for `quietMs`. */
async function whenStalled(count: () => number, quietMs = 1000): Promise<number> {
  let last = count();
  let since = Date.now();
  for (;;) {
    await sleep(50);
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
}

describe('examples/http-server', function () {
  this.timeout(60_000);
  let running: Running;

  afterEach(async function () {
    await running.stop();
  });

  it('answers 50,000 posted lines with 50,000 result lines, in order, then frees its workers', async function () {
    running = await new Running().start();
    const lines = linesOf(50_000);
    const response = await fetch(running.url, { method: 'POST', body: bodyOf(lines) });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/x-ndjson');
    expectAnalyses(parseLines(await response.text()), lines);
    expect(running.pipelines).to.have.length(1);
    await running.workersGone();
  });

  it('answers a body whose first line is not JSON with 400 and one error line naming the line', async function () {
    running = await new Running().start();
    const response = await fetch(running.url, { method: 'POST', body: 'not json\n' + bodyOf(linesOf(1000)) });
    expect(response.status).to.equal(400);
    const [only, ...rest] = parseLines(await response.text()) as ErrorLine[];
    expect(rest).to.deep.equal([]);
    expect(only!.error).to.include({ code: 'ERR_INVALID_JSON_LINE', line: 1 });
    expect(only!.error.message).to.match(/^jsonLines: line 1 is not valid JSON/);
    await running.workersGone();
  });

  it('ends a response already under way with the results so far and an error line naming the bad line', async function () {
    running = await new Running().start();
    const lines: unknown[] = linesOf(50_000);
    lines[39_999] = '{"id": 39999, "text": unquoted}';
    const body = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)) + '\n').join('');
    const response = await fetch(running.url, { method: 'POST', body });
    // Results flow while the body is read, so the status went out long
    // before line 40,000; every line before it has its result.
    expect(response.status).to.equal(200);
    const results = parseLines(await response.text());
    const last = results.pop() as ErrorLine;
    expect(last.error).to.include({ line: 40_000, code: 'ERR_INVALID_JSON_LINE' });
    expect(last.error.message).to.match(/^jsonLines: line 40000 is not valid JSON/);
    expect(results).to.have.length(39_999);
    results.forEach((result, i) => expect((result as Analysis).id).to.equal(i));
    await running.workersGone();
  });

  it('delivers the result of every line before a bad line near the end, then the error line, every time', async function () {
    running = await new Running().start();
    const lines: unknown[] = linesOf(1000);
    lines[989] = '{"id": 989, oops';
    const body = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)) + '\n').join('');
    for (let run = 0; run < 3; run++) {
      const response = await fetch(running.url, { method: 'POST', body });
      const results = parseLines(await response.text());
      const last = results.pop() as ErrorLine;
      expect(last.error).to.include({ line: 990, code: 'ERR_INVALID_JSON_LINE' });
      expectAnalyses(results, linesOf(989));
    }
    await running.workersGone();
  });

  it('answers a failed stage with its error as the last line and frees the workers', async function () {
    const ecosystem = fixture('ecosystem-lines.js');
    running = await new Running({ stages: () => [stage({ module: ecosystem, export: 'failOn' }, { context: 3 })] }).start();
    const response = await fetch(running.url, { method: 'POST', body: bodyOf(range(10).map((id) => ({ id }))) });
    const results = parseLines(await response.text());
    const last = results.pop() as ErrorLine;
    expect(last.error).to.include({ code: 'FUNCTION_FAILED', stage: 'failOn' });
    expect(last.error.message).to.include('line 3 is the one that fails');
    // 500 if the error beat the first result out, else 200 after results 0..2.
    expect(results).to.deep.equal(range(results.length).map((id) => ({ id })));
    expect(response.status).to.equal(results.length === 0 ? 500 : 200);
    await running.workersGone();
  });

  describe('a client that stops reading the response', function () {
    const LINES = 20_000;
    const PAD_BYTES = 4096;
    const HIGH_WATER_MARK = 16;
    const ecosystem = fixture('ecosystem-lines.js');
    const options: HttpServerOptions = {
      highWaterMark: HIGH_WATER_MARK,
      stages: () => [stage({ module: ecosystem, export: 'pad' }, { context: PAD_BYTES, highWaterMark: HIGH_WATER_MARK })],
    };

    /** Posts LINES small lines with node:http and returns the response, paused before any byte is read. */
    async function postAndPause(url: string): Promise<{ response: IncomingMessage; uploaded: Promise<void> }> {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
      const responded = once(request, 'response') as Promise<[IncomingMessage]>;
      const uploaded = pipeline(Readable.from(range(LINES).map((id) => `{"id":${id}}\n`)), request);
      uploaded.catch(() => {}); // awaited (or abandoned) by the caller
      const [response] = await responded;
      response.pause();
      return { response, uploaded };
    }

    it('stalls the pipeline with bounded queues, then delivers every line when reading resumes', async function () {
      running = await new Running(options).start();
      const { response, uploaded } = await postAndPause(running.url);
      const pipeline = running.pipelines[0]!;
      const head = pipeline.stages[0]!;
      const stalledAt = await whenStalled(() => head.stats.received);
      // 20,000 results of 4 KB (80 MB) cannot fit in the socket buffers: had
      // the server not stopped, it would have taken in every line.
      expect(stalledAt).to.be.below(LINES);
      expect(head.stats.maxItemsHeld).to.be.at.most(HIGH_WATER_MARK);
      expect(pipeline.itemsInside()).to.be.at.most(6 * HIGH_WATER_MARK);
      const serverResponse = running.responses[0]!;
      // What the response holds counts its socket's buffer too: each stops
      // taking writes at its highWaterMark, so at most one result beyond each.
      const resultBytes = PAD_BYTES + 64;
      expect(serverResponse.writableLength).to.be.at.most(2 * (serverResponse.writableHighWaterMark + resultBytes));

      response.setEncoding('utf8');
      response.resume();
      let text = '';
      for await (const chunk of response) text += chunk as string;
      await uploaded;
      const results = parseLines(text) as { id: number; pad: string }[];
      expect(results).to.have.length(LINES);
      results.forEach((result, i) => {
        if (result.id !== i || result.pad.length !== PAD_BYTES) expect.fail(`result ${i} is wrong: id ${result.id}`);
      });
      await running.workersGone();
    });

    it('has its pipeline and workers destroyed when it goes away mid-response', async function () {
      running = await new Running(options).start();
      const { response } = await postAndPause(running.url);
      const pipeline = running.pipelines[0]!;
      await whenStalled(() => pipeline.stages[0]!.stats.received);
      response.destroy();
      await running.workersGone();
      expect(pipeline.destroyed).to.equal(true);
      expect(pipeline.stages[0]!.stats.received).to.be.below(LINES);
    });
  });
});
