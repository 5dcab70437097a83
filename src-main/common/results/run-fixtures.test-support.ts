// Run views as the main process sends them, with numbers chosen so tests can check every cell: a
// throughput comparison (bridge baseline, two sizes, one noisy cell), a latency run with pooled
// percentiles, a launch-time run with its steps, a scalability run, and a comparison of two runs.
import type { MetricSummaryView, RunCellView, RunComparisonView, RunView } from '../../contract/lab-api';

export function summary(median: number, halfWidth: number, extra: Partial<MetricSummaryView> = {}): MetricSummaryView {
  return { n: 2, mean: median, median, stdDev: halfWidth / 6, min: median - halfWidth / 2, max: median + halfWidth / 2, ci95: { low: median - halfWidth, high: median + halfWidth, halfWidth }, cv: 0.02, noisy: false, warning: null, ...extra };
}

const THROUGHPUT = { name: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true };

function cell(cellIndex: number, caseLabel: string, axisValues: RunCellView['axisValues'], metrics: RunCellView['metrics'], extra: Partial<RunCellView> = {}): RunCellView {
  const label = [caseLabel, ...Object.entries(axisValues).map(([axis, value]) => `${axis}=${String(value)}`)].join(' ');
  return { cellIndex, cellId: label, caseLabel, axisValues, runs: 2, failures: [], primary: THROUGHPUT, metrics, percentiles: {}, baseline: null, ...extra };
}

const vsBridge = (percentChange: number, low: number, high: number) => ({ label: 'bridge', comparison: { percentChange, ci95: { low, high }, significant: low > 0 || high < 0, pValue: 0.01, note: null }, note: null });

function base(name: string, fields: Partial<RunView>): RunView {
  return { runId: `20261122-100000-${name}`, name, state: 'completed', createdAt: '2026-11-22T10:00:00.000Z', workload: { tool: 'iperf3', protocol: 'tcp', duration: 3 }, axes: [], modes: [], baseline: null, repetitions: 2, cells: [], failures: [], ...fields };
}

export const THROUGHPUT_RUN: RunView = base('compare', {
  axes: ['blockSize'],
  baseline: 'bridge',
  modes: [
    { label: 'bridge', mode: 'bridge' },
    { label: 'macvlan', mode: 'macvlan' },
    { label: 'vxlan', mode: 'vxlan' },
  ],
  cells: [
    cell(0, 'bridge', { blockSize: 1400 }, { throughputBitsPerSecond: summary(18.2e9, 0.4e9), cpuServerPercent: summary(52, 2), serverDemandUsPerMB: summary(220.5, 5) }, { baseline: { label: 'bridge', comparison: null, note: null } }),
    cell(1, 'bridge', { blockSize: 65536 }, { throughputBitsPerSecond: summary(30.4e9, 0.6e9) }, { baseline: { label: 'bridge', comparison: null, note: null } }),
    cell(2, 'macvlan', { blockSize: 1400 }, { throughputBitsPerSecond: summary(16.1e9, 0.5e9) }, { baseline: vsBridge(-11.5, -14.2, -8.8) }),
    cell(3, 'macvlan', { blockSize: 65536 }, { throughputBitsPerSecond: summary(29.9e9, 2.5e9, { noisy: true, cv: 0.14 }) }, { baseline: vsBridge(-1.6, -9.9, 6.7) }),
    cell(4, 'vxlan', { blockSize: 1400 }, { throughputBitsPerSecond: summary(5.3e9, 0.2e9) }, { baseline: vsBridge(-70.9, -72.5, -69.3) }),
    cell(5, 'vxlan', { blockSize: 65536 }, { throughputBitsPerSecond: summary(9.41e9, 0.3e9) }, { baseline: vsBridge(-69.0, -70.8, -67.2) }),
  ],
});

const LATENCY = { name: 'latencyMeanUs', unit: 'µs', higherIsBetter: false };
const pooled = (base: number) => ({ n: 20000, runs: 2, percentiles: [25, 50, 75, 90, 99, 99.9].map((p) => ({ p, value: base * (1 + p / 100) })) });

export const LATENCY_RUN: RunView = base('latency', {
  workload: { tool: 'sockperf', test: 'ping-pong', protocol: 'udp' },
  modes: [
    { label: 'bridge', mode: 'bridge' },
    { label: 'vxlan', mode: 'vxlan' },
  ],
  cells: [
    cell(0, 'bridge', {}, { latencyMeanUs: summary(21.5, 0.5) }, { primary: LATENCY, percentiles: { latencyUs: pooled(20) } }),
    cell(1, 'vxlan', {}, { latencyMeanUs: summary(33.2, 0.8) }, { primary: LATENCY, percentiles: { latencyUs: pooled(30) } }),
  ],
});

const LAUNCH = { name: 'launchMs', unit: 'ms', higherIsBetter: false };
const launchCell = (index: number, mode: string, launch: number, netns: number, firstReply: number) =>
  cell(index, mode, {}, { launchMs: summary(launch, launch / 20), launchNetnsMs: summary(netns, 0.2), launchLinksMs: summary(mode === 'none' ? 0 : 4.1, 0.2), launchFirstReplyMs: summary(firstReply, 0.5) }, { primary: LAUNCH });

export const LAUNCH_RUN: RunView = base('launch', {
  workload: { tool: 'launch', containers: 1 },
  modes: ['none', 'bridge', 'macvlan', 'vxlan'].map((mode) => ({ label: mode, mode })),
  cells: [launchCell(0, 'none', 8.2, 6.1, 0), launchCell(1, 'bridge', 24.6, 6.3, 3.2), launchCell(2, 'macvlan', 19.9, 6.0, 2.1), launchCell(3, 'vxlan', 31.7, 6.4, 5.5)],
});

export const SCALABILITY_RUN: RunView = base('scale', {
  axes: ['pairs'],
  modes: [{ label: 'bridge', mode: 'bridge' }],
  cells: [1, 2, 4, 8].map((pairs, index) => cell(index, 'bridge', { pairs }, { throughputBitsPerSecond: summary(10e9 * Math.min(pairs, 3), 0.5e9) })),
});

export const COMPARISON: RunComparisonView = {
  a: { runId: '20261121-compare', name: 'compare', createdAt: '2026-11-21T10:00:00.000Z' },
  b: { runId: '20261122-compare', name: 'compare', createdAt: '2026-11-22T10:00:00.000Z' },
  rows: [
    { caseLabel: 'bridge', axisValues: { blockSize: 1400 }, metric: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true, a: { n: 2, mean: 18e9, median: 18e9, ci95: null }, b: { n: 2, mean: 18.3e9, median: 18.3e9, ci95: null }, difference: { percentChange: 1.7, ci95: { low: -2.1, high: 5.5 }, significant: false, pValue: 0.3 }, note: null },
    { caseLabel: 'vxlan', axisValues: { blockSize: 1400 }, metric: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true, a: { n: 2, mean: 5.3e9, median: 5.3e9, ci95: null }, b: { n: 2, mean: 4.2e9, median: 4.2e9, ci95: null }, difference: { percentChange: -20.8, ci95: { low: -24.0, high: -17.6 }, significant: true, pValue: 0.001 }, note: null },
    { caseLabel: 'macvlan', axisValues: { blockSize: 1400 }, metric: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true, a: null, b: { n: 2, mean: 16e9, median: 16e9, ci95: null }, difference: null, note: 'run A has no such cell' },
  ],
};
