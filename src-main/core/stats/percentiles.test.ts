// Nearest-rank percentiles on textbook data, and a constructed case proving that averaging per-run
// percentiles gives a different — and wrong — answer from pooling the raw samples.
import { describe, expect, it } from 'vitest';
import { percentileOfSorted, percentiles, pooledPercentiles } from './percentiles.ts';
import { thrownCnlabError as thrown } from '../../../tests/support/cnlab-error';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);


describe('nearest-rank percentiles', () => {
  it('matches the textbook example (Wikipedia, "Percentile", nearest-rank method)', () => {
    const sorted = [15, 20, 35, 40, 50];
    expect(percentileOfSorted(sorted, 5)).toBe(15);
    expect(percentileOfSorted(sorted, 30)).toBe(20);
    expect(percentileOfSorted(sorted, 40)).toBe(20);
    expect(percentileOfSorted(sorted, 50)).toBe(35);
    expect(percentileOfSorted(sorted, 100)).toBe(50);
    expect(percentileOfSorted(sorted, 0)).toBe(15);
  });

  it('returns observed samples on 1..10 and snaps exact ranks despite binary rounding', () => {
    const r = percentiles(range(1, 10), [25, 50, 90, 99]);
    expect(r.map((x) => x.value)).toEqual([3, 5, 9, 10]);
    expect(percentileOfSorted(range(1, 1000), 99.9)).toBe(999);
    expect(percentileOfSorted(range(1, 1000), 99.99)).toBe(1000);
    // 99.9 · 41000 / 100 is 40959.00000000001 in binary, but the rank is exactly 40959 ...
    expect(percentileOfSorted(range(1, 41000), 99.9)).toBe(40959);
    // ... while 99.999 · 99991 / 100 = 99990.00009 really is fractional, so the rank is 99991.
    expect(percentileOfSorted(range(1, 99991), 99.999)).toBe(99991);
    expect(percentileOfSorted(range(1, 7), 100 / 3)).toBe(3); // no short decimal: float fallback, ⌈2.33⌉
  });

  it('says which tail percentiles the sample count cannot resolve', () => {
    const r = percentiles(range(1, 1000));
    const resolved = Object.fromEntries(r.map((x) => [x.p, x.resolved]));
    expect(resolved).toEqual({
      25: true,
      50: true,
      75: true,
      90: true,
      99: true,
      99.9: true,
      99.99: false,
      99.999: false,
    });
  });

  it('sorts unsorted input numerically, not as strings', () => {
    expect(percentiles([100, 9, 20, 3], [50, 100]).map((x) => x.value)).toEqual([9, 100]);
  });
});

describe('pooledPercentiles', () => {
  it('differs from the average of per-run percentiles, and only the pooled value is a p99', () => {
    // Run A is 1..100, run B is 101..200 (say, before and after a noisy neighbour started).
    const runA = range(1, 100);
    const runB = range(101, 200);
    const averagedP99 = (percentileOfSorted(runA, 99) + percentileOfSorted(runB, 99)) / 2; // (99 + 199) / 2
    const pooled = pooledPercentiles([runA, runB], [99]);
    const pooledP99 = pooled.percentiles[0]?.value;
    expect(averagedP99).toBe(149);
    expect(pooledP99).toBe(198);
    const all = [...runA, ...runB];
    const fractionAbove = (v: number): number => all.filter((x) => x > v).length / all.length;
    // A p99 leaves at most 1% of samples above it; the "averaged p99" leaves a quarter of them.
    expect(fractionAbove(pooledP99 ?? Number.NaN)).toBeLessThanOrEqual(0.01);
    expect(fractionAbove(averagedP99)).toBe(0.255);
  });

  it('keeps a rare stall in one run visible instead of inventing a latency nobody saw', () => {
    const quiet = new Array<number>(1000).fill(10);
    const stalled = [...new Array<number>(980).fill(10), ...new Array<number>(20).fill(500)];
    const averagedP99 = (percentileOfSorted(quiet, 99) + percentileOfSorted([...stalled].sort((a, b) => a - b), 99)) / 2;
    expect(averagedP99).toBe(255); // no sample was ever 255
    const pooled = pooledPercentiles([quiet, stalled], [99, 99.5]);
    expect(pooled).toMatchObject({ n: 2000, runs: 2 });
    expect(pooled.percentiles.map((x) => x.value)).toEqual([10, 500]);
  });

  it('rejects no runs, an empty run and non-finite samples, naming the run', () => {
    expect(thrown(() => pooledPercentiles([])).code).toBe('invalid-input');
    expect(thrown(() => pooledPercentiles([[1], []])).message).toMatch(/^run 2 of 2: no samples/);
    expect(thrown(() => pooledPercentiles([[1, Infinity]])).message).toMatch(/^run 1 of 1: sample #2 is Infinity/);
    expect(thrown(() => percentiles([1, 2], [101])).code).toBe('invalid-input');
  });
});
