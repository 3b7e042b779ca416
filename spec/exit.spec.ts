import { expect } from 'chai';
import { fixture, removeScripts, runNode, writeScript } from './helpers.js';
import type { ChildResult } from './helpers.js';

// Each script runs in a child node process that must end by itself: no
// stop(), no process.exit(), no cleanup call. A leaked worker or a pending
// call shows as a child killed after CHILD_TIMEOUT_MS; a promise the library
// never settles shows as exit code 13 (unsettled top-level await).
const CHILD_TIMEOUT_MS = 15_000;

// Teardown races depend on when replies cross back, so the scripts that end
// a stage while calls are in flight repeat the scenario a few times.
const ROUNDS = 8;

function run(name: string, source: string): Promise<ChildResult> {
  return runNode(writeScript(name, source), CHILD_TIMEOUT_MS);
}

function expectCleanExit(result: ChildResult, code: number): void {
  const context = `code: ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.timedOut, `the child did not exit by itself\n${context}`).to.equal(false);
  expect(result.stderr, context).to.not.match(/uncaughtException|Unhandled|MaxListenersExceeded|unsettled/i);
  expect(result.code, context).to.equal(code);
}

const HEADER = `
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
const sink = () => new Writable({ objectMode: true, write(_c, _e, cb) { cb(); } });
const endless = () => Readable.from((function* () { for (let i = 0; ; i++) yield i; })());
`;

describe('process exit without cleanup', function () {
  this.timeout(CHILD_TIMEOUT_MS + 5_000);

  after(removeScripts);

  it('exits with code 0 after a pipeline ends normally', async () => {
    const result = await run('normal-end', `${HEADER}
const p = createPipeline([stage((x) => x * 2, { name: 'double', concurrency: 2 }), stage((x) => x + 1, { name: 'inc' })]);
await pipeline(Readable.from([1, 2, 3, 4, 5]), p, sink());
console.log('items', p.getLatencySummary().totalItems);
`);
    expectCleanExit(result, 0);
    expect(result.stdout).to.include('items 5');
  });

  it('exits with the code it chose after a stage fails', async () => {
    const result = await run('stage-failure', `${HEADER}
for (let round = 0; round < ${ROUNDS}; round++) {
  const s = stage((x) => { if (x === 3) throw new Error('three'); return x; }, { concurrency: 2 });
  await pipeline(Readable.from([1, 2, 3, 4, 5]), s, sink()).then(
    () => console.log('resolved'),
    (error) => { console.log('failed', error.code); process.exitCode = 3; },
  );
}
`);
    expectCleanExit(result, 3);
    expect(result.stdout.match(/failed FUNCTION_FAILED/g)).to.have.length(ROUNDS);
  });

  it('exits with code 1 and prints the StageError when a stage failure is left unhandled', async () => {
    const result = await run('unhandled-failure', `${HEADER}
const s = stage((x) => { if (x === 3) throw new Error('three'); return x; });
Readable.from([1, 2, 3, 4, 5]).pipe(s).pipe(sink());
`);
    expect(result.timedOut, result.stderr).to.equal(false);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('StageError');
  });

  it('exits after a stage is destroyed mid-stream', async () => {
    const result = await run('destroy-stage', `${HEADER}
for (let round = 0; round < ${ROUNDS}; round++) {
  const s = stage(async (x) => { await new Promise((r) => setTimeout(r, 1)); return x; }, { concurrency: 2 });
  let seen = 0;
  s.on('data', () => { if (++seen === 10) s.destroy(); });
  const closed = new Promise((resolve) => s.once('close', resolve));
  endless().pipe(s);
  await closed;
  console.log('closed after', seen);
}
`);
    expectCleanExit(result, 0);
    expect(result.stdout.match(/closed after/g)).to.have.length(ROUNDS);
  });

  it('exits after a pipeline is destroyed mid-stream inside stream.pipeline', async () => {
    const result = await run('destroy-pipeline', `${HEADER}
for (let round = 0; round < ${ROUNDS}; round++) {
  const p = createPipeline([stage((x) => x, { name: 'a', concurrency: 2 }), stage((x) => x, { name: 'b' })]);
  let seen = 0;
  const counting = new Writable({ objectMode: true, write(_c, _e, cb) { if (++seen === 20) p.destroy(new Error('enough')); cb(); } });
  await pipeline(endless(), p, counting)
    .catch((error) => { console.log('rejected', error.message); process.exitCode = 4; });
}
`);
    expectCleanExit(result, 4);
    expect(result.stdout.match(/rejected enough/g)).to.have.length(ROUNDS);
  });

  it('exits when an AsyncTaskPipeline is started but never stopped, with idle workers', async () => {
    const result = await run('never-stopped', `${HEADER}
const p = new AsyncTaskPipeline();
p.addStage('double', (x) => x * 2, { concurrency: 2 });
p.addStage('module', { module: ${JSON.stringify(fixture('double.js').href)}, export: 'double' });
await p.start();
await p.processInputData(1);
await p.processInputData(2);
const out = [];
for await (const x of p.generateOutputStream()) { out.push(x); if (out.length === 2) break; }
console.log('out', out.join(','));
`);
    expectCleanExit(result, 0);
    expect(result.stdout).to.include('out 4,8');
  });

  it('exits when an AsyncTaskPipeline is started and never fed', async () => {
    const result = await run('never-fed', `${HEADER}
const p = new AsyncTaskPipeline();
p.addStage('double', (x) => x * 2);
await p.start();
console.log('started');
`);
    expectCleanExit(result, 0);
    expect(result.stdout).to.include('started');
  });

  it('exits after AsyncTaskPipeline.stop({ drain: false }) with items inside', async () => {
    const result = await run('stop-no-drain', `${HEADER}
for (let round = 0; round < ${ROUNDS}; round++) {
  const p = new AsyncTaskPipeline({ maxQueueSize: 8 });
  p.addStage('slow', async (x) => { await new Promise((r) => setTimeout(r, 5)); return x; }, { concurrency: 2 });
  await p.start();
  for (let i = 0; i < 6; i++) await p.processInputData(i);
  const { discarded } = await p.stop({ drain: false });
  console.log('discarded', discarded);
}
`);
    expectCleanExit(result, 0);
    expect(result.stdout.match(/discarded \d+/g)).to.have.length(ROUNDS);
  });

  it('leaves SIGINT and SIGTERM listeners as they were after a stage has run', async () => {
    const result = await run('signal-listeners', `
const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
const { Readable, Writable } = await import('node:stream');
const { pipeline } = await import('node:stream/promises');
const { stage } = await import('async-task-pipeline');
await pipeline(Readable.from([1, 2]), stage((x) => x), new Writable({ objectMode: true, write(_c, _e, cb) { cb(); } }));
const after = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
console.log(JSON.stringify({ before, after }));
`);
    expectCleanExit(result, 0);
    const { before, after } = JSON.parse(result.stdout.trim()) as { before: number[]; after: number[] };
    expect(after).to.deep.equal(before);
  });
});
