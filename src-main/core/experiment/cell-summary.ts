// Per-cell statistics of a run from its stored lines: every metric summarised over the measured
// repetitions (warm-ups never count), raw samples pooled into percentiles, and the comparison with
// the baseline case's cell of the same axis values. Pure: `runs show` and the UI recompute it any time.
import { canonicalJson } from './experiment-schema';
import { compareToBaseline, pooledPercentiles, summarize, type BaselineComparison, type PooledPercentiles, type Summary } from '../stats';
import { toCnlabError } from '../errors';
import { primaryMetric } from '../workloads/workload-params';
import type { Cell } from './matrix';
import type { FailureLine, ResultLine, RunRecord, SampleLine } from './run-store';

export interface CellSummary {
  cellIndex: number;
  cellId: string;
  caseLabel: string;
  axisValues: Cell['axisValues'];
  /** Measured runs that gave a result. */
  runs: number;
  failures: { key: string; message: string }[];
  primary: ReturnType<typeof primaryMetric>;
  metrics: Record<string, Summary>;
  percentiles: Record<string, PooledPercentiles>;
  /** The primary metric against the baseline case's cell with the same axis values. */
  baseline: { label: string; comparison: BaselineComparison | null; note: string | null } | null;
}

function measured(lines: readonly SampleLine[], cellIndex: number): { results: ResultLine[]; failures: FailureLine[] } {
  // A run redone after a failure or a crash counts once: its latest line wins.
  const latest = new Map<string, ResultLine | FailureLine>();
  for (const line of lines) {
    if ((line.type === 'result' || line.type === 'failure') && line.cellIndex === cellIndex && !line.warmup) latest.set(line.key, line);
  }
  const values = [...latest.values()];
  return { results: values.filter((line): line is ResultLine => line.type === 'result'), failures: values.filter((line): line is FailureLine => line.type === 'failure') };
}

function metricSummaries(results: readonly ResultLine[], label: string): Record<string, Summary> {
  const names = [...new Set(results.flatMap((result) => Object.keys(result.metrics)))].sort();
  const summaries: Record<string, Summary> = {};
  for (const name of names) {
    const values = results.map((result) => result.metrics[name]).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    if (values.length > 0) summaries[name] = summarize(values, { label: `${label} ${name}` });
  }
  return summaries;
}

function pooled(results: readonly ResultLine[]): Record<string, PooledPercentiles> {
  const names = [...new Set(results.flatMap((result) => Object.keys(result.rawSamples ?? {})))];
  const output: Record<string, PooledPercentiles> = {};
  for (const name of names) {
    // JSON stores a NaN as null: one bad sample must not make the whole run unreadable.
    const runs = results.map((result) => (result.rawSamples?.[name] ?? []).filter((value) => typeof value === 'number' && Number.isFinite(value))).filter((run) => run.length > 0);
    if (runs.length > 0) output[name] = pooledPercentiles(runs);
  }
  return output;
}

/** One metric's values over a cell's measured runs (the latest line of each run). */
export function measuredValues(lines: readonly SampleLine[], cell: Pick<Cell, 'index'>, metric: string): number[] {
  return measured(lines, cell.index)
    .results.map((result) => result.metrics[metric])
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
}

function baselineOf(record: RunRecord, lines: readonly SampleLine[], cell: Cell, metric: string): CellSummary['baseline'] {
  const label = record.experiment.baseline;
  if (!label) return null;
  const twin = record.cells.find((candidate) => candidate.caseLabel === label && canonicalJson(candidate.axisValues) === canonicalJson(cell.axisValues));
  if (!twin) return null;
  // The baseline's own cells say so (the table shows "(baseline)"), with nothing to compare.
  if (twin.index === cell.index) return { label, comparison: null, note: null };
  const mine = measuredValues(lines, cell, metric);
  const theirs = measuredValues(lines, twin, metric);
  if (mine.length === 0 || theirs.length === 0) return { label, comparison: null, note: 'no results on one side to compare' };
  try {
    return { label, comparison: compareToBaseline(mine, theirs), note: null };
  } catch (error) {
    return { label, comparison: null, note: toCnlabError(error).message };
  }
}

export function summarizeCells(record: RunRecord, lines: readonly SampleLine[]): CellSummary[] {
  return record.cells.map((cell) => {
    const { results, failures } = measured(lines, cell.index);
    const primary = primaryMetric(cell.params);
    return {
      cellIndex: cell.index,
      cellId: cell.id,
      caseLabel: cell.caseLabel,
      axisValues: cell.axisValues,
      runs: results.length,
      failures: failures.map((failure) => ({ key: failure.key, message: failure.error.message })),
      primary,
      metrics: metricSummaries(results, cell.id),
      percentiles: pooled(results),
      baseline: baselineOf(record, lines, cell, primary.name),
    };
  });
}
