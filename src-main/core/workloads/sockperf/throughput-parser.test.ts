// Tests of the sockperf tp parser on a real sockperf 3.7 loopback capture: the MiB/s → bits/s conversion
// is the point, since sockperf's own "Mbps" is mebibits and would under-report by 4.6%.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../../errors';
import { mibPerSecondToBits, parseSockperfThroughput } from './throughput-parser';

const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

describe('parseSockperfThroughput', () => {
  const result = parseSockperfThroughput(fixture('sockperf-3.7-tp.txt'));

  it('reads message counts, rate and message size', () => {
    expect(result.messagesSent).toBe(1058164);
    expect(result.durationSec).toBe(2);
    expect(result.messagesPerSecond).toBe(528958);
    expect(result.messageSizeBytes).toBe(14);
    expect(result.payloadMiBps).toBe(7.062);
    expect(result.printedMbps).toBe(56.499);
  });

  it('converts MiB/s of payload to bits/s with 1 MiB = 1048576 B', () => {
    expect(result.payloadBitsPerSecond).toBeCloseTo(7.062 * 1048576 * 8, 6);
    expect(mibPerSecondToBits(1)).toBe(8_388_608);
  });

  it('agrees with rate × size within the rounding of the printed MiB/s, unlike sockperf\'s "Mbps"', () => {
    const fromRate = result.messagesPerSecond * 14 * 8;
    expect(Math.abs(result.payloadBitsPerSecond - fromRate) / fromRate).toBeLessThan(1e-3);
    expect(Math.abs((result.printedMbps ?? 0) * 1e6 - fromRate) / fromRate).toBeGreaterThan(0.04);
  });

  it('rejects a latency summary with command-failed', () => {
    const run = (): unknown => parseSockperfThroughput(fixture('sockperf-3.7-ping-pong.txt'));
    expect(run).toThrow(CnlabError);
    expect(run).toThrow(/throughput summary/);
  });
});
