// Per-cell summary and the adaptive-repetition rule: mean ± Student-t 95% interval, median, spread,
// and a noise flag so a table never shows a precise-looking number that the repetitions do not support.
import { max, mean, median, min, sampleStandardDeviation } from 'simple-statistics';
import { CnlabError } from '../errors.ts';
import { checkSamples } from './samples.ts';
import { tQuantile } from './t-distribution.ts';

export interface ConfidenceInterval {
  low: number;
  high: number;
  halfWidth: number;
}

export interface Summary {
  n: number;
  mean: number;
  median: number;
  /** Sample standard deviation (n − 1); null for a single sample, which has no spread to estimate. */
  stdDev: number | null;
  min: number;
  max: number;
  /** 95% interval for the mean, Student t with n − 1 degrees of freedom; null when n < 2. */
  ci95: ConfidenceInterval | null;
  /** stdDev / |mean|; null when n < 2 or the mean is 0 (the ratio means nothing there). */
  cv: number | null;
  /** cv above the threshold (10% unless told otherwise). */
  noisy: boolean;
  /** Text for the user: the noise warning, or why no spread could be estimated. */
  warning: string | null;
}

export interface SummarizeOptions {
  /** CV above which the cell is flagged noisy; 0.10 by default (PRODUCT.md, "Honest statistics"). */
  cvThreshold?: number;
  /** Names the data in error messages, e.g. "cell bridge × 1500 B". */
  label?: string;
}

export const DEFAULT_CV_THRESHOLD = 0.1;

/** Formats a fraction as a percentage with at most one decimal, without a trailing ".0" (10%, 14.2%). */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}

/** Two-sided 95% interval for the mean of `samples` (n ≥ 2). */
export function meanConfidenceInterval95(sampleMean: number, stdDev: number, n: number): ConfidenceInterval {
  const halfWidth = (tQuantile(0.975, n - 1) * stdDev) / Math.sqrt(n);
  return { low: sampleMean - halfWidth, high: sampleMean + halfWidth, halfWidth };
}

export function summarize(samples: readonly number[], options: SummarizeOptions = {}): Summary {
  const label = options.label ?? 'samples';
  const cvThreshold = options.cvThreshold ?? DEFAULT_CV_THRESHOLD;
  if (!(cvThreshold > 0 && Number.isFinite(cvThreshold))) {
    throw new CnlabError('invalid-input', `${label}: cvThreshold must be a positive number, got ${cvThreshold}`);
  }
  checkSamples(samples, label);
  const values = samples;
  const n = values.length;
  // simple-statistics sums with compensation, so means of large byte counts keep their low digits.
  const m = mean(values);
  const base = { n, mean: m, median: median(values), min: min(values), max: max(values) };
  if (n < 2) {
    return {
      ...base,
      stdDev: null,
      ci95: null,
      cv: null,
      noisy: false,
      warning: '1 sample — no spread or confidence interval; add repetitions',
    };
  }
  const stdDev = sampleStandardDeviation(values);
  const cv = m === 0 ? null : stdDev / Math.abs(m);
  const noisy = cv !== null && cv > cvThreshold;
  return {
    ...base,
    stdDev,
    ci95: meanConfidenceInterval95(m, stdDev, n),
    cv,
    noisy,
    warning: noisy ? `noisy — add repetitions (CV ${formatPercent(cv)} > ${formatPercent(cvThreshold)})` : null,
  };
}

export interface AdaptiveOptions {
  /** Target CI half-width as a fraction of |mean|, e.g. 0.05 for ±5%. */
  targetRelativeHalfWidth: number;
  /** Never stop before this many samples (at least 2: one sample has no interval). */
  minRepetitions: number;
  /** Always stop at this many samples, whatever the interval. */
  maxRepetitions: number;
}

export type AdaptiveDecision =
  | { action: 'continue'; n: number; relativeHalfWidth: number | null; estimatedTotal: number | null }
  | {
      action: 'stop';
      reason: 'target reached' | 'max reached';
      n: number;
      relativeHalfWidth: number | null;
      estimatedTotal: number | null;
    };

/**
 * Decides whether a cell needs another repetition. The estimate of the total assumes the current
 * standard deviation holds; it is for a progress display, the decision itself only uses what was measured.
 */
export function adaptiveRepetitions(samples: readonly number[], options: AdaptiveOptions): AdaptiveDecision {
  const { targetRelativeHalfWidth: target, minRepetitions: minN, maxRepetitions: maxN } = options;
  if (!(target > 0 && Number.isFinite(target))) {
    throw new CnlabError('invalid-input', `target CI half-width must be a positive fraction of the mean, got ${target}`);
  }
  if (!Number.isInteger(minN) || minN < 2) {
    throw new CnlabError('invalid-input', `minimum repetitions must be an integer ≥ 2 (an interval needs 2), got ${minN}`);
  }
  if (!Number.isInteger(maxN) || maxN < minN) {
    throw new CnlabError('invalid-input', `maximum repetitions (${maxN}) must be an integer ≥ the minimum (${minN})`);
  }
  const n = samples.length;
  if (n > 0) checkSamples(samples, 'repetitions so far');
  let relativeHalfWidth: number | null = null;
  let estimatedTotal: number | null = null;
  if (n >= 2) {
    const values = samples;
    const m = mean(values);
    const s = sampleStandardDeviation(values);
    if (m !== 0) {
      relativeHalfWidth = meanConfidenceInterval95(m, s, n).halfWidth / Math.abs(m);
      for (let k = Math.max(n, minN); k <= maxN; k++) {
        if ((tQuantile(0.975, k - 1) * s) / Math.sqrt(k) <= target * Math.abs(m)) {
          estimatedTotal = k;
          break;
        }
      }
    }
  }
  const targetReached = n >= minN && relativeHalfWidth !== null && relativeHalfWidth <= target;
  // Target first: at n = max with the target met, "target reached" is the more useful thing to report.
  if (targetReached) return { action: 'stop', reason: 'target reached', n, relativeHalfWidth, estimatedTotal };
  if (n >= maxN) return { action: 'stop', reason: 'max reached', n, relativeHalfWidth, estimatedTotal };
  return { action: 'continue', n, relativeHalfWidth, estimatedTotal };
}
