// A run's charts as ECharts options, pure: the primary metric per cell as bars with 95% interval error
// bars (noisy cells marked), lines against packet size (Fig 5/6 of Suo et al.) or against N (Fig 9), and
// the latency CDF from pooled percentiles. The same option draws on screen and renders to SVG for export.
import type { RunCellView, RunView } from '../../contract/lab-api';
import type { ChartPalette } from './chart-palette';
import { rateScale } from './results-tables';

type Option = Record<string, unknown>;

const SIZE_AXES = ['blockSize', 'messageSize'];
const SCALE_AXES = ['pairs', 'containers'];

/** The primary metric's unit for the whole run, scaled so the largest median reads well. */
function primaryScale(run: RunView): { name: string; factor: number; unit: string } | null {
  const primary = run.cells.find((cell) => cell.metrics[cell.primary.name])?.primary;
  if (!primary) return null;
  const largest = Math.max(0, ...run.cells.map((cell) => cell.metrics[primary.name]?.median ?? 0));
  const scale = rateScale(primary.unit, largest);
  return { name: primary.name, ...scale };
}

function axisLabelOf(cell: RunCellView, skip: readonly string[] = []): string {
  return Object.entries(cell.axisValues)
    .filter(([axis]) => !skip.includes(axis))
    .map(([axis, value]) => `${axis}=${String(value)}`)
    .join(' ');
}

function colorOfCase(run: RunView, caseLabel: string, palette: ChartPalette): string {
  const index = Math.max(0, run.modes.findIndex((entry) => entry.label === caseLabel));
  return palette.series[index % palette.series.length] ?? palette.accent;
}

function baseAxes(palette: ChartPalette): { axisLabel: Option; splitLine: Option; nameTextStyle: Option } {
  return { axisLabel: { color: palette.textMuted }, splitLine: { lineStyle: { color: palette.border } }, nameTextStyle: { color: palette.textMuted } };
}

interface ErrorBarDatum {
  value: [number, number, number];
  stroke: string;
}

/** An I-beam from low to high at a category: vertical line and two caps, a third of the bar's width. */
function renderErrorBar(params: { dataIndex: number }, api: { value(dimension: number): number; coord(point: [number, number]): number[]; size(point: [number, number]): number[]; visual(name: 'color'): unknown }): Option {
  const category = api.value(0);
  const low = api.coord([category, api.value(1)]);
  const high = api.coord([category, api.value(2)]);
  const half = (api.size([1, 0])[0] ?? 20) * 0.15;
  const [x = 0, yLow = 0] = low;
  const yHigh = high[1] ?? 0;
  const style = { stroke: api.visual('color'), lineWidth: 1.5, fill: 'none' };
  return {
    type: 'group',
    children: [
      { type: 'line', shape: { x1: x, y1: yLow, x2: x, y2: yHigh }, style },
      { type: 'line', shape: { x1: x - half, y1: yLow, x2: x + half, y2: yLow }, style },
      { type: 'line', shape: { x1: x - half, y1: yHigh, x2: x + half, y2: yHigh }, style },
    ],
    dataIndex: params.dataIndex,
  };
}

/** One bar per cell (mode, then axis values), its median, the 95% interval drawn over it; noisy bars say so. */
export function ciBarOption(run: RunView, palette: ChartPalette): Option | null {
  const scale = primaryScale(run);
  if (!scale) return null;
  const cells = run.cells.filter((cell) => cell.metrics[scale.name]);
  // Values only under each bar ("bridge\n1400"): the axis names are in the table, and full names overlap.
  const categories = cells.map((cell) => [cell.caseLabel, Object.values(cell.axisValues).map(String).join(' · ')].filter(Boolean).join('\n'));
  const bars = cells.map((cell) => {
    const summary = cell.metrics[scale.name];
    const noisy = summary?.noisy ?? false;
    return {
      value: (summary?.median ?? 0) / scale.factor,
      itemStyle: { color: colorOfCase(run, cell.caseLabel, palette), opacity: noisy ? 0.45 : 0.9 },
      label: { show: noisy, position: 'insideTop', formatter: 'noisy', color: palette.text },
    };
  });
  const errorBars: ErrorBarDatum[] = cells.flatMap((cell, index) => {
    const ci = cell.metrics[scale.name]?.ci95;
    return ci ? [{ value: [index, ci.low / scale.factor, ci.high / scale.factor], stroke: palette.text }] : [];
  });
  return {
    animation: false,
    grid: { left: 64, right: 16, top: 24, bottom: 64 },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'category', data: categories, axisLabel: { color: palette.text, interval: 0 } },
    yAxis: { type: 'value', name: scale.unit, ...baseAxes(palette) },
    series: [
      { id: 'median', name: `median (${scale.unit})`, type: 'bar', data: bars, barMaxWidth: 48 },
      { id: 'ci95', name: '95% CI', type: 'custom', renderItem: renderErrorBar, itemStyle: { color: palette.text }, encode: { x: 0, y: [1, 2] }, data: errorBars.map((bar) => bar.value), z: 10 },
    ],
  };
}

/** The primary metric against a numeric axis (size or N), one line per case and combination of the other axes. */
function linesAgainst(run: RunView, axis: string, axisName: string, logX: boolean, palette: ChartPalette): Option | null {
  const scale = primaryScale(run);
  if (!scale) return null;
  const groups = new Map<string, { caseLabel: string; points: [number, number][] }>();
  for (const cell of run.cells) {
    const x = cell.axisValues[axis];
    const median = cell.metrics[scale.name]?.median;
    if (typeof x !== 'number' || median === undefined) continue;
    const name = [cell.caseLabel, axisLabelOf(cell, [axis])].filter(Boolean).join(' ');
    const group = groups.get(name) ?? { caseLabel: cell.caseLabel, points: [] };
    group.points.push([x, median / scale.factor]);
    groups.set(name, group);
  }
  if (groups.size === 0) return null;
  return {
    animation: false,
    grid: { left: 64, right: 16, top: 36, bottom: 52 },
    legend: { top: 0, textStyle: { color: palette.text } },
    tooltip: { trigger: 'axis' },
    // The axis name centred under the axis: at its end it runs past the chart's right edge.
    xAxis: { type: logX ? 'log' : 'value', name: axisName, nameLocation: 'middle', nameGap: 28, logBase: 2, ...baseAxes(palette) },
    yAxis: { type: 'value', name: scale.unit, ...baseAxes(palette) },
    series: [...groups.entries()].map(([name, group], index) => ({
      id: `line-${index}`,
      name,
      type: 'line',
      symbolSize: 6,
      color: colorOfCase(run, group.caseLabel, palette),
      lineStyle: { type: index >= run.modes.length ? 'dashed' : 'solid' },
      data: group.points.sort((a, b) => a[0] - b[0]),
    })),
  };
}

export function sizeLineOption(run: RunView, palette: ChartPalette): Option | null {
  const axis = SIZE_AXES.find((name) => run.axes.includes(name));
  return axis ? linesAgainst(run, axis, `${axis} (bytes)`, true, palette) : null;
}

export function scalabilityOption(run: RunView, palette: ChartPalette): Option | null {
  const axis = SCALE_AXES.find((name) => run.axes.includes(name));
  return axis ? linesAgainst(run, axis, axis === 'pairs' ? 'N (concurrent pairs)' : 'N (containers, all to all)', false, palette) : null;
}

/** The cumulative distribution of each cell's pooled latency samples (µs; ping's ms converted). */
export function latencyCdfOption(run: RunView, palette: ChartPalette): Option | null {
  const series = run.cells.flatMap((cell, index) => {
    const pooled = cell.percentiles.latencyUs ?? cell.percentiles.rttMs;
    if (!pooled || pooled.percentiles.length === 0) return [];
    const factor = cell.percentiles.latencyUs ? 1 : 1000;
    const points = pooled.percentiles.map((entry) => [entry.value * factor, entry.p / 100] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return [{ id: `cdf-${index}`, name: cell.cellId, type: 'line', step: 'end', symbolSize: 4, color: colorOfCase(run, cell.caseLabel, palette), data: points }];
  });
  if (series.length === 0) return null;
  return {
    animation: false,
    grid: { left: 56, right: 16, top: 36, bottom: 52 },
    legend: { top: 0, textStyle: { color: palette.text } },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'log', name: 'latency (µs)', nameLocation: 'middle', nameGap: 28, ...baseAxes(palette) },
    yAxis: { type: 'value', name: 'fraction', min: 0, max: 1, ...baseAxes(palette) },
    series,
  };
}
