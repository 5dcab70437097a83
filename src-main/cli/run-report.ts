// Text renderings of experiment results for the terminal: values in readable units, the per-cell
// table (median, mean ± 95% CI, CV, vs baseline) and a one-line progress bar for stderr.
import type { CellSummary } from '../core/experiment/cell-summary';
import type { RunEvent } from '../core/experiment/run-events';
import { formatTable } from './output';

/** A metric value in the unit its name says, scaled for reading (bit/s → Gbit/s, µs, ms, %). */
export function formatMetric(name: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (name.endsWith('BitsPerSecond')) {
    const units: [number, string][] = [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
    const [scale, unit] = units.find(([limit]) => Math.abs(value) >= limit) ?? [1, 'bit/s'];
    return `${(value / scale).toFixed(2)} ${unit}`;
  }
  if (name.endsWith('Us')) return `${value.toFixed(2)} µs`;
  if (name.endsWith('Ms')) return `${value.toFixed(2)} ms`;
  if (name.endsWith('Percent')) return `${value.toFixed(1)} %`;
  if (name.endsWith('PerSecond')) return `${Math.round(value).toLocaleString('en-US')}/s`;
  if (name.endsWith('UsPerMB')) return `${value.toFixed(1)} µs/MB`;
  if (name.endsWith('UsPerTransaction')) return `${value.toFixed(2)} µs/trans`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

export function cellTable(cells: readonly CellSummary[]): string {
  const header = ['cell', 'n', 'metric', 'median', 'mean ± 95% CI', 'CV', 'cpu srv/cli', 'vs baseline'];
  const rows = cells.map((cell) => {
    const metric = cell.primary.name;
    const summary = cell.metrics[metric];
    const cpu = ['cpuServerPercent', 'cpuClientPercent'].map((name) => cell.metrics[name]?.median).map((value) => (value === undefined ? '-' : `${value.toFixed(0)}%`)).join('/');
    const comparison = cell.baseline?.comparison;
    const versus = !cell.baseline ? '' : comparison ? `${signed(comparison.percentChange)}%${comparison.ci95 ? ` [${signed(comparison.ci95.low)}, ${signed(comparison.ci95.high)}]` : ''}${comparison.significant ? ' *' : ''}` : cell.baseline.label === cell.caseLabel ? '(baseline)' : '-';
    if (!summary) return [cell.cellId, String(cell.runs), metric, '-', cell.failures.length > 0 ? `failed: ${cell.failures[0]?.message ?? ''}` : '-', '-', cpu, versus];
    const ci = summary.ci95 ? ` ± ${formatMetric(metric, summary.ci95.halfWidth)}` : '';
    const cv = summary.cv === null ? '-' : `${(summary.cv * 100).toFixed(1)}%${summary.noisy ? ' noisy' : ''}`;
    return [cell.cellId, String(cell.runs), metric, formatMetric(metric, summary.median), `${formatMetric(metric, summary.mean)}${ci}`, cv, cpu, versus];
  });
  return formatTable(header, rows);
}

/** Launch-time breakdown per cell: the phases' medians. */
export function launchTable(cells: readonly CellSummary[]): string | null {
  const phases = ['launchCreateMs', 'launchStartMs', 'launchNetnsMs', 'launchLinksMs', 'launchAddressesMs', 'launchLinkUpMs', 'launchFirstReplyMs', 'peerFirstContainerMs', 'peerExistingBlockMs', 'peerDaemonRestartMs'];
  const present = phases.filter((phase) => cells.some((cell) => cell.metrics[phase]));
  if (present.length === 0) return null;
  const rows = cells.map((cell) => [cell.cellId, ...present.map((phase) => (cell.metrics[phase] ? cell.metrics[phase].median.toFixed(2) : '-'))]);
  return formatTable(['cell (medians, ms)', ...present.map((phase) => phase.replace(/^launch|Ms$/g, '').replace(/^./, (c) => c.toLowerCase()))], rows);
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/** The progress line for a TTY: [####....] k/n cell, elapsed, ETA. */
export function progressLine(event: Extract<RunEvent, { type: 'progress' }>, width = 20): string {
  // Adaptive repetitions can take done past the planned total: a full bar, never a negative repeat count.
  const fraction = event.total > 0 ? Math.min(1, Math.max(0, event.done / event.total)) : 0;
  const filled = Math.round(fraction * width);
  const eta = event.etaMs === null ? '' : `, ETA ${formatDuration(event.etaMs)}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.done}/${event.total} ${event.warmup ? 'warm-up ' : ''}${event.cellId} (${formatDuration(event.elapsedMs)}${eta})`;
}
