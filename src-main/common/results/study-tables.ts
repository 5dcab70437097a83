// A study run beside the paper, as a table both the Results view and report.html print: each published
// number, the paper's value relative to its baseline, ours relative to our baseline with its interval, and
// where the paper prints it. Verdict words are shared too, so both say "holds" the same way.
import type { FindingVerdict, StudyComparisonView, StudyRowView } from '../../contract/lab-api';
import type { ResultsColumn, ResultsRow, ResultsTable } from './results-tables';

export const VERDICT_TEXT: Record<FindingVerdict, string> = {
  holds: 'holds',
  'does-not-hold': 'does not hold',
  inconclusive: 'inconclusive',
  'not-measured': 'not measured',
};

/** The paper's number as printed: a value with its unit, ×ratio, or nothing for a stated % (its own column). */
export function paperText(row: StudyRowView): string | null {
  if (row.paperValue === null) return null;
  if (row.form === 'ratio') return `×${row.paperValue}`;
  if (row.form === 'percent') return null;
  return `${row.paperValue}${row.unit ? ` ${row.unit}` : ''}`;
}

export function studyTable(study: StudyComparisonView): ResultsTable | null {
  if (study.rows.length === 0) return null;
  const columns: ResultsColumn[] = [
    { key: 'label', label: 'published', numeric: false },
    { key: 'paper', label: 'paper value', numeric: false },
    { key: 'paperPercent', label: 'paper vs its baseline', unit: '%', numeric: true, digits: 1 },
    { key: 'oursPercent', label: 'ours vs our baseline', unit: '%', numeric: true, digits: 1 },
    { key: 'oursLow', label: '95% CI low', unit: '%', numeric: true, digits: 1 },
    { key: 'oursHigh', label: '95% CI high', unit: '%', numeric: true, digits: 1 },
    { key: 'measures', label: 'our cells', numeric: false },
    { key: 'where', label: 'where in the paper', numeric: false },
  ];
  const rows = study.rows.map((row): ResultsRow => ({
    key: row.id,
    cells: {
      label: row.label,
      paper: paperText(row),
      paperPercent: row.paperPercent,
      oursPercent: row.ours?.percent ?? row.note,
      oursLow: row.ours?.ci95?.low ?? null,
      oursHigh: row.ours?.ci95?.high ?? null,
      measures: row.measures,
      where: row.location.where,
    },
    flags: { significant: row.ours?.significant ?? false },
  }));
  return { columns, rows };
}

/** Counts per verdict, for a one-line summary ("3 hold, 1 does not hold, 1 not measured"). */
export function verdictSummary(study: StudyComparisonView): string {
  const counts = new Map<FindingVerdict, number>();
  for (const finding of study.findings) counts.set(finding.verdict, (counts.get(finding.verdict) ?? 0) + 1);
  const order: FindingVerdict[] = ['holds', 'does-not-hold', 'inconclusive', 'not-measured'];
  const parts = order.filter((verdict) => counts.has(verdict)).map((verdict) => `${counts.get(verdict)} ${verdict === 'holds' && counts.get(verdict) !== 1 ? 'hold' : VERDICT_TEXT[verdict]}`);
  return parts.length === 0 ? 'no findings to check' : parts.join(', ');
}
