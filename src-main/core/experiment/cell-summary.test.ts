// Tests of the per-cell statistics from a run's stored lines: warm-ups and live lines ignored, a run redone
// after a failure counted once (latest line wins), failures listed, metrics summarised (median, mean, CI),
// raw samples pooled into percentiles, and the comparison with the baseline's twin cell.
import { describe, expect, it } from 'vitest';
import { summarizeCells } from './cell-summary';
import { experimentFingerprint, experimentFromData, type ExperimentSpec } from './experiment-schema';
import { planRuns } from './matrix';
import { newRunRecord, type FailureLine, type LiveLine, type ResultLine, type RunRecord, type SampleLine } from './run-store';

function recordOf(experiment: ExperimentSpec): RunRecord {
  const plan = planRuns(experiment, 1);
  return {
    ...newRunRecord(
      { runId: '20260101-000000-test', experimentFile: null, experiment, fingerprint: experimentFingerprint(experiment), hostMap: {}, cnlabVersion: '0.0.0', seed: plan.seed, cells: plan.cells, blocks: plan.blocks },
      '2026-01-01T00:00:00.000Z',
    ),
    state: 'completed',
  };
}

/** Cells: 0 baseline size 64, 1 baseline size 1024, 2 vxlan size 64, 3 vxlan size 1024. */
const latency = recordOf(
  experimentFromData({
    v: 1,
    kind: 'experiment',
    name: 'sizes',
    hosts: ['h1', 'h2'],
    placement: { server: 'h1', client: 'h2' },
    modes: ['baseline', 'vxlan'],
    baseline: 'baseline',
    workload: { tool: 'sockperf' },
    axes: { messageSize: [64, 1024] },
    repetitions: 3,
  }),
);

function result(cellIndex: number, repetition: number, metrics: Record<string, number>, extra: Partial<ResultLine> = {}): ResultLine {
  const warmup = extra.warmup ?? false;
  return { type: 'result', key: `${cellIndex}.${warmup ? 'w' : 'r'}${repetition}`, cellIndex, repetition, warmup, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 3000, metrics, ...extra };
}

function failure(cellIndex: number, repetition: number, message: string, warmup = false): FailureLine {
  return { type: 'failure', key: `${cellIndex}.${warmup ? 'w' : 'r'}${repetition}`, cellIndex, repetition, warmup, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 10, error: { code: 'command-failed', message } };
}

const live: LiveLine = { type: 'live', key: '2.r1', t: 1, metric: 'latencyMeanUs', value: 1e6, source: 'client' };

describe('summarizeCells', () => {
  it('summarises each cell over its measured runs, not warm-ups or live samples', () => {
    const lines: SampleLine[] = [
      result(2, 1, { latencyMeanUs: 999 }, { warmup: true }),
      live,
      result(2, 1, { latencyMeanUs: 10, latencyP99Us: 30 }),
      result(2, 2, { latencyMeanUs: 12, latencyP99Us: 34 }),
      result(2, 3, { latencyMeanUs: 14, latencyP99Us: 32 }),
    ];
    const cell = summarizeCells(latency, lines)[2];
    expect(cell).toMatchObject({ cellIndex: 2, cellId: 'vxlan messageSize=64', caseLabel: 'vxlan', axisValues: { messageSize: 64 }, runs: 3, failures: [] });
    expect(cell?.primary).toEqual({ name: 'latencyMeanUs', unit: 'µs', higherIsBetter: false });
    const summary = cell?.metrics.latencyMeanUs;
    expect(summary?.n).toBe(3);
    expect(summary?.median).toBe(12);
    expect(summary?.mean).toBe(12);
    expect(summary?.ci95?.low).toBeLessThan(12);
    expect(summary?.ci95?.high).toBeGreaterThan(12);
    expect(summary?.ci95?.halfWidth).toBeCloseTo(4.303 * (2 / Math.sqrt(3)), 2);
    expect(cell?.metrics.latencyP99Us?.median).toBe(32);
  });

  it('counts a run redone after a failure once, and lists failures that were not redone', () => {
    const lines: SampleLine[] = [
      failure(2, 1, 'sockperf timed out'),
      result(2, 1, { latencyMeanUs: 10 }),
      result(2, 2, { latencyMeanUs: 11 }),
      failure(2, 3, 'server vanished'),
      failure(2, 1, 'warm-up failed', true),
    ];
    const cell = summarizeCells(latency, lines)[2];
    expect(cell?.runs).toBe(2);
    expect(cell?.metrics.latencyMeanUs?.n).toBe(2);
    expect(cell?.failures).toEqual([{ key: '2.r3', message: 'server vanished' }]);
  });

  it('takes the latest line of a key when a run was recorded twice', () => {
    const lines = [result(3, 1, { latencyMeanUs: 100 }), result(3, 1, { latencyMeanUs: 20 }), result(3, 2, { latencyMeanUs: 22 })];
    const cell = summarizeCells(latency, lines)[3];
    expect(cell?.runs).toBe(2);
    expect(cell?.metrics.latencyMeanUs?.mean).toBe(21);
  });

  it('leaves out metrics without a finite value and cells without results', () => {
    const lines = [result(2, 1, { latencyMeanUs: 10 }), result(2, 2, { latencyMeanUs: 12 })];
    // JSON turns NaN into null: what a stored line can hold.
    (lines[1] as ResultLine).metrics.bogus = null as unknown as number;
    const cells = summarizeCells(latency, lines);
    expect(Object.keys(cells[2]?.metrics ?? {})).toEqual(['latencyMeanUs']);
    expect(cells[3]).toMatchObject({ runs: 0, failures: [], metrics: {}, percentiles: {} });
  });

  it('pools raw samples of every measured run into percentiles', () => {
    const lines = [
      result(2, 1, { latencyMeanUs: 10 }, { rawSamples: { latencyUs: [1, 2, 3, 4, 5] } }),
      result(2, 2, { latencyMeanUs: 10 }, { rawSamples: { latencyUs: [6, 7, 8, 9, 100] } }),
      result(2, 1, { latencyMeanUs: 10 }, { warmup: true, rawSamples: { latencyUs: [1000, 1000] } }),
    ];
    const pooled = summarizeCells(latency, lines)[2]?.percentiles.latencyUs;
    expect(pooled?.n).toBe(10);
    expect(pooled?.runs).toBe(2);
    expect(pooled?.percentiles.find((entry) => entry.p === 50)?.value).toBe(5);
    expect(pooled?.percentiles.find((entry) => entry.p === 99)?.value).toBe(100);
  });

  it('skips raw samples a stored line lost (null for NaN) instead of failing the whole run', () => {
    const lines = [result(2, 1, { latencyMeanUs: 10 }, { rawSamples: { latencyUs: [1, null as unknown as number, 3] } })];
    const pooled = summarizeCells(latency, lines)[2]?.percentiles.latencyUs;
    expect(pooled?.n).toBe(2);
  });

  it('compares with the baseline cell of the same axis values', () => {
    const lines = [
      // baseline size 64: ~10, baseline size 1024: ~40
      ...[10, 10.2, 9.8].map((value, index) => result(0, index + 1, { latencyMeanUs: value })),
      ...[40, 40.4, 39.6].map((value, index) => result(1, index + 1, { latencyMeanUs: value })),
      // vxlan size 64: ~12 (+20%), vxlan size 1024: ~36 (−10%)
      ...[12, 12.2, 11.8].map((value, index) => result(2, index + 1, { latencyMeanUs: value })),
      ...[36, 36.4, 35.6].map((value, index) => result(3, index + 1, { latencyMeanUs: value })),
    ];
    const cells = summarizeCells(latency, lines);
    const small = cells[2]?.baseline;
    expect(small?.label).toBe('baseline');
    expect(small?.note).toBeNull();
    expect(small?.comparison?.percentChange).toBeCloseTo(20, 6);
    expect(small?.comparison?.significant).toBe(true);
    expect(small?.comparison?.ci95?.low).toBeGreaterThan(0);
    const large = cells[3]?.baseline?.comparison;
    expect(large?.percentChange).toBeCloseTo(-10, 6);
    expect(large?.ci95?.high).toBeLessThan(0);
  });

  it('marks the baseline’s own cells as the baseline, with nothing to compare', () => {
    const lines = [10, 11, 12].map((value, index) => result(0, index + 1, { latencyMeanUs: value }));
    expect(summarizeCells(latency, lines)[0]?.baseline).toEqual({ label: 'baseline', comparison: null, note: null });
  });

  it('says why there is no comparison when one side has no results', () => {
    const lines = [10, 11].map((value, index) => result(2, index + 1, { latencyMeanUs: value }));
    expect(summarizeCells(latency, lines)[2]?.baseline).toEqual({ label: 'baseline', comparison: null, note: 'no results on one side to compare' });
  });

  it('gives the stats error as the note when the comparison is impossible', () => {
    const lines = [result(0, 1, { latencyMeanUs: 0 }), result(0, 2, { latencyMeanUs: 0 }), result(2, 1, { latencyMeanUs: 5 })];
    const baseline = summarizeCells(latency, lines)[2]?.baseline;
    expect(baseline?.comparison).toBeNull();
    expect(baseline?.note).toContain('baseline mean is 0');
  });

  it('has no comparison without a baseline in the experiment', () => {
    const plain = recordOf(
      experimentFromData({ v: 1, kind: 'experiment', name: 'plain', hosts: ['h1'], placement: { server: 'h1', client: 'h1' }, modes: ['bridge', 'macvlan'], workload: { tool: 'iperf3' } }),
    );
    const lines = [result(0, 1, { throughputBitsPerSecond: 1e9 }), result(1, 1, { throughputBitsPerSecond: 2e9 })];
    const cells = summarizeCells(plain, lines);
    expect(cells.map((cell) => cell.baseline)).toEqual([null, null]);
    expect(cells[1]?.primary.name).toBe('throughputBitsPerSecond');
    expect(cells[1]?.metrics.throughputBitsPerSecond?.median).toBe(2e9);
  });
});
