// How the metrics of concurrent measurements (pairs, flows) make one: rates and counts add up
// (aggregate throughput, bytes, transactions, retransmits), everything else (latency, jitter, loss %,
// CPU %) is the mean. One rule for the runner's pairs and iperf3's batched flows.
import type { Measurement } from './workload-context';

const ADDITIVE = /(PerSecond|^bytes|^transactions|^retransmits)$/;

export function combineMetrics(measurements: readonly Measurement[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  const names = new Set(measurements.flatMap((measurement) => Object.keys(measurement.metrics)));
  for (const name of names) {
    const values = measurements.map((measurement) => measurement.metrics[name]).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    if (values.length === 0) continue;
    const sum = values.reduce((total, value) => total + value, 0);
    metrics[name] = ADDITIVE.test(name) ? sum : sum / values.length;
  }
  return metrics;
}
