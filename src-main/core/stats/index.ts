// Public face of cnlab's statistics: pure functions over plain number arrays, no I/O.
// Callers import from here; the files behind it may be reorganized.
export { checkSamples } from './samples.ts';
export {
  adaptiveRepetitions,
  DEFAULT_CV_THRESHOLD,
  formatPercent,
  meanConfidenceInterval95,
  summarize,
  type AdaptiveDecision,
  type AdaptiveOptions,
  type ConfidenceInterval,
  type SummarizeOptions,
  type Summary,
} from './summary.ts';
export { compareMoments, compareToBaseline, welchFromMoments, welchTTest, type BaselineComparison, type SampleMoments, type WelchResult } from './compare.ts';
export { kendallTauB } from './kendall.ts';
export {
  DEFAULT_PERCENTILES,
  percentileOfSorted,
  percentiles,
  pooledPercentiles,
  type PercentileValue,
  type PooledPercentiles,
} from './percentiles.ts';
export { normalQuantile, tCdf, tQuantile, tUpperTail } from './t-distribution.ts';
