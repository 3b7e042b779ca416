// `npm start` runs the demo: it must finish by itself and print its report.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { LatencySummary, StageStatistics } from 'async-task-pipeline';
import { duration, explain } from '../examples/demo-advice.js';
import { makeTempDir } from './helpers.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

describe('the demo', function () {
  this.timeout(60_000);
  const temp = makeTempDir('demo');
  after(() => temp.remove());

  it('processes its generated documents and prints results and a latency report', async () => {
    const demo = new URL('dist/examples/demo.js', root).pathname;
    const report = join(temp.dir, 'demo-report.html');
    const { stdout } = await run(process.execPath, [demo], { cwd: root.pathname, env: { ...process.env, DEMO_DOCS: '300', DEMO_REPORT: report }, timeout: 50_000 });
    const kept = /kept (\d+) of (\d+)/.exec(stdout);
    expect(kept, stdout).to.not.equal(null);
    expect(Number(kept![2])).to.equal(300);
    expect(Number(kept![1])).to.be.within(1, 299);
    expect(stdout).to.match(/latency per item: avg [\d.]+ ms, p50/);
    for (const name of ['countWords', 'fingerprint', 'keepHighScores']) expect(stdout).to.include(name);
    expect(stdout).to.match(/% of an item's time in the pipeline was spent in stage functions/);
    expect(stdout).to.match(/\nbottleneck: (\w+|none \(\w+\))\. /);
    expect(stdout).to.include(`run report: ${report} (open it in a browser)`);
    expect(readFileSync(report, 'utf8')).to.match(/^<!DOCTYPE html>/).and.include('fingerprint');
  });
});

/** A summary with the given stages' average times, in seconds. */
function summaryOf(stages: Record<string, { work: number; wait: number; crossing: number }>): LatencySummary {
  const stageStatistics: Record<string, StageStatistics> = {};
  let work = 0;
  let total = 0;
  for (const [name, t] of Object.entries(stages)) {
    work += t.work;
    total += t.work + t.wait + t.crossing;
    stageStatistics[name] = {
      processedCount: 10,
      timingBreakdown: { avgComputationTime: t.work, avgQueueWaitTime: t.wait, avgTransmissionTime: t.crossing, computationRatio: 0 },
    } as StageStatistics;
  }
  return { stageStatistics, overallEfficiency: { computationEfficiency: work / total, overheadRatio: 1 - work / total } } as LatencySummary;
}

describe('the demo\'s explanation of its figures', () => {
  it('tells a stage whose work is smaller than its crossing to run on the main thread or be fused, naming its figures', () => {
    const lines = explain(summaryOf({ light: { work: 5e-6, wait: 0, crossing: 1e-3 }, heavy: { work: 5e-3, wait: 0, crossing: 1e-4 } }));
    const light = lines.filter((l) => l.startsWith('light:'));
    expect(light).to.have.length(1);
    expect(light[0]).to.include('thread: false').and.include('5.0 µs').and.include('1.00 ms');
    expect(lines.some((l) => l.startsWith('heavy:'))).to.equal(false);
  });

  it('calls long queue waits a backlog and points at the stage with the most work', () => {
    const lines = explain(summaryOf({ a: { work: 1e-5, wait: 1e-4, crossing: 1e-5 }, b: { work: 2e-3, wait: 0.2, crossing: 1e-3 } }));
    expect(lines.at(-1)).to.match(/^Most of the waiting was before b: 200\.00 ms per item for 2\.00 ms of work/);
    expect(lines.at(-1)).to.include('b does the most work per item');
  });

  it('says nothing about backlog when items hardly wait', () => {
    const lines = explain(summaryOf({ a: { work: 2e-3, wait: 1e-4, crossing: 1e-4 } }));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^9\d\.\d% of an item's time/);
  });

  it('prints work below 0.1 ms in microseconds rather than as 0.00 ms', () => {
    expect(duration(4.9e-6)).to.equal('4.9 µs');
    expect(duration(1.5e-3)).to.equal('1.50 ms');
  });
});
