// Latency percentiles pooled from the raw samples of every run: averaging per-run p99s is not a p99 of
// anything (a run with a rare stall gets its tail diluted), so runs are concatenated and ranked once.
import { CnlabError } from '../errors.ts';
import { checkSamples } from './samples.ts';

export const DEFAULT_PERCENTILES = [25, 50, 75, 90, 99, 99.9, 99.99, 99.999] as const;

export interface PercentileValue {
  p: number;
  value: number;
  /**
   * At least one sample lies above this percentile (n ≥ 100 / (100 − p)). When false the value is just
   * the maximum seen: p99.999 of 10 000 samples is not measured, and the UI should say so.
   */
  resolved: boolean;
}

export interface PooledPercentiles {
  n: number;
  runs: number;
  percentiles: PercentileValue[];
}

/**
 * Nearest-rank percentile of an ascending array: the smallest sample with at least p% of the samples
 * at or below it (rank ⌈p/100 · n⌉; p = 0 gives the minimum). Chosen over linear interpolation because
 * every reported latency is one that was actually observed — interpolating between the two largest
 * samples would invent a tail value — and because it is the convention of latency tools.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) {
    throw new CnlabError('invalid-input', `percentile must be between 0 and 100, got ${p}`, { p });
  }
  const n = sorted.length;
  if (n === 0) throw new CnlabError('invalid-input', 'no samples to take a percentile of', { problem: 'empty' });
  return sorted[Math.min(n, Math.max(1, nearestRank(p, n))) - 1] as number;
}

/**
 * ⌈p · n / 100⌉ in exact integer arithmetic. In binary, 99.9 · 41000 / 100 comes out as 40959.00000000001
 * and a float ceil would pick the next rank; a tolerance cannot fix it either, because 99.999 · 99991 / 100
 * really is 99990.00009. Percentiles are written as short decimals, so p is turned into digits / 10^d first.
 */
function nearestRank(p: number, n: number): number {
  for (let d = 0; d <= 9; d++) {
    const scaled = p * 10 ** d;
    const digits = Math.round(scaled);
    if (Math.abs(scaled - digits) <= 1e-12 * Math.max(1, scaled)) {
      const numerator = BigInt(digits) * BigInt(n);
      const denominator = 100n * 10n ** BigInt(d);
      return Number((numerator + denominator - 1n) / denominator);
    }
  }
  return Math.ceil((p * n) / 100);
}


/** Nearest-rank percentiles of one sample set (see percentileOfSorted). */
export function percentiles(samples: readonly number[], ps: readonly number[] = DEFAULT_PERCENTILES): PercentileValue[] {
  return pooledPercentiles([samples], ps).percentiles;
}

export function pooledPercentiles(
  runs: readonly (readonly number[])[],
  ps: readonly number[] = DEFAULT_PERCENTILES,
): PooledPercentiles {
  if (runs.length === 0) {
    throw new CnlabError('invalid-input', 'no runs to pool percentiles from', { problem: 'empty' });
  }
  let total = 0;
  runs.forEach((run, i) => {
    checkSamples(run, `run ${i + 1} of ${runs.length}`);
    total += run.length;
  });
  // One typed array: sockperf --full-log gives millions of samples, and a typed sort is numeric for free.
  const pooled = new Float64Array(total);
  let offset = 0;
  for (const run of runs) {
    pooled.set(run, offset);
    offset += run.length;
  }
  pooled.sort();
  return {
    n: total,
    runs: runs.length,
    percentiles: ps.map((p) => ({
      p,
      value: percentileOfSorted(pooled, p),
      resolved: p === 0 || nearestRank(p, total) < total,
    })),
  };
}
