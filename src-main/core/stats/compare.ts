// Cell-versus-baseline comparison: Welch's t on the difference of means, reported in % of the baseline mean.
// Welch (not Student) because a network mode can change the spread as well as the level.
import { mean, sampleVariance } from 'simple-statistics';
import { CnlabError } from '../errors.ts';
import { checkSamples } from './samples.ts';
import type { ConfidenceInterval } from './summary.ts';
import { tQuantile, tUpperTail } from './t-distribution.ts';

export interface WelchResult {
  /** mean(a) − mean(b). */
  meanDifference: number;
  standardError: number;
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  df: number;
  t: number;
  /** Two-sided p-value. */
  pValue: number;
  /** 95% interval for mean(a) − mean(b). */
  ci95: ConfidenceInterval;
}

/**
 * Welch's unequal-variance t test of mean(a) − mean(b); both need n ≥ 2. When both samples have zero
 * spread the test degenerates: the interval collapses to the observed difference and p is 0 or 1.
 */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult {
  checkSamples(a, 'first sample set');
  checkSamples(b, 'second sample set');
  if (a.length < 2 || b.length < 2) {
    throw new CnlabError(
      'invalid-input',
      `Welch's t test needs at least 2 samples on each side (got ${a.length} and ${b.length}) — add repetitions`,
      { na: a.length, nb: b.length, problem: 'too-few' },
    );
  }
  return welchFromMoments({ mean: mean(a), variance: sampleVariance(a), n: a.length }, { mean: mean(b), variance: sampleVariance(b), n: b.length });
}

/** A sample as its moments: what a stored summary keeps of it (mean, variance with n − 1, n ≥ 2). */
export interface SampleMoments {
  mean: number;
  variance: number;
  n: number;
}

/** Welch's test from the two samples' moments, so summaries stored without their samples can be compared. */
export function welchFromMoments(a: SampleMoments, b: SampleMoments): WelchResult {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const meanDifference = a.mean - b.mean;
  const se2 = va + vb;
  const standardError = Math.sqrt(se2);
  if (se2 === 0) {
    return {
      meanDifference,
      standardError: 0,
      df: a.n + b.n - 2,
      t: meanDifference === 0 ? 0 : Math.sign(meanDifference) * Infinity,
      pValue: meanDifference === 0 ? 1 : 0,
      ci95: { low: meanDifference, high: meanDifference, halfWidth: 0 },
    };
  }
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const t = meanDifference / standardError;
  const halfWidth = tQuantile(0.975, df) * standardError;
  return {
    meanDifference,
    standardError,
    df,
    t,
    pValue: Math.min(1, 2 * tUpperTail(Math.abs(t), df)),
    ci95: { low: meanDifference - halfWidth, high: meanDifference + halfWidth, halfWidth },
  };
}

export interface BaselineComparison {
  /** (mean(cell) − mean(baseline)) / |mean(baseline)| × 100. */
  percentChange: number;
  /** 95% interval for percentChange; null when either side has fewer than 2 samples. */
  ci95: { low: number; high: number } | null;
  /** The interval excludes 0 — the same verdict as Welch's test at the 5% level. */
  significant: boolean;
  /** Two-sided Welch p-value; null when no test was possible. */
  pValue: number | null;
  /** Why there is no interval, for the UI. */
  note: string | null;
}

/**
 * Means, not medians: with the 2–10 repetitions a cell usually has, a difference of medians has no
 * usable closed-form interval (it needs a bootstrap, which is unstable at such n), while the mean has
 * Welch's interval and matches the per-cell CI shown beside it. Medians stay in the table for robustness.
 *
 * Welch on the difference, scaled by the baseline mean, rather than Fieller's interval for the ratio:
 * the significance verdict is then exactly Welch's test (scaling by a positive constant cannot move 0 in
 * or out of the interval), and the interval is always finite, where Fieller's becomes unbounded as soon
 * as the baseline mean is not clearly non-zero. The price: the baseline mean's own uncertainty is not
 * carried into the denominator, so for large changes (ratio far from 1) the % interval is somewhat too
 * narrow and symmetric where Fieller's would be skewed. It is first-order right for the moderate changes
 * between network modes with precise baselines (≤ 10% CV; noisier cells are already flagged).
 */
export function compareToBaseline(cell: readonly number[], baseline: readonly number[]): BaselineComparison {
  checkSamples(cell, 'cell');
  checkSamples(baseline, 'baseline');
  const moments = (values: readonly number[]): SampleMoments => ({ mean: mean(values), variance: values.length < 2 ? 0 : sampleVariance(values), n: values.length });
  return compareMoments(moments(cell), moments(baseline));
}

/** compareToBaseline from the two sides' moments (a stored summary's mean, standard deviation and n). */
export function compareMoments(cell: SampleMoments, baseline: SampleMoments): BaselineComparison {
  if (baseline.mean === 0) {
    throw new CnlabError('invalid-input', 'baseline mean is 0 — a percentage change from it is undefined', {
      problem: 'zero-baseline',
    });
  }
  // |mean| so that "+" always means "the cell's number is larger", whatever the sign of the metric.
  const scale = 100 / Math.abs(baseline.mean);
  const percentChange = (cell.mean - baseline.mean) * scale;
  if (cell.n < 2 || baseline.n < 2) {
    return {
      percentChange,
      ci95: null,
      significant: false,
      pValue: null,
      note: `no interval: ${cell.n < 2 ? 'the cell' : 'the baseline'} has a single sample — add repetitions`,
    };
  }
  const welch = welchFromMoments(cell, baseline);
  const low = welch.ci95.low * scale;
  const high = welch.ci95.high * scale;
  return {
    percentChange,
    ci95: { low, high },
    significant: low > 0 || high < 0,
    pValue: welch.pValue,
    note: null,
  };
}
