// Nothing leaked, and the host's signal handling untouched: each scenario
// runs in a child node process, which must exit by itself.

import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { fixture, runNode, writeScript } from './helpers.js';

const crashes = fixture('crashes.js').href;

/** A script that runs `body` (top-level await allowed) after the common imports. */
function script(name: string, body: string): string {
  return writeScript(name, `
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stage, createPipeline, AsyncTaskPipeline } from 'async-task-pipeline';
const crash = { module: new URL(${JSON.stringify(crashes)}), export: 'crash' };
const sink = () => new Writable({ objectMode: true, write(_c, _e, cb) { setTimeout(cb, 1); } });
const endless = () => Readable.from((function* () { for (let id = 0; ; id++) yield { id, crash: 'ok' }; })());
${body}
console.log('settled');
`);
}

const endings: Record<string, string> = {
  'a pipeline that finishes': `
await pipeline(Readable.from([{ id: 0, crash: 'ok' }, { id: 1, crash: 'ok' }]), createPipeline([stage(crash), stage(crash, { name: 'b', concurrency: 2 })]), sink());`,
  'a pipeline that fails': `
await pipeline(Readable.from([{ id: 0, crash: 'ok' }, { id: 1, crash: 'reject-string' }]), stage(crash, { concurrency: 2 }), sink()).catch((e) => console.log(e.code));`,
  'a pipeline whose signal aborts': `
const controller = new AbortController();
setTimeout(() => controller.abort(), 100);
await pipeline(endless(), stage(crash, { signal: controller.signal }), sink()).catch((e) => console.log(e.name));`,
  'a stage destroyed mid-stream': `
const s = stage(crash);
setTimeout(() => s.destroy(), 100);
await pipeline(endless(), s, sink()).catch((e) => console.log(e.code));`,
  'a consumer that breaks out of for await': `
const s = stage(crash);
endless().pipe(s);
for await (const x of s) if (x > 10) break;`,
  'an item that times out': `
await pipeline(Readable.from([{ id: 0, crash: 'hang' }]), stage(crash, { timeout: 100, onError: 'skip' }), sink());`,
  'a worker that dies': `
await pipeline(Readable.from([{ id: 0, crash: 'exit' }, { id: 1, crash: 'ok' }]), stage(crash, { onError: 'skip' }), sink());`,
  'an AsyncTaskPipeline stopped without draining': `
const p = new AsyncTaskPipeline({ maxQueueSize: 4 });
p.addStage('crash', crash);
await p.start();
const feeding = p.processInputStream(endless()).catch(() => undefined);
await new Promise((r) => setTimeout(r, 100));
console.log((await p.stop({ drain: false })).discarded > 0);
await feeding;`,
};

describe('ending', function () {
  this.timeout(60_000);

  for (const [what, body] of Object.entries(endings)) {
    it(`lets the process exit by itself after ${what}`, async () => {
      const result = await runNode(script(what.replace(/\W+/g, '-'), body), 20_000);
      expect(result.timedOut, `${what}: still running after 20 s\n${result.stderr}`).to.equal(false);
      expect(result.stderr).to.not.match(/uncaught|unhandled/i);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('settled');
    });
  }

  /** Starts a child that signals 'ready' mid-stream, then sends it `signal`. */
  function signalMidStream(body: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
    const path = script(`signal-${signal}`, body);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        if (text.includes('ready')) child.kill(signal);
      });
      child.on('error', reject);
      child.on('close', (code, sig) => { clearTimeout(timer); resolve({ code, signal: sig, stdout }); });
    });
  }

  const midStream = `
let announced = false;
const s = stage(crash);
s.on('data', () => { if (!announced) { announced = true; console.log('ready'); } });
await pipeline(endless(), s, sink()).catch(() => undefined);`;

  it('leaves the host program\'s own SIGINT handler and exit code in charge', async () => {
    // The host takes its time to exit: a handler of the library's that exits
    // at once (as threads.js installs) would end the process first, with 0.
    const host = `process.on('SIGINT', () => { console.log('host handler'); setTimeout(() => process.exit(42), 100); });`;
    const result = await signalMidStream(`${host}\n${midStream}`, 'SIGINT');
    expect(result.stdout).to.include('host handler');
    expect(result.code).to.equal(42);
  });

  it('lets SIGTERM end a host without a handler the default way', async () => {
    const result = await signalMidStream(midStream, 'SIGTERM');
    expect(result.signal).to.equal('SIGTERM');
    expect(result.code).to.equal(null);
  });
});
