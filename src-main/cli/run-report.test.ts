// Tests of the terminal renderings of results: metric values in the unit their name says (bit/s scaled,
// µs, ms, %, rates, service demand), the per-cell table (median, mean ± CI, CV with the noisy flag,
// CPU, the baseline comparison with its interval), the launch-time table and the progress line.
import { describe, expect, it } from 'vitest';
import type { CellSummary } from '../core/experiment/cell-summary';
import type { RunEvent } from '../core/experiment/run-events';
import { compareToBaseline, summarize } from '../core/stats';
import { cellTable, formatDuration, formatMetric, launchTable, progressLine } from './run-report';

describe('formatMetric', () => {
  it.each([
    ['throughputBitsPerSecond', 9.4e9, '9.40 Gbit/s'],
    ['throughputBitsPerSecond', 1e9, '1.00 Gbit/s'],
    ['throughputBitsPerSecond', 512.3e6, '512.30 Mbit/s'],
    ['throughputBitsPerSecond', 64e3, '64.00 kbit/s'],
    ['throughputBitsPerSecond', 12, '12.00 bit/s'],
    ['latencyMeanUs', 12.345, '12.35 µs'],
    ['rttAvgMs', 0.5, '0.50 ms'],
    ['cpuServerPercent', 37.25, '37.3 %'],
    ['transactionsPerSecond', 12345.6, '12,346/s'],
    ['serverDemandUsPerMB', 200.04, '200.0 µs/MB'],
    ['clientDemandUsPerTransaction', 3.456, '3.46 µs/trans'],
    ['retransmits', 42, '42'],
    ['ratio', 0.12345, '0.123'],
    ['throughputBitsPerSecond', Number.NaN, 'NaN'],
  ])('formats %s = %s as %s', (name, value, expected) => {
    expect(formatMetric(name, value)).toBe(expected);
  });
});

function cellOf(overrides: Partial<CellSummary> & Pick<CellSummary, 'cellId' | 'caseLabel'>): CellSummary {
  return {
    cellIndex: 0,
    axisValues: {},
    runs: 0,
    failures: [],
    primary: { name: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true },
    metrics: {},
    percentiles: {},
    baseline: null,
    ...overrides,
  };
}

function rowOf(table: string, cellId: string): string {
  const row = table.split('\n').find((line) => line.startsWith(`${cellId} `));
  if (!row) throw new Error(`no row ${cellId} in\n${table}`);
  return row;
}

describe('cellTable', () => {
  const baselineValues = [9e9, 9.1e9, 8.9e9];
  const vxlanValues = [6e9, 6.3e9, 5.7e9];
  const noisyValues = [5e9, 8e9, 3e9];
  const cells = [
    cellOf({
      cellId: 'baseline',
      caseLabel: 'baseline',
      runs: 3,
      metrics: { throughputBitsPerSecond: summarize(baselineValues), cpuServerPercent: summarize([20, 22, 24]), cpuClientPercent: summarize([30, 30, 30]) },
      baseline: { label: 'baseline', comparison: null, note: null },
    }),
    cellOf({ cellId: 'vxlan', caseLabel: 'vxlan', runs: 3, metrics: { throughputBitsPerSecond: summarize(vxlanValues) }, baseline: { label: 'baseline', comparison: compareToBaseline(vxlanValues, baselineValues), note: null } }),
    cellOf({ cellId: 'macvlan', caseLabel: 'macvlan', runs: 3, metrics: { throughputBitsPerSecond: summarize(noisyValues) }, baseline: { label: 'baseline', comparison: compareToBaseline(noisyValues, baselineValues), note: null } }),
    cellOf({ cellId: 'bridge', caseLabel: 'bridge', runs: 0, failures: [{ key: '3.r1', message: 'iperf3 refused' }], baseline: { label: 'baseline', comparison: null, note: 'no results on one side to compare' } }),
  ];
  const table = cellTable(cells);

  it('has a header and one row per cell', () => {
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^cell\s+n\s+metric\s+median\s+mean ± 95% CI\s+CV\s+cpu srv\/cli\s+vs baseline$/);
    expect(lines).toHaveLength(5);
  });

  it('shows the median, the mean with its 95% CI and the CV in the metric’s unit', () => {
    const row = rowOf(table, 'vxlan');
    const summary = summarize(vxlanValues);
    expect(row).toContain('6.00 Gbit/s');
    expect(row).toContain(`6.00 Gbit/s ± ${formatMetric('throughputBitsPerSecond', summary.ci95?.halfWidth ?? 0)}`);
    expect(row).toContain('5.0%');
    expect(row).not.toContain('noisy');
  });

  it('flags a noisy cell', () => {
    expect(rowOf(table, 'macvlan')).toMatch(/\d+\.\d% noisy/);
  });

  it('shows the CPU medians per side, or "-"', () => {
    expect(rowOf(table, 'baseline')).toContain('22%/30%');
    expect(rowOf(table, 'vxlan')).toContain('-/-');
  });

  it('shows the change from the baseline with its interval and the significance mark', () => {
    const comparison = compareToBaseline(vxlanValues, baselineValues);
    const row = rowOf(table, 'vxlan');
    expect(row).toContain(`-33.3% [${comparison.ci95?.low.toFixed(1)}, ${comparison.ci95?.high.toFixed(1)}] *`);
    expect(comparison.ci95?.high).toBeLessThan(0);
  });

  it('marks the baseline’s own cells and a cell without a comparison', () => {
    expect(rowOf(table, 'baseline').trimEnd()).toMatch(/\(baseline\)$/);
    expect(rowOf(table, 'bridge').trimEnd()).toMatch(/ -$/);
  });

  it('shows the first failure of a cell without results', () => {
    expect(rowOf(table, 'bridge')).toContain('failed: iperf3 refused');
  });

  it('shows a "+" for an increase and leaves out the interval with one sample', () => {
    const one = cellTable([cellOf({ cellId: 'x', caseLabel: 'x', runs: 1, metrics: { throughputBitsPerSecond: summarize([11e9]) }, baseline: { label: 'b', comparison: compareToBaseline([11e9], [10e9, 10e9]), note: null } })]);
    const row = rowOf(one, 'x');
    expect(row).toContain('+10.0%');
    expect(row).not.toContain('[');
    expect(row).not.toContain('±');
  });

  it('leaves the comparison column empty without a baseline', () => {
    const plain = cellTable([cellOf({ cellId: 'x', caseLabel: 'x', runs: 2, metrics: { throughputBitsPerSecond: summarize([1e9, 1e9]) } })]);
    expect(rowOf(plain, 'x').trimEnd()).toMatch(/-\/-$/);
  });
});

describe('launchTable', () => {
  it('shows only the phases measured, as medians in ms', () => {
    const table = launchTable([
      cellOf({ cellId: 'bridge', caseLabel: 'bridge', metrics: { launchNetnsMs: summarize([3, 4, 5]), launchLinksMs: summarize([10, 12]) } }),
      cellOf({ cellId: 'vxlan', caseLabel: 'vxlan', metrics: { launchNetnsMs: summarize([6]) } }),
    ]);
    expect(table?.split('\n')[0]).toMatch(/^cell \(medians, ms\)\s+netns\s+links$/);
    expect(table).toMatch(/bridge\s+4\.00\s+11\.00/);
    expect(table).toMatch(/vxlan\s+6\.00\s+-/);
  });

  it('is null without launch metrics', () => {
    expect(launchTable([cellOf({ cellId: 'x', caseLabel: 'x', metrics: { throughputBitsPerSecond: summarize([1]) } })])).toBeNull();
  });
});

describe('formatDuration and progressLine', () => {
  const progress = (done: number, total: number, extra: Partial<Extract<RunEvent, { type: 'progress' }>> = {}): Extract<RunEvent, { type: 'progress' }> => ({
    type: 'progress',
    runId: 'r',
    done,
    total,
    key: '0.r1',
    cellId: 'vxlan parallel=4',
    warmup: false,
    elapsedMs: 65_000,
    etaMs: 5_000,
    ...extra,
  });

  it('formats seconds and minutes', () => {
    expect(formatDuration(4_400)).toBe('4s');
    expect(formatDuration(59_600)).toBe('1m00s');
    expect(formatDuration(125_000)).toBe('2m05s');
  });

  it('draws the bar, the count, the cell, elapsed and ETA', () => {
    expect(progressLine(progress(5, 20), 8)).toBe('[##......] 5/20 vxlan parallel=4 (1m05s, ETA 5s)');
  });

  it('says warm-up and leaves out an unknown ETA', () => {
    expect(progressLine(progress(0, 4, { warmup: true, etaMs: null, elapsedMs: 0 }), 4)).toBe('[....] 0/4 warm-up vxlan parallel=4 (0s)');
  });

  it('draws a full bar when adaptive repetitions go past the planned total', () => {
    expect(progressLine(progress(25, 20), 10)).toBe('[##########] 25/20 vxlan parallel=4 (1m05s, ETA 5s)');
  });

  it('draws an empty bar when there is nothing planned', () => {
    expect(progressLine(progress(0, 0), 3)).toBe('[...] 0/0 vxlan parallel=4 (1m05s, ETA 5s)');
  });
});
