// Metrics of batched flows: Jain's fairness index, sums versus means across flows, per-flow raw samples,
// and the live per-second sum that waits for every flow.
import { describe, expect, it } from 'vitest';
import { flowsMeasurement, jainFairness, LiveFlowSum } from './batch-metrics';

describe('jainFairness', () => {
  it('is 1 for equal flows and 1/n when one flow has everything', () => {
    expect(jainFairness([5, 5, 5, 5])).toBe(1);
    expect(jainFairness([8, 0, 0, 0])).toBe(0.25);
    expect(jainFairness([1, 3])).toBeCloseTo(16 / 20, 12);
  });

  it('has no value without flows or without traffic', () => {
    expect(jainFairness([])).toBeNull();
    expect(jainFairness([0, 0])).toBeNull();
  });
});

describe('flowsMeasurement', () => {
  it('sums rates, bytes and retransmits, averages the rest, and keeps each flow’s rate', () => {
    const measurement = flowsMeasurement([
      { metrics: { throughputBitsPerSecond: 1e9, senderBitsPerSecond: 1.1e9, bytes: 100, retransmits: 2, iperf3CpuClientPercent: 10 }, rawSamples: { intervalBitsPerSecond: [1, 2] }, notes: ['omitted'] },
      { metrics: { throughputBitsPerSecond: 3e9, senderBitsPerSecond: 3.1e9, bytes: 300, retransmits: 0, iperf3CpuClientPercent: 30 }, rawSamples: { intervalBitsPerSecond: [3] }, notes: ['omitted'] },
    ]);
    expect(measurement.metrics).toEqual({
      throughputBitsPerSecond: 4e9,
      senderBitsPerSecond: 4.2e9,
      bytes: 400,
      retransmits: 2,
      iperf3CpuClientPercent: 20,
      flows: 2,
      fairnessIndex: 0.8,
      minFlowBitsPerSecond: 1e9,
      maxFlowBitsPerSecond: 3e9,
    });
    expect(measurement.rawSamples).toEqual({ flowBitsPerSecond: [1e9, 3e9], intervalBitsPerSecond: [1, 2, 3] });
    expect(measurement.notes).toEqual(['omitted']);
  });

  it('averages UDP jitter and loss instead of adding them', () => {
    const metrics = flowsMeasurement([{ metrics: { throughputBitsPerSecond: 1, jitterMs: 0.2, lostPercent: 1 } }, { metrics: { throughputBitsPerSecond: 1, jitterMs: 0.4, lostPercent: 3 } }]).metrics;
    expect(metrics.jitterMs).toBeCloseTo(0.3, 12);
    expect(metrics.lostPercent).toBe(2);
    expect(metrics.fairnessIndex).toBe(1);
  });
});

describe('LiveFlowSum', () => {
  it('emits a second once every flow reported it, summed, and counts a flow once per second', () => {
    const emitted: [number, number][] = [];
    const live = new LiveFlowSum(3, (t, value) => emitted.push([t, value]));
    live.add('f1', 1.0, 10);
    live.add('f2', 1.0, 20);
    live.add('f2', 1.0, 20);
    live.add('f1', 2.0, 11);
    expect(emitted).toEqual([]);
    live.add('f3', 1.001, 30);
    expect(emitted).toEqual([[1, 60]]);
  });
});
