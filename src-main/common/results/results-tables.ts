// A run's tables as the papers print them, from the per-cell summaries the main process sends: throughput
// per mode with its interval and change against the baseline, latency percentiles, CPU and service demand
// per side (Table V of Suo et al.), launch time per step (Table VI). Cells keep raw numbers (for CSV);
// formatCell turns them into text. A builder returns null when the run measured nothing for its table.
import type { MetricSummaryView, RunCellView, RunComparisonView, RunView } from '../../contract/lab-api';

export interface ResultsColumn {
  key: string;
  label: string;
  unit?: string;
  numeric: boolean;
  /** Digits after the point when shown; percentages and counts have their own. */
  digits?: number;
}

export type CellValue = string | number | null;

export interface ResultsRow {
  key: string;
  cells: Record<string, CellValue>;
  flags?: { noisy?: boolean; significant?: boolean };
}

export interface ResultsTable {
  columns: ResultsColumn[];
  rows: ResultsRow[];
}

const RATE_UNITS: Record<string, { scales: [number, string][] }> = {
  'bit/s': { scales: [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s'], [1, 'bit/s']] },
  'msg/s': { scales: [[1e6, 'M msg/s'], [1e3, 'k msg/s'], [1, 'msg/s']] },
  'trans/s': { scales: [[1e6, 'M trans/s'], [1e3, 'k trans/s'], [1, 'trans/s']] },
};

/** The largest unit under which the biggest value is still ≥ 1: one unit for the whole table. */
export function rateScale(unit: string, largest: number): { factor: number; unit: string } {
  const scales = RATE_UNITS[unit]?.scales ?? [[1, unit]];
  const [factor, name] = scales.find(([candidate]) => largest >= candidate) ?? scales[scales.length - 1] ?? [1, unit];
  return { factor, unit: name };
}

const scaled = (value: number | undefined, factor: number): number | null => (value === undefined ? null : value / factor);

/** The case and each axis the run varies: every table's first columns. */
function keyColumns(run: RunView): ResultsColumn[] {
  return [{ key: 'case', label: 'mode', numeric: false }, ...run.axes.map((axis) => ({ key: `axis:${axis}`, label: axis, numeric: typeof run.cells[0]?.axisValues[axis] === 'number', digits: 0 }))];
}

function keyCells(run: RunView, cell: RunCellView): Record<string, CellValue> {
  const cells: Record<string, CellValue> = { case: cell.caseLabel };
  for (const axis of run.axes) {
    const value = cell.axisValues[axis];
    cells[`axis:${axis}`] = typeof value === 'boolean' ? String(value) : (value ?? null);
  }
  return cells;
}

/** Cells with at least one measured result: failed-only cells have no numbers to print. */
function measuredCells(run: RunView, metric: string): RunCellView[] {
  return run.cells.filter((cell) => cell.metrics[metric] !== undefined);
}

function baselineCells(cell: RunCellView): Record<string, CellValue> {
  const baseline = cell.baseline;
  if (!baseline) return { vsBaseline: null, vsLow: null, vsHigh: null };
  if (!baseline.comparison) return { vsBaseline: baseline.note ?? '(baseline)', vsLow: null, vsHigh: null };
  const { percentChange, ci95 } = baseline.comparison;
  return { vsBaseline: percentChange, vsLow: ci95?.low ?? null, vsHigh: ci95?.high ?? null };
}

export function throughputTable(run: RunView): ResultsTable | null {
  const primary = run.cells[0]?.primary;
  if (!primary || !RATE_UNITS[primary.unit]) return null;
  const cells = measuredCells(run, primary.name);
  if (cells.length === 0) return null;
  const largest = Math.max(...cells.map((cell) => cell.metrics[primary.name]?.median ?? 0));
  const scale = rateScale(primary.unit, largest);
  const hasBaseline = run.baseline !== null;
  const columns: ResultsColumn[] = [
    ...keyColumns(run),
    { key: 'n', label: 'runs', numeric: true, digits: 0 },
    { key: 'median', label: 'median', unit: scale.unit, numeric: true, digits: 2 },
    { key: 'ciLow', label: '95% CI low', unit: scale.unit, numeric: true, digits: 2 },
    { key: 'ciHigh', label: '95% CI high', unit: scale.unit, numeric: true, digits: 2 },
    { key: 'cv', label: 'CV', unit: '%', numeric: true, digits: 1 },
    ...(hasBaseline
      ? [
          { key: 'vsBaseline', label: `vs ${run.baseline ?? ''}`, unit: '%', numeric: true, digits: 1 },
          { key: 'vsLow', label: '95% CI low', unit: '%', numeric: true, digits: 1 },
          { key: 'vsHigh', label: '95% CI high', unit: '%', numeric: true, digits: 1 },
        ]
      : []),
  ];
  const rows = cells.map((cell): ResultsRow => {
    const summary = cell.metrics[primary.name] as MetricSummaryView;
    return {
      key: cell.cellId,
      cells: {
        ...keyCells(run, cell),
        n: summary.n,
        median: summary.median / scale.factor,
        ciLow: scaled(summary.ci95?.low, scale.factor),
        ciHigh: scaled(summary.ci95?.high, scale.factor),
        cv: summary.cv === null ? null : summary.cv * 100,
        ...(hasBaseline ? baselineCells(cell) : {}),
      },
      flags: { noisy: summary.noisy, significant: cell.baseline?.comparison?.significant ?? false },
    };
  });
  return { columns, rows };
}

const LATENCY_PERCENTILES = [50, 90, 99, 99.9] as const;

/** Latency in µs: sockperf's own, or ping's round trip (ms) converted. */
function latencySource(cell: RunCellView): { average: number | undefined; pooled: { p: number; value: number }[]; factor: number } | null {
  if (cell.metrics.latencyMeanUs) return { average: cell.metrics.latencyMeanUs.median, pooled: cell.percentiles.latencyUs?.percentiles ?? [], factor: 1 };
  if (cell.metrics.rttAvgMs) return { average: cell.metrics.rttAvgMs.median, pooled: cell.percentiles.rttMs?.percentiles ?? [], factor: 1000 };
  return null;
}

function percentileOf(cell: RunCellView, pooled: { p: number; value: number }[], p: number, factor: number): number | null {
  const value = pooled.find((entry) => Math.abs(entry.p - p) < 1e-9)?.value;
  if (value !== undefined) return value * factor;
  // Without raw samples: the tool's own per-run percentile (sockperf prints p50/p90/p99), median over runs.
  // Named as sockperf's executor names them: p99.9 → latencyP999Us.
  const metric = cell.metrics[`latencyP${String(p).replace('.', '')}Us`];
  return metric ? metric.median : null;
}

export function latencyTable(run: RunView): ResultsTable | null {
  const sources = run.cells.map((cell) => ({ cell, source: latencySource(cell) })).filter((entry) => entry.source !== null);
  if (sources.length === 0) return null;
  const columns: ResultsColumn[] = [
    ...keyColumns(run),
    { key: 'n', label: 'runs', numeric: true, digits: 0 },
    { key: 'average', label: 'average', unit: 'µs', numeric: true, digits: 1 },
    ...LATENCY_PERCENTILES.map((p) => ({ key: `p${p}`, label: `p${p}`, unit: 'µs', numeric: true, digits: 1 })),
    { key: 'samples', label: 'samples', numeric: true, digits: 0 },
  ];
  const rows = sources.map(({ cell, source }): ResultsRow => {
    const { average, pooled, factor } = source as NonNullable<typeof source>;
    const percentileCells = Object.fromEntries(LATENCY_PERCENTILES.map((p) => [`p${p}`, percentileOf(cell, pooled, p, factor)]));
    const samples = cell.percentiles.latencyUs?.n ?? cell.percentiles.rttMs?.n ?? null;
    return { key: cell.cellId, cells: { ...keyCells(run, cell), n: cell.runs, average: average === undefined ? null : average * factor, ...percentileCells, samples }, flags: { noisy: cell.metrics[cell.primary.name]?.noisy ?? false } };
  });
  return { columns, rows };
}

const CPU_COLUMNS: { key: string; metric: string; label: string; unit: string }[] = [
  { key: 'cpuServer', metric: 'cpuServerPercent', label: 'CPU server', unit: '%' },
  { key: 'cpuClient', metric: 'cpuClientPercent', label: 'CPU client', unit: '%' },
  { key: 'demandServerMB', metric: 'serverDemandUsPerMB', label: 'service demand server', unit: 'µs/MB' },
  { key: 'demandClientMB', metric: 'clientDemandUsPerMB', label: 'service demand client', unit: 'µs/MB' },
  { key: 'demandServerTr', metric: 'serverDemandUsPerTransaction', label: 'service demand server', unit: 'µs/trans' },
  { key: 'demandClientTr', metric: 'clientDemandUsPerTransaction', label: 'service demand client', unit: 'µs/trans' },
];

export function cpuTable(run: RunView): ResultsTable | null {
  const present = CPU_COLUMNS.filter((column) => run.cells.some((cell) => cell.metrics[column.metric] !== undefined));
  if (present.length === 0) return null;
  const columns: ResultsColumn[] = [...keyColumns(run), { key: 'n', label: 'runs', numeric: true, digits: 0 }, ...present.map((column) => ({ key: column.key, label: column.label, unit: column.unit, numeric: true, digits: 1 }))];
  const rows = run.cells
    .filter((cell) => present.some((column) => cell.metrics[column.metric] !== undefined))
    .map((cell): ResultsRow => ({ key: cell.cellId, cells: { ...keyCells(run, cell), n: cell.runs, ...Object.fromEntries(present.map((column) => [column.key, cell.metrics[column.metric]?.median ?? null])) } }));
  return { columns, rows };
}

/** Launch steps in the order a container goes through them (core/workloads/launch/launch-samples.ts). */
const LAUNCH_STEPS: [string, string][] = [
  ['launchCreateMs', 'docker create'],
  ['launchStartMs', 'docker start'],
  ['launchNetnsMs', 'netns'],
  ['launchLinksMs', 'links'],
  ['launchAddressesMs', 'addresses'],
  ['launchLinkUpMs', 'link up'],
  ['launchRoutesMs', 'routes'],
  ['launchShapingMs', 'shaping'],
  ['launchCniMs', 'CNI'],
  ['launchFirstReplyMs', 'first reply'],
  ['launchHostSetupMs', 'host setup'],
];

export function launchTable(run: RunView): ResultsTable | null {
  const cells = measuredCells(run, 'launchMs');
  if (cells.length === 0) return null;
  const steps = LAUNCH_STEPS.filter(([metric]) => cells.some((cell) => cell.metrics[metric] !== undefined));
  const columns: ResultsColumn[] = [
    ...keyColumns(run),
    { key: 'n', label: 'runs', numeric: true, digits: 0 },
    { key: 'launch', label: 'launch time', unit: 'ms', numeric: true, digits: 1 },
    { key: 'ciLow', label: '95% CI low', unit: 'ms', numeric: true, digits: 1 },
    { key: 'ciHigh', label: '95% CI high', unit: 'ms', numeric: true, digits: 1 },
    ...steps.map(([metric, label]) => ({ key: metric, label, unit: 'ms', numeric: true, digits: 2 })),
  ];
  const rows = cells.map((cell): ResultsRow => {
    const launch = cell.metrics.launchMs as MetricSummaryView;
    return {
      key: cell.cellId,
      cells: { ...keyCells(run, cell), n: launch.n, launch: launch.median, ciLow: launch.ci95?.low ?? null, ciHigh: launch.ci95?.high ?? null, ...Object.fromEntries(steps.map(([metric]) => [metric, cell.metrics[metric]?.median ?? null])) },
      flags: { noisy: launch.noisy },
    };
  });
  return { columns, rows };
}

export function comparisonTable(view: RunComparisonView): ResultsTable | null {
  if (view.rows.length === 0) return null;
  const axes = [...new Set(view.rows.flatMap((row) => Object.keys(row.axisValues)))];
  const unit = view.rows[0]?.unit ?? '';
  const largest = Math.max(0, ...view.rows.map((row) => Math.max(row.a?.median ?? 0, row.b?.median ?? 0)));
  const scale = rateScale(unit, largest);
  const columns: ResultsColumn[] = [
    { key: 'case', label: 'mode', numeric: false },
    ...axes.map((axis) => ({ key: `axis:${axis}`, label: axis, numeric: true, digits: 0 })),
    { key: 'a', label: 'A median', unit: scale.unit, numeric: true, digits: 2 },
    { key: 'b', label: 'B median', unit: scale.unit, numeric: true, digits: 2 },
    { key: 'change', label: 'B vs A', unit: '%', numeric: true, digits: 1 },
    { key: 'changeLow', label: '95% CI low', unit: '%', numeric: true, digits: 1 },
    { key: 'changeHigh', label: '95% CI high', unit: '%', numeric: true, digits: 1 },
    { key: 'significant', label: 'significant', numeric: false },
  ];
  const rows = view.rows.map((row): ResultsRow => ({
    key: `${row.caseLabel} ${JSON.stringify(row.axisValues)}`,
    cells: {
      case: row.caseLabel,
      ...Object.fromEntries(axes.map((axis) => [`axis:${axis}`, typeof row.axisValues[axis] === 'boolean' ? String(row.axisValues[axis]) : (row.axisValues[axis] ?? null)])),
      a: scaled(row.a?.median, scale.factor),
      b: scaled(row.b?.median, scale.factor),
      change: row.difference?.percentChange ?? row.note,
      changeLow: row.difference?.ci95?.low ?? null,
      changeHigh: row.difference?.ci95?.high ?? null,
      significant: row.difference ? (row.difference.significant ? 'yes' : 'no') : null,
    },
    flags: { significant: row.difference?.significant ?? false },
  }));
  return { columns, rows };
}

// One formatter per digit count: toLocaleString builds a new one per call, which dominated writing the
// report of a 1,000-run bundle (~2.7 s of it, profiled).
const formatters = new Map<number, Intl.NumberFormat>();
function formatterFor(digits: number): Intl.NumberFormat {
  let formatter = formatters.get(digits);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, formatter);
  }
  return formatter;
}

/** A cell as text: numbers with the column's digits (signed for changes), blanks for none. */
export function formatCell(column: ResultsColumn, value: CellValue): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  const digits = column.digits ?? 2;
  const text = formatterFor(digits).format(Math.abs(value));
  const signed = column.unit === '%' && /vs|change|CI/i.test(column.label + column.key);
  if (value < 0) return `−${text}${signed ? ' %' : ''}`;
  return `${signed && value > 0 ? '+' : ''}${text}${signed ? ' %' : ''}`;
}
