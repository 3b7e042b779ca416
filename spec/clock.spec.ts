import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { PipelineItem, stage } from 'async-task-pipeline';
import { fixture, makeTempDir, removeScripts, runNodeWith, runThrough, writeScript } from './helpers.js';
import { clockOffset } from './fixtures/clock-probe.js';

// Issue 15 saw an item's computation start (read in a worker) 0.2 us before
// its queue enter (read on the main thread) on Node 24. Every thread shares
// the process's timeOrigin and monotonic clock, so the two must agree to the
// last bit on every line; these guard that, with no slack allowed.
describe('the cross-thread clock', () => {
  it("gives every worker thread the main thread's clock, to within a microsecond", async () => {
    const probe = stage({ module: fixture('clock-probe.js'), export: 'clockOffset' }, { concurrency: 2 });
    const offsets = (await runThrough(probe, Array.from({ length: 40 }, (_, i) => i))) as number[];
    const main = clockOffset();
    for (const offset of offsets) expect(Math.abs(offset - main)).to.be.below(1e-6);
  });

  it('never has an item start computing before it entered, or leave before it finished, over 2,000 items', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => new PipelineItem(i, i));
    const out = (await runThrough(stage((x: number) => x + 1, { name: 'inc', concurrency: 2 }), items)) as PipelineItem[];
    expect(out).to.have.length(2000);
    for (const item of out) {
      const timing = item.stageTimings.get('inc')!;
      expect(timing.processingStartTime).to.be.at.least(timing.queueEnterTime);
      expect(timing.processingEndTime).to.be.at.least(timing.processingStartTime);
      expect(timing.queueExitTime).to.be.at.least(timing.processingEndTime);
    }
  });
});

// Debian's libfaketime moves this process's wall clock (Date.now(), and
// what timeOrigin is read from) while leaving the monotonic clock alone, as
// an NTP step does: the file it reads is rewritten mid-run.
const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

const stepScript = (stepFile: string): string => `
import { writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PipelineItem, stage } from 'async-task-pipeline';
const inc = stage((x) => x + 1, { name: 'inc' });
const out = [];
const sink = new Writable({ objectMode: true, write(item, _e, cb) { out.push(item); cb(); } });
const items = async function* () {
  yield new PipelineItem(0, 0);
  // The wall clock steps by process.argv[2] while the stage runs.
  writeFileSync(${JSON.stringify(stepFile)}, process.argv[2] + '\\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 1; i < 20; i++) yield new PipelineItem(i, i);
};
await pipeline(Readable.from(items()), inc, sink);
console.log(JSON.stringify(out.map((item) => {
  const t = item.stageTimings.get('inc');
  return { createdAt: item.createdAt, enter: t.queueEnterTime, start: t.processingStartTime, end: t.processingEndTime, exit: t.queueExitTime, total: item.getTotalLatency() };
})));
`;

describe('the clock when the wall clock steps', function () {
  this.timeout(30_000);
  after(removeScripts);

  for (const step of ['+10s', '-10s']) {
    it(`keeps every time of an item in order, and its latency true, when the wall clock steps ${step} mid-run`, async function () {
      if (!existsSync(FAKETIME)) {
        if (process.env.ATP_REQUIRE_FAKETIME === '1') expect.fail(`ATP_REQUIRE_FAKETIME=1 but ${FAKETIME} is missing (apt-get install faketime)`);
        console.log(`      SKIPPED: ${FAKETIME} is missing (apt-get install faketime); .ci/run installs it and makes this required`);
        this.skip();
      }
      const temp = makeTempDir('clock-step');
      try {
        const stepFile = join(temp.dir, 'faketime');
        writeFileSync(stepFile, '+0\n');
        const script = writeScript('clock-step', stepScript(stepFile));
        const env = { LD_PRELOAD: FAKETIME, FAKETIME_TIMESTAMP_FILE: stepFile, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' };
        const child = await runNodeWith([script, step], { env });
        expect(child.code, child.stderr).to.equal(0);
        const times = JSON.parse(child.stdout) as Array<{ createdAt: number; enter: number; start: number; end: number; exit: number; total: number }>;
        expect(times).to.have.length(20);
        for (const t of times) {
          expect(t.enter).to.be.at.least(t.createdAt);
          expect(t.start).to.be.at.least(t.enter);
          expect(t.end).to.be.at.least(t.start);
          expect(t.exit).to.be.at.least(t.end);
          expect(t.total).to.be.within(0, 5);
        }
      } finally {
        temp.remove();
      }
    });
  }
});
