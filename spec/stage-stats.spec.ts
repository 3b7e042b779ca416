// stage.stats as a user sees it: console.log, util.inspect and JSON.stringify
// show the figures, not the internals of the running statistics.

import { inspect } from 'node:util';
import { expect } from 'chai';
import { createPipeline, stage } from 'async-task-pipeline';
import { runThrough } from './helpers.js';

describe('stage.stats', () => {
  it('prints its figures before any item, with no Infinity, NaN or histogram handle', () => {
    const text = inspect(stage((x: number) => x).stats);
    expect(text).to.match(/^StageStats \{/);
    expect(text).to.include('received: 0');
    expect(text).to.not.match(/Infinity|NaN|histogram|LatencyStat/i);
  });

  it('serializes to JSON with its counts and latencies in seconds once items ran in a timed pipeline', async () => {
    const double = stage((x: number) => x * 2, { name: 'double' });
    await runThrough(createPipeline([double]), [1, 2, 3]);
    const json = JSON.parse(JSON.stringify(double.stats)) as Record<string, unknown> & { latencySeconds: Record<string, number> };
    expect(json).to.include({ received: 3, emitted: 3, filtered: 0, failed: 0, itemsHeld: 0 });
    const l = json.latencySeconds;
    expect(l.count).to.equal(3);
    expect(l.min).to.be.greaterThan(0);
    expect(l.min).to.be.at.most(l.p50!);
    expect(l.p50).to.be.at.most(l.max!);
    expect(Object.values(json).filter((v) => typeof v === 'number').every(Number.isFinite)).to.equal(true);
  });

  it('prints as [StageStats] past the depth util.inspect is given', () => {
    const text = inspect({ outer: { inner: stage((x: number) => x).stats } }, { depth: 1 });
    expect(text).to.include('[StageStats]');
  });
});
