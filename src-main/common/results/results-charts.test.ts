// The results charts from fixture runs: bars with their 95% interval error bars (and noisy bars marked),
// lines against size and N, the latency CDF; null where the run has nothing to draw; SVG export draws.
import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './chart-svg';
import { ciBarOption, latencyCdfOption, scalabilityOption, sizeLineOption } from './results-charts';
import { LATENCY_RUN, LAUNCH_RUN, SCALABILITY_RUN, THROUGHPUT_RUN } from './run-fixtures.test-support';

const palette = { text: '#111', textMuted: '#555', border: '#ddd', accent: '#00f', series: ['#a00', '#0a0', '#00a'] };
type Series = { id: string; type: string; data: unknown[]; name?: string };
const seriesOf = (option: Record<string, unknown> | null): Series[] => (option?.series ?? []) as Series[];

describe('results charts', () => {
  it('draws a bar per cell with an error bar from the interval, in the table unit, noisy bars marked', () => {
    const option = ciBarOption(THROUGHPUT_RUN, palette);
    const [bars, errors] = seriesOf(option);
    expect(bars?.type).toBe('bar');
    expect((bars?.data as { value: number }[]).map((bar) => bar.value)).toEqual([18.2, 30.4, 16.1, 29.9, 5.3, 9.41]);
    expect(errors?.type).toBe('custom');
    expect(errors?.data[5]).toEqual([5, 9.11, 9.71]);
    expect((bars?.data as { label: { show: boolean } }[]).map((bar) => bar.label.show)).toEqual([false, false, false, true, false, false]);
    expect((option?.yAxis as { name: string }).name).toBe('Gbit/s');
  });

  it('draws lines against size (one per mode) and against N, and nothing where the run has no such axis', () => {
    const sizes = seriesOf(sizeLineOption(THROUGHPUT_RUN, palette));
    expect(sizes.map((series) => series.name)).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect(sizes[2]?.data).toEqual([[1400, 5.3], [65536, 9.41]]);
    expect(seriesOf(scalabilityOption(SCALABILITY_RUN, palette))[0]?.data).toEqual([[1, 10], [2, 20], [4, 30], [8, 30]]);
    expect(sizeLineOption(LAUNCH_RUN, palette)).toBeNull();
    expect(scalabilityOption(THROUGHPUT_RUN, palette)).toBeNull();
  });

  it('draws a monotone latency CDF per cell from the pooled percentiles', () => {
    const series = seriesOf(latencyCdfOption(LATENCY_RUN, palette));
    expect(series).toHaveLength(2);
    const points = series[0]?.data as [number, number][];
    expect(points[0]).toEqual([25, 0.25]);
    for (let index = 1; index < points.length; index++) {
      expect(points[index]?.[0]).toBeGreaterThanOrEqual(points[index - 1]?.[0] ?? 0);
      expect(points[index]?.[1]).toBeGreaterThanOrEqual(points[index - 1]?.[1] ?? 0);
    }
    expect(latencyCdfOption(THROUGHPUT_RUN, palette)).toBeNull();
  });

  it('renders the bar chart with its error bars to SVG', () => {
    const svg = renderChartSvg(ciBarOption(THROUGHPUT_RUN, palette) ?? {}, 800, 400);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('vxlan');
    // 6 bars and 6 error bars of 3 strokes each, at least.
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(6 + 18);
  });
});
