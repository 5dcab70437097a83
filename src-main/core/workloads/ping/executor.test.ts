// The pure parts of the ping executor: its command line and bound, and the metrics of real iputils captures.
// The executor itself runs against real hosts in tests/integration/workloads.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pingParamsSchema } from '../workload-params';
import { pingArgv, pingMeasurement, pingTimeoutMs } from './executor';
import { parsePing } from './parser';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('ping executor', () => {
  it('pings count times at the interval and size, numeric, without a deadline that would resend on loss', () => {
    const params = pingParamsSchema.parse({ tool: 'ping', count: 50, interval: 0.05, size: 1400 });
    expect(pingArgv(params, '198.19.0.3')).toEqual(['ping', '-n', '-c', '50', '-i', '0.05', '-s', '1400', '-W', '2', '198.19.0.3']);
    expect(pingTimeoutMs(params)).toBe(Math.ceil((50 * 0.05 + 2) * 1000) + 10_000);
  });

  it('gives the summary in ms and the per-reply RTTs as raw samples', () => {
    const measurement = pingMeasurement(parsePing(fixture('ping-iputils-c5-loopback.txt')), '127.0.0.1');
    expect(measurement.metrics).toEqual({ lossPercent: 0, transmitted: 5, received: 5, rttMinMs: 0.048, rttAvgMs: 0.055, rttMaxMs: 0.069, rttMdevMs: 0.007 });
    expect(measurement.rawSamples?.rttMs).toEqual([0.048, 0.069, 0.054, 0.05, 0.055]);
    expect(measurement.notes).toBeUndefined();
  });

  it('reports 100% loss as a result with a note, without round-trip times', () => {
    const measurement = pingMeasurement(parsePing(fixture('ping-iputils-no-reply.txt')), '198.18.0.77');
    expect(measurement.metrics).toEqual({ lossPercent: 100, transmitted: 2, received: 0 });
    expect(measurement.notes).toEqual(['no reply from 198.18.0.77: 100% loss, no round-trip times']);
  });
});
