// Checks the home-made t quantile against printed tables and reference values (R / Python statistics),
// since a wrong quantile would silently make every confidence interval in cnlab wrong.
import { describe, expect, it } from 'vitest';
import { isCnlabError } from '../errors.ts';
import { normalQuantile, tCdf, tQuantile, tUpperTail } from './t-distribution.ts';

describe('tQuantile', () => {
  it('matches the two-sided 95% table values', () => {
    // Printed tables give 3 decimals; the long values are R's qt().
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(tQuantile(0.975, 29)).toBeCloseTo(2.045, 3);
    expect(tQuantile(0.975, Infinity)).toBeCloseTo(1.96, 3);
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 12);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.7764451051977934, 12);
    expect(tQuantile(0.975, 29)).toBeCloseTo(2.045229642132703, 12);
  });

  it('matches other table entries, including the closed-form df = 2 and large df', () => {
    expect(tQuantile(0.95, 5)).toBeCloseTo(2.015, 3);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(tQuantile(0.995, 2)).toBeCloseTo(9.925, 3);
    expect(tQuantile(0.999, 3)).toBeCloseTo(10.215, 3);
    expect(tQuantile(0.975, 120)).toBeCloseTo(1.98, 3);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 6);
  });

  it('is antisymmetric and 0 at the median', () => {
    expect(tQuantile(0.5, 7)).toBe(0);
    expect(tQuantile(0.025, 4)).toBeCloseTo(-tQuantile(0.975, 4), 14);
  });

  it('inverts its own CDF for fractional degrees of freedom (Welch) and deep tails', () => {
    for (const df of [0.7, 1.5, 3.3, 17.776, 250.5]) {
      for (const p of [1e-9, 0.01, 0.3, 0.9, 0.999999]) {
        expect(tCdf(tQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
    expect(2 * tUpperTail(2.045229642132703, 29)).toBeCloseTo(0.05, 14);
  });

  it('rejects probabilities outside (0, 1) and non-positive df with invalid-input', () => {
    for (const [p, df] of [
      [0, 3],
      [1, 3],
      [Number.NaN, 3],
      [0.9, 0],
      [0.9, -1],
      [0.9, Number.NaN],
    ] as const) {
      let caught: unknown;
      try {
        tQuantile(p, df);
      } catch (error) {
        caught = error;
      }
      expect(isCnlabError(caught) && caught.code === 'invalid-input').toBe(true);
    }
  });
});

describe('normalQuantile', () => {
  it('matches reference values, also far in the tails', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 13);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(1e-100)).toBeCloseTo(-21.27345356096532, 11);
  });
});
