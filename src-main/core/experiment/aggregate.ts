// Turns what the pairs of one run measured into the run's metrics: rates and counts add up across
// concurrent pairs (aggregate throughput), everything else (latency, jitter, loss) is averaged; then
// the hosts' CPU during the run and the service demand (CPU time per MB or per transaction).
import { combineMetrics } from '../workloads/combine-metrics';
import type { Measurement } from '../workloads/workload-context';

export function combinePairs(measurements: readonly Measurement[]): Measurement {
  if (measurements.length === 1 && measurements[0]) return measurements[0];
  const metrics = combineMetrics(measurements);
  const rawSamples: Record<string, number[]> = {};
  for (const measurement of measurements) {
    for (const [name, values] of Object.entries(measurement.rawSamples ?? {})) (rawSamples[name] ??= []).push(...values);
  }
  const notes = [...new Set(measurements.flatMap((measurement) => measurement.notes ?? []))];
  return { metrics: { ...metrics, pairs: measurements.length }, ...(Object.keys(rawSamples).length > 0 ? { rawSamples } : {}), ...(notes.length > 0 ? { notes } : {}) };
}

export interface HostCpu {
  /** Busy share of all the host's CPUs during the run, 0–100. */
  busyPercent: number;
  /** Busy CPU time summed over CPUs, seconds. */
  busyCpuSeconds: number;
}

/** CPU % per side and service demand: µs of CPU per MB moved, or per transaction for request/response. */
export function withCpu(measurement: Measurement, cpu: { server?: HostCpu; client?: HostCpu }): Measurement {
  const metrics = { ...measurement.metrics };
  const bytes = metrics.bytes;
  const transactions = metrics.transactions;
  for (const [side, value] of Object.entries(cpu) as ['server' | 'client', HostCpu | undefined][]) {
    if (!value) continue;
    metrics[`cpu${side === 'server' ? 'Server' : 'Client'}Percent`] = value.busyPercent;
    const prefix = `${side}Demand`;
    if (typeof bytes === 'number' && bytes > 0) metrics[`${prefix}UsPerMB`] = (value.busyCpuSeconds * 1e6) / (bytes / 1e6);
    if (typeof transactions === 'number' && transactions > 0) metrics[`${prefix}UsPerTransaction`] = (value.busyCpuSeconds * 1e6) / transactions;
  }
  return { ...measurement, metrics };
}
