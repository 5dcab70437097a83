import { describe, expect, it } from 'vitest';
import { kendallTauB } from './kendall';

describe('kendallTauB', () => {
  it('is 1 for the same order and −1 for the reverse, whatever the scale', () => {
    expect(kendallTauB([1, 2, 3, 4], [10, 200, 3000, 40000])).toBe(1);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('counts one swapped pair of four items as (5 − 1) / 6', () => {
    expect(kendallTauB([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
  });

  it('gives tau-b with ties, as scipy.stats.kendalltau does (values computed with scipy on this machine)', () => {
    // x ties two items, y none: C = 5, D = 0, one pair tied in x only → 5 / sqrt(5 × 6).
    expect(kendallTauB([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.912870929175277, 12);
    // scipy's own documentation example, ties on both sides.
    expect(kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])).toBeCloseTo(-0.4714045207910316, 12);
  });

  it('has no value without an order to compare', () => {
    expect(kendallTauB([1], [1])).toBeNull();
    expect(kendallTauB([2, 2, 2], [1, 2, 3])).toBeNull();
    expect(() => kendallTauB([1, 2], [1])).toThrow(/2 x values against 1/);
  });
});
