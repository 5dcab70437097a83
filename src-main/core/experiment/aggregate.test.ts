// Tests of combining the pairs of one run (rates and counts summed, latency-like values averaged, raw
// samples concatenated, notes deduplicated, the pair count recorded) and of adding the hosts' CPU and
// the service demand (µs of CPU per MB moved or per transaction).
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../workloads/workload-context';
import { combinePairs, withCpu } from './aggregate';

describe('combinePairs', () => {
  it('returns a single pair as it is', () => {
    const one: Measurement = { metrics: { throughputBitsPerSecond: 1e9 }, notes: ['n'] };
    expect(combinePairs([one])).toBe(one);
  });

  it('sums throughput-like metrics and counts, averages the rest, and records the pair count', () => {
    const combined = combinePairs([
      { metrics: { throughputBitsPerSecond: 1e9, messagesPerSecond: 100, bytes: 1000, transactions: 10, retransmits: 3, latencyMeanUs: 10, jitterMs: 1, lostPercent: 2 } },
      { metrics: { throughputBitsPerSecond: 3e9, messagesPerSecond: 300, bytes: 3000, transactions: 30, retransmits: 5, latencyMeanUs: 20, jitterMs: 3, lostPercent: 4 } },
    ]);
    expect(combined.metrics).toEqual({
      throughputBitsPerSecond: 4e9,
      messagesPerSecond: 400,
      bytes: 4000,
      transactions: 40,
      retransmits: 8,
      latencyMeanUs: 15,
      jitterMs: 2,
      lostPercent: 3,
      pairs: 2,
    });
  });

  it('averages only over the pairs that reported a finite value', () => {
    const combined = combinePairs([{ metrics: { latencyMeanUs: 10, retransmits: 2 } }, { metrics: { latencyMeanUs: Number.NaN } }, { metrics: { latencyMeanUs: 30 } }]);
    expect(combined.metrics).toEqual({ latencyMeanUs: 20, retransmits: 2, pairs: 3 });
  });

  it('does not take names that merely contain an additive word for counts', () => {
    const combined = combinePairs([{ metrics: { bytesPerPacket: 100, maxRetransmitsSeen: 2 } }, { metrics: { bytesPerPacket: 300, maxRetransmitsSeen: 4 } }]);
    expect(combined.metrics).toEqual({ bytesPerPacket: 200, maxRetransmitsSeen: 3, pairs: 2 });
  });

  it('concatenates raw samples and deduplicates notes', () => {
    const combined = combinePairs([
      { metrics: { latencyMeanUs: 1 }, rawSamples: { latencyUs: [1, 2] }, notes: ['omitted 1 s'] },
      { metrics: { latencyMeanUs: 3 }, rawSamples: { latencyUs: [3], other: [9] }, notes: ['omitted 1 s', 'second'] },
    ]);
    expect(combined.rawSamples).toEqual({ latencyUs: [1, 2, 3], other: [9] });
    expect(combined.notes).toEqual(['omitted 1 s', 'second']);
  });

  it('leaves out rawSamples and notes when no pair had any', () => {
    const combined = combinePairs([{ metrics: { bytes: 1 } }, { metrics: { bytes: 2 } }]);
    expect(combined).toEqual({ metrics: { bytes: 3, pairs: 2 } });
  });
});

describe('withCpu', () => {
  it('adds each side’s CPU % and the service demand per MB from bytes', () => {
    const result = withCpu({ metrics: { throughputBitsPerSecond: 8e9, bytes: 10e9 } }, { server: { busyPercent: 25, busyCpuSeconds: 2 }, client: { busyPercent: 50, busyCpuSeconds: 4 } });
    expect(result.metrics).toEqual({
      throughputBitsPerSecond: 8e9,
      bytes: 10e9,
      cpuServerPercent: 25,
      cpuClientPercent: 50,
      // 2 s of CPU for 10 000 MB: 200 µs per MB.
      serverDemandUsPerMB: 200,
      clientDemandUsPerMB: 400,
    });
  });

  it('gives µs per transaction for request/response', () => {
    const result = withCpu({ metrics: { transactionsPerSecond: 1000, transactions: 10_000 } }, { server: { busyPercent: 10, busyCpuSeconds: 0.5 } });
    expect(result.metrics.serverDemandUsPerTransaction).toBe(50);
    expect(result.metrics).not.toHaveProperty('serverDemandUsPerMB');
    expect(result.metrics).not.toHaveProperty('cpuClientPercent');
  });

  it('adds no demand without bytes or transactions, or with none moved', () => {
    const result = withCpu({ metrics: { latencyMeanUs: 12, bytes: 0 } }, { client: { busyPercent: 5, busyCpuSeconds: 1 } });
    expect(result.metrics).toEqual({ latencyMeanUs: 12, bytes: 0, cpuClientPercent: 5 });
  });

  it('keeps raw samples and notes, and does not change its input', () => {
    const input: Measurement = { metrics: { bytes: 1e6 }, rawSamples: { x: [1] }, notes: ['n'] };
    const result = withCpu(input, { server: { busyPercent: 1, busyCpuSeconds: 1 } });
    expect(result.rawSamples).toEqual({ x: [1] });
    expect(result.notes).toEqual(['n']);
    expect(input.metrics).toEqual({ bytes: 1e6 });
  });
});
