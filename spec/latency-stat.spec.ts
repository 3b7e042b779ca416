// LatencyStat keeps its first values as they are and makes its HDR histogram
// only past them (a histogram costs ~10 us to make; a pipeline per request
// pays it per stage). Both ways must give the same figures.

import { expect } from 'chai';
import { LatencyStat } from '../lib/timing/latency-stat.js';
import { seededRandom } from './helpers.js';

function filled(values: number[]): LatencyStat {
  const stat = new LatencyStat();
  for (const v of values) stat.record(v);
  return stat;
}

describe('LatencyStat', () => {
  it('gives exact nearest-rank percentiles for a few values', () => {
    const stat = filled([0.005, 0.001, 0.003, 0.002, 0.004]);
    expect(stat.percentile(50)).to.be.closeTo(0.003, 1e-12);
    expect(stat.percentile(99)).to.be.closeTo(0.005, 1e-12);
    expect(stat.percentile(0)).to.be.closeTo(0.001, 1e-12);
    expect(stat.count).to.equal(5);
    expect(stat.mean).to.be.closeTo(0.003, 1e-12);
  });

  it('answers 0 before any value', () => {
    expect(new LatencyStat().percentile(50)).to.equal(0);
  });

  it('agrees with itself across the switch to the histogram, which keeps the first values', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 5000 }, () => 0.0001 + random() * 0.01);
    const sorted = [...values].sort((a, b) => a - b);
    const stat = filled(values);
    for (const p of [1, 25, 50, 90, 99, 100]) {
      const exact = sorted[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))]!;
      // The HDR histogram's precision: three significant digits.
      expect(stat.percentile(p), `p${p}`).to.be.closeTo(exact, exact * 0.002);
    }
    // The first 64 values are in it: a stat of only small first values then one large one.
    const mixed = filled([...Array.from({ length: 64 }, () => 0.001), 1]);
    expect(mixed.percentile(50)).to.be.closeTo(0.001, 0.001 * 0.002);
    expect(mixed.percentile(100)).to.be.closeTo(1, 0.002);
  });
});
