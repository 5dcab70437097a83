// Baseline comparison and Welch's test: R's published result on the sleep data, plus clear-cut cases
// where the sign and the significance verdict are obvious by eye.
import { describe, expect, it } from 'vitest';
import { compareToBaseline, welchTTest } from './compare.ts';
import { thrownCnlabError as thrown } from '../../../tests/support/cnlab-error';

const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];


describe('welchTTest', () => {
  it("matches R's t.test(extra ~ group, data = sleep)", () => {
    // R: t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 0.2054832.
    const w = welchTTest(SLEEP_1, SLEEP_2);
    expect(w.meanDifference).toBeCloseTo(-1.58, 12);
    expect(w.t).toBeCloseTo(-1.8608, 4);
    expect(w.df).toBeCloseTo(17.776, 3);
    expect(w.pValue).toBeCloseTo(0.07939, 5);
    expect(w.ci95.low).toBeCloseTo(-3.3654832, 7);
    expect(w.ci95.high).toBeCloseTo(0.2054832, 7);
  });

  it('degenerates cleanly when neither side has any spread', () => {
    expect(welchTTest([5, 5], [5, 5, 5])).toMatchObject({ pValue: 1, ci95: { low: 0, high: 0, halfWidth: 0 } });
    expect(welchTTest([6, 6], [5, 5]).pValue).toBe(0);
  });

  it('needs two samples on each side', () => {
    const e = thrown(() => welchTTest([1], [1, 2]));
    expect(e.code).toBe('invalid-input');
    expect(e.details).toMatchObject({ problem: 'too-few' });
  });
});

describe('compareToBaseline', () => {
  const baseline = [100, 101, 99, 100, 100];

  it('reports a clear 10% gain as positive and significant', () => {
    const c = compareToBaseline([110, 111, 109, 110, 110], baseline);
    expect(c.percentChange).toBeCloseTo(10, 12);
    expect(c.significant).toBe(true);
    expect(c.ci95?.low).toBeGreaterThan(8);
    expect(c.ci95?.high).toBeLessThan(12);
    expect(c.pValue).toBeLessThan(1e-6);
  });

  it('reports a clear 10% loss as negative and significant', () => {
    const c = compareToBaseline([90, 91, 89, 90, 90], baseline);
    expect(c.percentChange).toBeCloseTo(-10, 12);
    expect(c.significant).toBe(true);
    expect(c.ci95?.high).toBeLessThan(0);
  });

  it('does not call a difference buried in noise significant', () => {
    const c = compareToBaseline([100, 125, 80, 115], [100, 110, 90, 95]);
    expect(c.percentChange).toBeGreaterThan(0);
    expect(c.significant).toBe(false);
    expect(c.ci95?.low).toBeLessThan(0);
    expect(c.ci95?.high).toBeGreaterThan(0);
  });

  it('scales the Welch interval by the baseline mean (sleep data: −67.8%, not significant)', () => {
    const c = compareToBaseline(SLEEP_1, SLEEP_2);
    expect(c.percentChange).toBeCloseTo((-1.58 / 2.33) * 100, 10);
    expect(c.ci95?.low).toBeCloseTo((-3.3654832 / 2.33) * 100, 5);
    expect(c.ci95?.high).toBeCloseTo((0.2054832 / 2.33) * 100, 5);
    expect(c.significant).toBe(false);
  });

  it('gives the change but no interval when a side has a single sample', () => {
    const c = compareToBaseline([110], baseline);
    expect(c).toMatchObject({ ci95: null, significant: false, pValue: null });
    expect(c.percentChange).toBeCloseTo(10, 12);
    expect(c.note).toMatch(/the cell has a single sample/);
  });

  it('rejects a zero baseline mean and bad samples', () => {
    expect(thrown(() => compareToBaseline([1, 2], [-1, 1])).details).toMatchObject({ problem: 'zero-baseline' });
    expect(thrown(() => compareToBaseline([1, Number.NaN], baseline)).message).toMatch(/^cell: sample #2 is NaN/);
    expect(thrown(() => compareToBaseline([1, 2], [])).message).toMatch(/^baseline: no samples/);
  });
});
