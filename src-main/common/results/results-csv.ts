// A results table as CSV: a header of labels with their units, raw numbers (no thousands separators, full
// precision) and cells that a spreadsheet would run as a formula escaped (papaparse's escapeFormulae).
import Papa from 'papaparse';
import type { ResultsTable } from './results-tables';

export function tableToCsv(table: ResultsTable): string {
  const header = table.columns.map((column) => (column.unit ? `${column.label} [${column.unit}]` : column.label));
  const rows = table.rows.map((row) => table.columns.map((column) => row.cells[column.key] ?? ''));
  return `${Papa.unparse({ fields: header, data: rows }, { escapeFormulae: true, newline: '\n' })}\n`;
}

/** "<run>-<table>.csv" with only characters every file system accepts. */
export function csvFileName(runName: string, tableName: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'cnlab';
  return `${safe(runName)}-${safe(tableName)}.csv`;
}
