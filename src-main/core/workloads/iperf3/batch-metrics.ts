// Metrics of many concurrent iperf3 flows: rates and counts add up (aggregate throughput), the rest is
// averaged, and how evenly the flows shared the network (Jain's fairness index, slowest and fastest flow),
// since an aggregate alone hides one flow starving the others. Pure: no I/O.
import { combineMetrics } from '../combine-metrics';
import type { Measurement } from '../workload-context';

/** Jain's index (Σx)² / (n·Σx²): 1 when every flow got the same, 1/n when one flow got everything. */
export function jainFairness(values: readonly number[]): number | null {
  const squares = values.reduce((sum, value) => sum + value * value, 0);
  if (values.length === 0 || squares === 0) return null;
  const total = values.reduce((sum, value) => sum + value, 0);
  return (total * total) / (values.length * squares);
}

/** The run's measurement from each flow's own (iperf3Measurement of its client's result). */
export function flowsMeasurement(measurements: readonly Measurement[]): Measurement {
  const perFlow = measurements.map((measurement) => measurement.metrics.throughputBitsPerSecond).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  const metrics: Record<string, number> = { ...combineMetrics(measurements), flows: measurements.length };
  const fairness = jainFairness(perFlow);
  if (fairness !== null) metrics.fairnessIndex = fairness;
  if (perFlow.length > 0) {
    metrics.minFlowBitsPerSecond = Math.min(...perFlow);
    metrics.maxFlowBitsPerSecond = Math.max(...perFlow);
  }
  const intervals = measurements.flatMap((measurement) => measurement.rawSamples?.intervalBitsPerSecond ?? []);
  const notes = [...new Set(measurements.flatMap((measurement) => measurement.notes ?? []))];
  return {
    metrics,
    rawSamples: { flowBitsPerSecond: perFlow, ...(intervals.length > 0 ? { intervalBitsPerSecond: intervals } : {}) },
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/**
 * Per-second aggregate of the flows' live intervals: a second is emitted once every flow reported it, so
 * the live value is the sum over all flows, never a partial one.
 */
export class LiveFlowSum {
  private readonly seconds = new Map<number, { flows: Set<string>; bitsPerSecond: number }>();

  constructor(
    private readonly flowCount: number,
    private readonly emit: (t: number, bitsPerSecond: number) => void,
  ) {}

  add(flowId: string, end: number, bitsPerSecond: number): void {
    // iperf3 prints interval ends rounded to 0.01 s; flows started a few ms apart share their seconds.
    const t = Math.round(end * 100) / 100;
    const entry = this.seconds.get(t) ?? { flows: new Set<string>(), bitsPerSecond: 0 };
    if (entry.flows.has(flowId)) return;
    entry.flows.add(flowId);
    entry.bitsPerSecond += bitsPerSecond;
    this.seconds.set(t, entry);
    if (entry.flows.size < this.flowCount) return;
    this.seconds.delete(t);
    this.emit(t, entry.bitsPerSecond);
  }
}
