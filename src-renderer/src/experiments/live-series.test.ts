// The live series buffer: runs line up on one time axis, memory stays bounded (64 series, 600 points),
// extra streams fold into their cell's "other", CPU is kept apart, and drain reports only what moved.
import { describe, expect, it } from 'vitest';
import type { LiveSampleView } from '@contract/lab-api';
import { displayPoints, LiveSeriesBuffer } from './live-series';

const throughput = (t: number, source: string, value: number): LiveSampleView => ({ t, metric: 'throughputBitsPerSecond', value, source });

describe('LiveSeriesBuffer', () => {
  it('puts consecutive runs on one axis, from each run’s own t = 0', () => {
    const buffer = new LiveSeriesBuffer();
    buffer.push('0.r1', 'bridge', [throughput(1, 'pair1/pair', 9e9), throughput(2, 'pair1/pair', 9.1e9)], 2_000);
    buffer.push('1.r1', 'vxlan', [throughput(1, 'pair1/pair', 3e9)], 10_000);
    const [bridge, vxlan] = buffer.snapshot();
    expect(bridge).toMatchObject({ name: 'bridge pair1', xs: [1, 2], ys: [9e9, 9.1e9] });
    // vxlan's run began at 9 s wall (its t = 1 arrived at 10 s), 8 s after bridge's run began at 1 s.
    expect(vxlan?.xs).toEqual([9]);
  });

  it('keeps at most 64 series, folding further streams into the cell’s "other" (summed per second)', () => {
    const buffer = new LiveSeriesBuffer();
    const samples = Array.from({ length: 70 }, (_, stream) => throughput(1, `pair${stream + 1}/pair`, 1e9));
    buffer.push('0.r1', 'bridge', samples, 1_000);
    const series = buffer.snapshot();
    expect(series).toHaveLength(64);
    expect(series.at(-1)).toMatchObject({ name: 'bridge other streams', ys: [7e9] });
  });

  it('keeps at most 600 points per series, dropping the oldest', () => {
    const buffer = new LiveSeriesBuffer();
    for (let t = 1; t <= 700; t++) buffer.push('0.r1', 'bridge', [throughput(t, 'pair1/pair', t)], 1_000 + t * 1000);
    const [series] = buffer.snapshot();
    expect(series?.xs).toHaveLength(600);
    expect(series?.ys[0]).toBe(101);
    expect(buffer.pointCount()).toBe(600);
  });

  it('keeps CPU per host apart, ignores other metrics, and drains only what moved', () => {
    const buffer = new LiveSeriesBuffer();
    buffer.push('0.r1', 'bridge', [throughput(1, 'pair1/pair', 1), { t: 1, metric: 'cpuPercent', value: 40, source: 'h1' }, { t: 1, metric: 'rxBytesPerSecond', value: 5, source: 'h1/cab12v0' }], 1_000);
    expect(buffer.snapshot().map((series) => [series.kind, series.name])).toEqual([['throughput', 'bridge pair1'], ['cpu', 'h1']]);
    expect(buffer.drain()).toMatchObject({ added: true, changed: [{ name: 'bridge pair1' }, { name: 'h1' }] });
    buffer.push('0.r1', 'bridge', [{ t: 2, metric: 'cpuPercent', value: 50, source: 'h1' }], 2_000);
    const next = buffer.drain();
    expect(next.added).toBe(false);
    expect(next.changed.map((series) => series.name)).toEqual(['h1']);
    expect(buffer.drain().changed).toEqual([]);
    buffer.reset();
    expect(buffer.snapshot()).toEqual([]);
  });
});

describe('displayPoints', () => {
  it('draws the last minute as measured and averages older seconds per 10 s', () => {
    const xs = Array.from({ length: 600 }, (_, index) => index + 1);
    const points = displayPoints({ xs, ys: xs.map((x) => x * 2) });
    // 1..540 in 10 s buckets (1-9, 10-19, …, 530-539, 540) and 541..600 one by one.
    expect(points).toHaveLength(55 + 60);
    expect(points[0]).toEqual([5, 10]);
    expect(points[1]).toEqual([14.5, 29]);
    expect(points.at(-61)).toEqual([540, 1080]);
    expect(points.at(-60)).toEqual([541, 1082]);
    expect(points.at(-1)).toEqual([600, 1200]);
    expect(displayPoints({ xs: [1, 2], ys: [3, 4] })).toEqual([[1, 3], [2, 4]]);
    expect(displayPoints({ xs: [], ys: [] })).toEqual([]);
  });
});
