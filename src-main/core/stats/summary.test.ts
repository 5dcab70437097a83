// Per-cell summary and adaptive repetitions, checked on datasets whose answers are known by hand or from R.
// Also pins the user-facing warning text, which the UI and CLI show verbatim.
import { describe, expect, it } from 'vitest';
import { adaptiveRepetitions, formatPercent, summarize } from './summary.ts';
import { thrownCnlabError as thrown } from '../../../tests/support/cnlab-error';


// Cushny & Peebles "sleep" data, group 1 (R datasets::sleep); R: t.test(x) → 95% CI −0.5297804 2.0297804.
const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];

describe('summarize', () => {
  it('computes a hand-checked 5-sample summary', () => {
    // mean 11, squared deviations 1+1+4+0+4 = 10, s = √(10/4); half-width = 2.776445 · s / √5 = 1.963243.
    const s = summarize([10, 12, 9, 11, 13]);
    expect(s.n).toBe(5);
    expect(s.mean).toBe(11);
    expect(s.median).toBe(11);
    expect(s.min).toBe(9);
    expect(s.max).toBe(13);
    expect(s.stdDev).toBeCloseTo(Math.sqrt(2.5), 14);
    expect(s.ci95?.halfWidth).toBeCloseTo(1.963243, 6);
    expect(s.ci95?.low).toBeCloseTo(11 - 1.963243, 6);
    expect(s.ci95?.high).toBeCloseTo(11 + 1.963243, 6);
    expect(s.cv).toBeCloseTo(Math.sqrt(2.5) / 11, 14);
    expect(s.noisy).toBe(true); // CV 14.4%
  });

  it("reproduces R's t.test interval on the sleep data", () => {
    const s = summarize(SLEEP_1);
    expect(s.mean).toBeCloseTo(0.75, 14);
    expect(s.median).toBeCloseTo(0.35, 14);
    expect(s.ci95?.low).toBeCloseTo(-0.5297804, 7);
    expect(s.ci95?.high).toBeCloseTo(2.0297804, 7);
  });

  it('flags CV above 10% with the exact warning text, and not at or below it', () => {
    // [m − d, m + d] has s = d·√2: d = 10.04 → s = 14.199, CV 14.2%.
    const noisy = summarize([89.96, 110.04]);
    expect(noisy.noisy).toBe(true);
    expect(noisy.warning).toBe('noisy — add repetitions (CV 14.2% > 10%)');
    const justOver = summarize([92.9, 107.1]); // CV 10.04%
    expect(justOver.noisy).toBe(true);
    const justUnder = summarize([93, 107]); // CV 9.90%
    expect(justUnder.noisy).toBe(false);
    expect(justUnder.warning).toBeNull();
  });

  it('honours a custom CV threshold', () => {
    const s = summarize([93, 107], { cvThreshold: 0.05 });
    expect(s.noisy).toBe(true);
    expect(s.warning).toBe('noisy — add repetitions (CV 9.9% > 5%)');
  });

  it('formats percentages with one decimal and no trailing .0', () => {
    expect(formatPercent(0.142)).toBe('14.2%');
    expect(formatPercent(0.1)).toBe('10%');
  });

  it('gives a single sample no spread, no interval and says why', () => {
    const s = summarize([42]);
    expect(s).toMatchObject({ n: 1, mean: 42, median: 42, min: 42, max: 42, stdDev: null, ci95: null, cv: null });
    expect(s.noisy).toBe(false);
    expect(s.warning).toMatch(/1 sample/);
  });

  it('handles zero spread and a zero mean without dividing by zero', () => {
    const flat = summarize([5, 5, 5]);
    expect(flat.stdDev).toBe(0);
    expect(flat.ci95).toEqual({ low: 5, high: 5, halfWidth: 0 });
    expect(flat.noisy).toBe(false);
    expect(summarize([-1, 1]).cv).toBeNull();
  });

  it('rejects empty input and non-finite samples, naming the sample', () => {
    const empty = thrown(() => summarize([], { label: 'cell bridge' }));
    expect(empty.code).toBe('invalid-input');
    expect(empty.message).toBe('cell bridge: no samples — the cell produced no measurements');
    const nan = thrown(() => summarize([1, 2, Number.NaN]));
    expect(nan.code).toBe('invalid-input');
    expect(nan.message).toMatch(/sample #3 is NaN/);
    expect(nan.details).toMatchObject({ index: 2, problem: 'nan' });
    const inf = thrown(() => summarize([Infinity, 1]));
    expect(inf.message).toMatch(/sample #1 is Infinity/);
    expect(inf.details).toMatchObject({ problem: 'not-finite' });
    expect(thrown(() => summarize([1, '2' as unknown as number])).message).toMatch(/sample #2 is string "2"/);
  });
});

describe('adaptiveRepetitions', () => {
  const options = { targetRelativeHalfWidth: 0.05, minRepetitions: 3, maxRepetitions: 10 };

  it('continues below the minimum even when the interval is already tight', () => {
    expect(adaptiveRepetitions([], options)).toMatchObject({ action: 'continue', n: 0, relativeHalfWidth: null });
    expect(adaptiveRepetitions([100, 100.1], options)).toMatchObject({ action: 'continue', n: 2 });
  });

  it('stops with "target reached" once the relative half-width is under target', () => {
    const d = adaptiveRepetitions([100, 100.2, 99.8], options);
    expect(d).toMatchObject({ action: 'stop', reason: 'target reached', n: 3 });
    // s = 0.2, t(0.975, 2) = 4.303 → half-width 0.497, i.e. 0.50% of the mean.
    expect(d.relativeHalfWidth).toBeCloseTo((4.302652729696 * 0.2) / Math.sqrt(3) / 100, 9);
  });

  it('continues while noisy, estimating the total needed, then stops at the maximum', () => {
    const noisy = [100, 115, 88, 104];
    // s ≈ 11.3 on a mean of 101.75: ±5% needs t·s/√k ≤ 5.09, i.e. about 20 samples — beyond a max of 10.
    const d = adaptiveRepetitions(noisy, options);
    expect(d).toMatchObject({ action: 'continue', estimatedTotal: null });
    expect(d.relativeHalfWidth).toBeGreaterThan(0.05);
    const roomier = adaptiveRepetitions(noisy, { ...options, maxRepetitions: 50 });
    expect(roomier.estimatedTotal).toBeGreaterThanOrEqual(18);
    expect(roomier.estimatedTotal).toBeLessThanOrEqual(24);
    const atMax = adaptiveRepetitions([100, 150, 50, 120, 80, 140, 60, 130, 70, 100], options);
    expect(atMax).toMatchObject({ action: 'stop', reason: 'max reached', n: 10, estimatedTotal: null });
  });

  it('rejects meaningless settings', () => {
    expect(thrown(() => adaptiveRepetitions([1], { ...options, minRepetitions: 1 })).code).toBe('invalid-input');
    expect(thrown(() => adaptiveRepetitions([1], { ...options, maxRepetitions: 2 })).code).toBe('invalid-input');
    expect(thrown(() => adaptiveRepetitions([1], { ...options, targetRelativeHalfWidth: 0 })).code).toBe(
      'invalid-input',
    );
    expect(thrown(() => adaptiveRepetitions([1, Number.NaN], options)).message).toMatch(/sample #2 is NaN/);
  });
});
