// LatencyStat keeps its first values as they are and makes its HDR histogram
// only past them (a histogram costs ~10 us to make; a pipeline per request
// pays it per stage). Both ways must give the same figures.

import { expect } from 'chai';
import { LatencyStat } from '../lib/timing/latency-stat.js';
import { LogHistogram } from '../lib/timing/log-histogram.js';
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

describe('LogHistogram', () => {
  it('answers every percentile within 0.1% of the exact nearest rank, from 1 ns to an hour', () => {
    const random = seededRandom(7);
    // Log-uniform: every power of two from 2^0 to 2^41 ns gets values.
    const values = Array.from({ length: 20_000 }, () => Math.max(1, Math.round(2 ** (random() * 41.7))));
    const histogram = new LogHistogram();
    for (const v of values) histogram.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (let p = 0; p <= 100; p += 0.5) {
      const exact = sorted[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))]!;
      expect(Math.abs(histogram.percentile(p) - exact), `p${p} of ${exact}`).to.be.at.most(exact * 0.001);
    }
  });

  it('keeps small values exact and answers 0 when empty', () => {
    const histogram = new LogHistogram();
    expect(histogram.percentile(50)).to.equal(0);
    for (const v of [3, 1, 2, 511, 512, 513]) histogram.record(v);
    expect([0, 20, 40, 60, 80, 100].map((p) => histogram.percentile(p))).to.deep.equal([1, 2, 3, 511, 512, 513]);
  });
});
