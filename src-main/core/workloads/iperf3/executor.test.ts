// The pure parts of the iperf3 executor: command lines, bounds, the --json-stream switch and the metrics taken
// from real iperf3 3.12 results (expected values read from the raw JSON's end section, not from the parser).
// The executor itself runs against real hosts in tests/integration/workloads.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iperf3ParamsSchema } from '../workload-params';
import { iperf3ClientArgv, iperf3ClientTimeoutMs, iperf3Measurement, iperf3ServerArgv, supportsJsonStream } from './executor';
import { parseIperf3Json } from './json-parser';
import { parseIperf3JsonStream } from './json-stream-parser';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const end = (name: string): Record<string, Record<string, number>> => (JSON.parse(fixture(name)) as { end: Record<string, Record<string, number>> }).end;
const params = (input: object) => iperf3ParamsSchema.parse({ tool: 'iperf3', ...input });

describe('command lines', () => {
  it('start a one-off server that flushes its text', () => {
    expect(iperf3ServerArgv(5201)).toEqual(['iperf3', '-s', '-1', '-p', '5201', '--forceflush']);
  });

  it('build the TCP client with omit, block size, streams and reverse', () => {
    expect(iperf3ClientArgv(params({ duration: 5, omit: 2, blockSize: '128K', parallel: 4, reverse: true }), '198.19.0.2', 5201, false)).toEqual(
      ['iperf3', '-c', '198.19.0.2', '-p', '5201', '-t', '5', '--connect-timeout', '5000', '-O', '2', '-l', '131072', '-P', '4', '-R', '-J'],
    );
  });

  it('ask UDP for 1 Gbit/s unless told (iperf3 alone sends only 1 Mbit/s), and stream JSON when the client can', () => {
    expect(iperf3ClientArgv(params({ protocol: 'udp' }), 'a', 1, true)).toEqual(['iperf3', '-c', 'a', '-p', '1', '-t', '10', '--connect-timeout', '5000', '-u', '-b', '1G', '-J', '--json-stream']);
    expect(iperf3ClientArgv(params({ protocol: 'udp', bitrate: 0 }), 'a', 1, false)).toContain('0');
  });

  it('bound the client by the run plus a margin', () => {
    expect(iperf3ClientTimeoutMs({ duration: 10, omit: 2 })).toBe(27_000);
  });

  it('use --json-stream only from iperf3 3.17 on', () => {
    expect([null, 'unknown', '3.12', '3.16', '3.17', '3.21', '4.0'].map(supportsJsonStream)).toEqual([false, false, false, false, true, true, true]);
  });
});

describe('metrics', () => {
  it('TCP: receiver rate, sender rate, bytes received, retransmits and iperf3 CPU', () => {
    const raw = end('iperf3-3.12-tcp.json');
    const measurement = iperf3Measurement(parseIperf3Json(fixture('iperf3-3.12-tcp.json')), params({ duration: 3 }));
    expect(measurement.metrics).toEqual({
      throughputBitsPerSecond: raw.sum_received?.bits_per_second,
      senderBitsPerSecond: raw.sum_sent?.bits_per_second,
      bytes: raw.sum_received?.bytes,
      retransmits: 0,
      iperf3CpuClientPercent: raw.cpu_utilization_percent?.host_total,
      iperf3CpuServerPercent: raw.cpu_utilization_percent?.remote_total,
    });
    expect(measurement.rawSamples?.intervalBitsPerSecond).toHaveLength(3);
    expect(measurement.notes).toBeUndefined();
  });

  it('reverse: the client receives, the server sends and retransmits', () => {
    const raw = end('iperf3-3.12-tcp-reverse.json');
    const metrics = iperf3Measurement(parseIperf3Json(fixture('iperf3-3.12-tcp-reverse.json')), params({ duration: 3, reverse: true })).metrics;
    expect(metrics.throughputBitsPerSecond).toBe(raw.sum_received?.bits_per_second);
    expect(metrics.bytes).toBe(raw.sum_received?.bytes);
    expect(metrics.retransmits).toBe(4);
  });

  it('UDP: jitter and loss at the receiver, no retransmits', () => {
    const raw = end('iperf3-3.12-udp-100m.json');
    const metrics = iperf3Measurement(parseIperf3Json(fixture('iperf3-3.12-udp-100m.json')), params({ protocol: 'udp', duration: 3, bitrate: '100M' })).metrics;
    expect(metrics.throughputBitsPerSecond).toBe(raw.sum_received?.bits_per_second);
    expect(metrics.jitterMs).toBe(raw.sum_received?.jitter_ms);
    expect(metrics.lostPercent).toBe(0);
    expect(metrics.retransmits).toBeUndefined();
  });

  it('omit: warm-up intervals are neither raw samples nor hidden', () => {
    const measurement = iperf3Measurement(parseIperf3Json(fixture('iperf3-3.12-tcp-omit1.json')), params({ duration: 3, omit: 1 }));
    expect(measurement.rawSamples?.intervalBitsPerSecond).toHaveLength(3);
    expect(measurement.notes).toEqual(['iperf3 omitted 1 s of warm-up (1 interval)']);
  });

  it('--json-stream (3.21) gives the same shape', () => {
    const metrics = iperf3Measurement(parseIperf3JsonStream(fixture('iperf3-3.21-tcp-json-stream.jsonl')), params({})).metrics;
    expect(metrics.throughputBitsPerSecond).toBeGreaterThan(0);
    expect(metrics.bytes).toBeGreaterThan(0);
  });
});
