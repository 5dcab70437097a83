// The pure parts of the sockperf executor: command lines, metrics from real sockperf 3.7 captures, and the
// awk script that thins a huge full log on the host (run here with this machine's awk on the real log).
// The executor itself runs against real hosts in tests/integration/workloads.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sockperfParamsSchema } from '../workload-params';
import { latencyMetrics, sockperfClientArgv, sockperfClientTimeoutMs, sockperfServerArgv, thinFullLogScript, throughputMetrics } from './executor';
import { parseSockperfFullLog } from './full-log-parser';
import { parseSockperfLatency } from './latency-parser';
import { parseSockperfThroughput } from './throughput-parser';

const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const fixture = (name: string): string => readFileSync(fixturePath(name), 'utf8');
const params = (input: object) => sockperfParamsSchema.parse({ tool: 'sockperf', ...input });

describe('command lines', () => {
  it('server bound to the server address, --tcp only for TCP', () => {
    expect(sockperfServerArgv({ protocol: 'udp' }, '198.19.0.2', 5201)).toEqual(['sockperf', 'server', '-i', '198.19.0.2', '-p', '5201']);
    expect(sockperfServerArgv({ protocol: 'tcp' }, '198.19.0.2', 5201)).toEqual(['sockperf', 'server', '--tcp', '-i', '198.19.0.2', '-p', '5201']);
  });

  it('ping-pong with size, full RTT and the full log; throughput without them', () => {
    expect(sockperfClientArgv(params({ duration: 3, messageSize: 1024, fullRtt: true }), '198.19.0.2', 5201, '/tmp/cnlab-sockperf.abc/full-log.csv')).toEqual(
      ['sockperf', 'ping-pong', '-i', '198.19.0.2', '-p', '5201', '-t', '3', '-m', '1024', '--full-rtt', '--full-log', '/tmp/cnlab-sockperf.abc/full-log.csv'],
    );
    expect(sockperfClientArgv(params({ test: 'throughput', protocol: 'tcp', fullRtt: true }), 'a', 1, null)).toEqual(['sockperf', 'throughput', '--tcp', '-i', 'a', '-p', '1', '-t', '10', '-m', '64']);
    expect(sockperfClientTimeoutMs({ duration: 10 })).toBe(25_000);
  });
});

describe('metrics', () => {
  it('ping-pong: the summary in µs and one transaction per reply of the valid duration', () => {
    const metrics = latencyMetrics(parseSockperfLatency(fixture('sockperf-3.7-ping-pong.txt'), { fullRtt: false }));
    // Values as printed in the capture.
    expect(metrics).toEqual({
      latencyMeanUs: 4.331,
      latencyStdDevUs: 4.338,
      latencyMinUs: 1.905,
      latencyMaxUs: 915.43,
      latencyP50Us: 3.204,
      latencyP90Us: 6.129,
      latencyP99Us: 8.031,
      latencyP999Us: 13.307,
      latencyP9999Us: 53.038,
      transactions: 177984,
      transactionsPerSecond: 177984 / 1.55,
    });
  });

  it('throughput: MiB/s of payload to bits/s, bytes sent', () => {
    const metrics = throughputMetrics(parseSockperfThroughput(fixture('sockperf-3.7-tp.txt')), 64);
    expect(metrics).toEqual({ messagesPerSecond: 528958, throughputBitsPerSecond: 7.062 * 1_048_576 * 8, bytes: 1058164 * 14 });
  });
});

describe('thinning the full log on the host', () => {
  const thin = (max: number): string => execFileSync('awk', [thinFullLogScript(max), fixturePath('sockperf-3.7-full-log.csv'), fixturePath('sockperf-3.7-full-log.csv')]).toString();
  const all = parseSockperfFullLog(fixture('sockperf-3.7-full-log.csv'), { fullRtt: false }).samplesUs;

  it('keeps every sample when there are few', () => {
    const output = thin(1000);
    expect(parseSockperfFullLog(output, { fullRtt: false }).samplesUs).toEqual(all);
    expect(output).toContain(`# cnlab kept ${all.length} of ${all.length} samples`);
  });

  it('keeps every k-th sample, first included, when there are more than the limit', () => {
    const output = thin(10);
    const kept = parseSockperfFullLog(output, { fullRtt: false }).samplesUs;
    const step = Math.ceil(all.length / 10);
    expect(kept).toEqual(all.filter((_, index) => index % step === 0));
    expect(output).toContain(`# cnlab kept ${kept.length} of ${all.length} samples`);
  });
});
