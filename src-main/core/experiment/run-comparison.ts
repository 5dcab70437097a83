// Run B against run A, cell by cell: cells match when their case label and axis values are the same;
// each pair compares the primary metric (Welch's interval of B − A in % of A), so a user re-running an
// experiment sees which differences are real and which are noise. Pure: both runs' lines come in.
import { canonicalJson } from './experiment-schema';
import { measuredValues } from './cell-summary';
import { compareToBaseline, summarize } from '../stats';
import { toCnlabError } from '../errors';
import { primaryMetric } from '../workloads/workload-params';
import type { Cell } from './matrix';
import type { RunRecord, SampleLine } from './run-store';

export interface ComparedRun {
  record: RunRecord;
  lines: readonly SampleLine[];
}

export interface SideSummary {
  n: number;
  mean: number;
  median: number;
  ci95: { low: number; high: number; halfWidth: number } | null;
}

export interface CellComparison {
  caseLabel: string;
  axisValues: Cell['axisValues'];
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  a: SideSummary | null;
  b: SideSummary | null;
  difference: { percentChange: number; ci95: { low: number; high: number } | null; significant: boolean; pValue: number | null } | null;
  note: string | null;
}

const cellKey = (cell: Pick<Cell, 'caseLabel' | 'axisValues'>): string => `${cell.caseLabel}\u0000${canonicalJson(cell.axisValues)}`;

function side(values: readonly number[]): SideSummary | null {
  if (values.length === 0) return null;
  const summary = summarize(values);
  return { n: summary.n, mean: summary.mean, median: summary.median, ci95: summary.ci95 };
}

function difference(a: readonly number[], b: readonly number[]): Pick<CellComparison, 'difference' | 'note'> {
  if (a.length === 0 || b.length === 0) return { difference: null, note: `no results in run ${a.length === 0 ? 'A' : 'B'} for this cell` };
  try {
    const { note, ...rest } = compareToBaseline(b, a);
    return { difference: rest, note };
  } catch (error) {
    return { difference: null, note: toCnlabError(error).message };
  }
}

/**
 * Rows in A's cell order, then B's cells that A lacks. A cell's primary metric comes from its own
 * workload, so runs of different tools still line up where they share a cell (and say so where not).
 */
export function compareRunCells(a: ComparedRun, b: ComparedRun): CellComparison[] {
  const bCells = new Map(b.record.cells.map((cell) => [cellKey(cell), cell]));
  const rows: CellComparison[] = [];
  for (const cell of a.record.cells) {
    const twin = bCells.get(cellKey(cell));
    bCells.delete(cellKey(cell));
    const primary = primaryMetric(cell.params);
    const valuesA = measuredValues(a.lines, cell, primary.name);
    const valuesB = twin ? measuredValues(b.lines, twin, primary.name) : [];
    const compared = twin ? difference(valuesA, valuesB) : { difference: null, note: 'run B has no such cell' };
    rows.push({ caseLabel: cell.caseLabel, axisValues: cell.axisValues, metric: primary.name, unit: primary.unit, higherIsBetter: primary.higherIsBetter, a: side(valuesA), b: side(valuesB), ...compared });
  }
  for (const cell of bCells.values()) {
    const primary = primaryMetric(cell.params);
    const valuesB = measuredValues(b.lines, cell, primary.name);
    rows.push({ caseLabel: cell.caseLabel, axisValues: cell.axisValues, metric: primary.name, unit: primary.unit, higherIsBetter: primary.higherIsBetter, a: null, b: side(valuesB), difference: null, note: 'run A has no such cell' });
  }
  return rows;
}
