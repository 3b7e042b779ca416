// examples/tcp-socket: one worker pipeline per connection (issue 5).

import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { expect } from 'chai';
import type { Pipeline } from 'async-task-pipeline';
import { createTcpServer } from '../examples/tcp-socket/server.js';
import { bodyOf, expectAnalyses, linesOf, parseLines } from './fixtures/ecosystem-analysis.js';
import type { ErrorLine } from './fixtures/ecosystem-analysis.js';
import { waitUntil } from './helpers.js';

/** One client connection: writes text, keeps everything it reads. */
class Client {
  readonly socket: Socket;
  text = '';
  readonly ended: Promise<unknown>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => { this.text += chunk; });
    this.ended = once(this.socket, 'end');
  }

  async send(text: string): Promise<void> {
    if (!this.socket.write(text)) await once(this.socket, 'drain');
  }

  /** Complete lines read so far. */
  linesRead(): number {
    let count = 0;
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) count++;
    return count;
  }

  /** Ends our side, waits for the server to end its own, and returns what it sent. */
  async finish(): Promise<unknown[]> {
    this.socket.end();
    await this.ended;
    return parseLines(this.text);
  }
}

describe('examples/tcp-socket', function () {
  this.timeout(60_000);
  const pipelines: Pipeline[] = [];
  const clients: Client[] = [];
  let server: Server;
  let port: number;

  beforeEach(async function () {
    pipelines.length = 0;
    clients.length = 0;
    server = createTcpServer({ onPipeline: (pipeline) => pipelines.push(pipeline) });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async function () {
    // server.close() waits for open connections: a failed test may leave some.
    for (const client of clients) client.socket.destroy();
    server.close();
    await once(server, 'close');
  });

  function connectClient(): Client {
    const client = new Client(port);
    clients.push(client);
    return client;
  }

  async function workersGone(): Promise<void> {
    // A pipeline closes only after its stages, and a stage only after its workers have exited.
    await waitUntil(() => pipelines.every((p) => p.closed), 'every pipeline closed', 15_000);
  }

  it('gives two concurrent connections their own pipeline and each its own results, in order', async function () {
    const linesA = linesOf(10_000, 1, 0);
    const linesB = linesOf(10_000, 2, 1_000_000);
    const a = connectClient();
    const b = connectClient();
    // First halves, then wait until both have results back: both pipelines
    // are at work at once before the second halves go.
    await Promise.all([a.send(bodyOf(linesA.slice(0, 5000))), b.send(bodyOf(linesB.slice(0, 5000)))]);
    await waitUntil(() => a.linesRead() > 0 && b.linesRead() > 0, 'both connections had results', 30_000);
    expect(pipelines).to.have.length(2);
    expect(pipelines.every((p) => !p.writableEnded)).to.equal(true);
    await Promise.all([a.send(bodyOf(linesA.slice(5000))), b.send(bodyOf(linesB.slice(5000)))]);
    const [resultsA, resultsB] = await Promise.all([a.finish(), b.finish()]);
    expectAnalyses(resultsA, linesA);
    expectAnalyses(resultsB, linesB);
    expect(pipelines[0]).to.not.equal(pipelines[1]);
    await workersGone();
  });

  it('answers a line that is not JSON with an error line naming it, then ends the connection', async function () {
    const client = connectClient();
    const lines = linesOf(100);
    await client.send(bodyOf(lines.slice(0, 50)) + '{"id": 50, oops\n' + bodyOf(lines.slice(51)));
    const results = await client.finish();
    const last = results.pop() as ErrorLine;
    expect(last.error).to.include({ code: 'ERR_INVALID_JSON_LINE', line: 51 });
    expect(last.error.message).to.match(/^jsonLines: line 51 is not valid JSON/);
    // The result of every line before the bad one, in order, and no more.
    expectAnalyses(results, lines.slice(0, 50));
    await workersGone();
  });

  it('delivers the result of every line before a bad line near the end, then the error line, every time', async function () {
    const lines = linesOf(1000);
    for (let run = 0; run < 3; run++) {
      const client = connectClient();
      await client.send(bodyOf(lines.slice(0, 989)) + '{"id": 989, oops\n' + bodyOf(lines.slice(990)));
      const results = await client.finish();
      const last = results.pop() as ErrorLine;
      expect(last.error).to.include({ code: 'ERR_INVALID_JSON_LINE', line: 990 });
      expectAnalyses(results, lines.slice(0, 989));
    }
    await workersGone();
  });

  it('destroys the pipeline and its workers when the client goes away', async function () {
    const client = connectClient();
    await client.send(bodyOf(linesOf(1000)));
    await waitUntil(() => client.linesRead() > 0, 'the client had a result');
    client.socket.destroy();
    await workersGone();
    // Destroyed, not finished: the client never ended its input.
    expect(pipelines[0]!.destroyed).to.equal(true);
    expect(pipelines[0]!.writableEnded).to.equal(false);
  });
});
