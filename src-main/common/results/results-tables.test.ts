// The paper-style tables from fixture runs: the numbers in the cells, the units chosen, the baseline
// columns, the flags, and null where a run measured nothing for a table.
import { describe, expect, it } from 'vitest';
import { comparisonTable, cpuTable, formatCell, latencyTable, launchTable, throughputTable, type ResultsTable } from './results-tables';
import type { RunView } from '../../contract/lab-api';
import { COMPARISON, LATENCY_RUN, LAUNCH_RUN, SCALABILITY_RUN, THROUGHPUT_RUN, summary } from './run-fixtures.test-support';

/** Row by row, the cells as the view shows them. */
function shown(table: ResultsTable | null, keys: string[]): string[][] {
  if (!table) throw new Error('no table');
  return table.rows.map((row) => keys.map((key) => formatCell(table.columns.find((column) => column.key === key) ?? { key, label: key, numeric: false }, row.cells[key] ?? null)));
}

describe('throughput table', () => {
  it('prints the median per mode and size in Gbit/s with its interval and the change against bridge', () => {
    const table = throughputTable(THROUGHPUT_RUN);
    expect(table?.columns.find((column) => column.key === 'median')?.unit).toBe('Gbit/s');
    expect(shown(table, ['case', 'axis:blockSize', 'n', 'median', 'ciLow', 'ciHigh', 'vsBaseline', 'vsLow', 'vsHigh'])).toEqual([
      ['bridge', '1,400', '2', '18.20', '17.80', '18.60', '(baseline)', '—', '—'],
      ['bridge', '65,536', '2', '30.40', '29.80', '31.00', '(baseline)', '—', '—'],
      ['macvlan', '1,400', '2', '16.10', '15.60', '16.60', '−11.5 %', '−14.2 %', '−8.8 %'],
      ['macvlan', '65,536', '2', '29.90', '27.40', '32.40', '−1.6 %', '−9.9 %', '+6.7 %'],
      ['vxlan', '1,400', '2', '5.30', '5.10', '5.50', '−70.9 %', '−72.5 %', '−69.3 %'],
      ['vxlan', '65,536', '2', '9.41', '9.11', '9.71', '−69.0 %', '−70.8 %', '−67.2 %'],
    ]);
    expect(table?.rows.map((row) => [row.flags?.noisy, row.flags?.significant])).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [true, false],
      [false, true],
      [false, true],
    ]);
    // Raw numbers stay in the cells for CSV.
    expect(table?.rows[5]?.cells.median).toBeCloseTo(9.41, 10);
  });

  it('has no baseline columns without a baseline, and no table for launch time', () => {
    const table = throughputTable({ ...THROUGHPUT_RUN, baseline: null });
    expect(table?.columns.map((column) => column.key)).not.toContain('vsBaseline');
    expect(throughputTable(LAUNCH_RUN)).toBeNull();
    expect(throughputTable(LATENCY_RUN)).toBeNull();
  });
});

describe('latency table', () => {
  it('prints the average and pooled percentiles in µs', () => {
    expect(shown(latencyTable(LATENCY_RUN), ['case', 'average', 'p50', 'p90', 'p99', 'p99.9', 'samples'])).toEqual([
      ['bridge', '21.5', '30.0', '38.0', '39.8', '40.0', '20,000'],
      ['vxlan', '33.2', '45.0', '57.0', '59.7', '60.0', '20,000'],
    ]);
    expect(latencyTable(THROUGHPUT_RUN)).toBeNull();
  });

  it('falls back to sockperf\'s own per-run percentiles when no raw samples were pooled', () => {
    const withoutSamples: RunView = {
      ...LATENCY_RUN,
      cells: LATENCY_RUN.cells.map((cell, index) => ({
        ...cell,
        percentiles: {},
        metrics: { ...cell.metrics, latencyP50Us: summary(20 + index, 1), latencyP90Us: summary(25 + index, 1), latencyP99Us: summary(31 + index, 1), latencyP999Us: summary(44 + index, 1) },
      })),
    };
    expect(shown(latencyTable(withoutSamples), ['case', 'p50', 'p90', 'p99', 'p99.9', 'samples'])).toEqual([
      ['bridge', '20.0', '25.0', '31.0', '44.0', '—'],
      ['vxlan', '21.0', '26.0', '32.0', '45.0', '—'],
    ]);
  });
});

describe('CPU table', () => {
  it('prints CPU % and service demand per side where measured (Table V)', () => {
    const table = cpuTable(THROUGHPUT_RUN);
    expect(table?.columns.map((column) => column.key)).toEqual(['case', 'axis:blockSize', 'n', 'cpuServer', 'demandServerMB']);
    expect(shown(table, ['case', 'cpuServer', 'demandServerMB'])).toEqual([['bridge', '52.0', '220.5']]);
    expect(cpuTable(LATENCY_RUN)).toBeNull();
  });
});

describe('launch-time table', () => {
  it('prints the launch time per mode with its steps (Table VI)', () => {
    const table = launchTable(LAUNCH_RUN);
    expect(table?.columns.map((column) => column.label)).toEqual(['mode', 'runs', 'launch time', '95% CI low', '95% CI high', 'netns', 'links', 'first reply']);
    expect(shown(table, ['case', 'launch', 'launchNetnsMs', 'launchFirstReplyMs'])).toEqual([
      ['none', '8.2', '6.10', '0.00'],
      ['bridge', '24.6', '6.30', '3.20'],
      ['macvlan', '19.9', '6.00', '2.10'],
      ['vxlan', '31.7', '6.40', '5.50'],
    ]);
    expect(launchTable(SCALABILITY_RUN)).toBeNull();
  });
});

describe('comparison table', () => {
  it('prints both medians, the difference with its interval and whether it is significant', () => {
    expect(shown(comparisonTable(COMPARISON), ['case', 'a', 'b', 'change', 'changeLow', 'changeHigh', 'significant'])).toEqual([
      ['bridge', '18.00', '18.30', '+1.7 %', '−2.1 %', '+5.5 %', 'no'],
      ['vxlan', '5.30', '4.20', '−20.8 %', '−24.0 %', '−17.6 %', 'yes'],
      ['macvlan', '—', '16.00', 'run A has no such cell', '—', '—', '—'],
    ]);
    expect(comparisonTable({ ...COMPARISON, rows: [] })).toBeNull();
  });
});
