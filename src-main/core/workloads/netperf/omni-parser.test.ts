// Tests of the netperf omni `-k` parser on hand-built fixtures (netperf is not installable here) and of
// the missing-netperf error; unit scaling is checked for both the decimal-bit and binary-byte families.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeNetperfMissing, netperfMissingError } from './missing';
import { parseNetperfOmni } from './omni-parser';
import { thrownCnlabError as thrown } from '../../../../tests/support/cnlab-error';

const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');


describe('parseNetperfOmni', () => {
  it('reads TCP_STREAM throughput as bits/s, CPU and service demand', () => {
    const result = parseNetperfOmni(fixture('netperf-2.7-tcp-stream-k-handmade.txt'), 'TCP_STREAM');
    expect(result.throughput).toEqual({
      value: 9387.12,
      units: '10^6bits/s',
      bitsPerSecond: 9387.12e6,
      transactionsPerSecond: null,
    });
    expect(result.cpuPercent).toEqual({ local: 14.52, remote: 21.07 });
    expect(result.serviceDemand).toEqual({ local: 0.507, remote: 0.736, units: 'usec/KB' });
    expect(result.latencyUs).toEqual({ mean: null, p50: null, p90: null, p99: null });
  });

  it('reads TCP_RR transactions/s and latencies in µs', () => {
    const result = parseNetperfOmni(fixture('netperf-2.7-tcp-rr-k-handmade.txt'), 'TCP_RR');
    expect(result.throughput).toMatchObject({ transactionsPerSecond: 31250.44, bitsPerSecond: null, units: 'Trans/s' });
    expect(result.latencyUs).toEqual({ mean: 31.87, p50: 30, p90: 35, p99: 48 });
    expect(result.serviceDemand.units).toBe('usec/Tran');
    expect(result.fields.MEAN_LATENCY).toBe('31.87');
  });

  it('turns the -1 of unmeasured CPU and service demand into null (UDP_RR without -c/-C)', () => {
    const result = parseNetperfOmni(fixture('netperf-2.7-udp-rr-k-handmade.txt'), 'UDP_RR');
    expect(result.throughput.transactionsPerSecond).toBe(35102.77);
    expect(result.latencyUs.p99).toBe(44);
    expect(result.cpuPercent).toEqual({ local: null, remote: null });
    expect(result.serviceDemand).toEqual({ local: null, remote: null, units: 'usec/Tran' });
  });

  it('scales binary byte units and decimal bit units differently', () => {
    const bytes = parseNetperfOmni('THROUGHPUT=2\nTHROUGHPUT_UNITS=MBytes/s\n', 'TCP_STREAM');
    expect(bytes.throughput.bitsPerSecond).toBe(2 * 1048576 * 8);
    const kilobits = parseNetperfOmni('THROUGHPUT=2\nTHROUGHPUT_UNITS=10^3bits/s\n', 'TCP_STREAM');
    expect(kilobits.throughput.bitsPerSecond).toBe(2000);
  });
});

describe('parseNetperfOmni on unusable output', () => {
  it('rejects garbage with command-failed', () => {
    const error = thrown(() => parseNetperfOmni('garbage', 'TCP_RR'));
    expect(error.code).toBe('command-failed');
    expect(error.details).toMatchObject({ tool: 'netperf', problem: 'unrecognised-output' });
  });

  it("quotes netperf's complaint when netserver is not reachable", () => {
    const text = 'establish control: are you sure there is a netserver listening on 10.0.0.2 at port 12865?\n';
    const error = thrown(() => parseNetperfOmni(text, 'TCP_RR'));
    expect(error.message).toContain('are you sure there is a netserver listening');
    expect(error.details).toMatchObject({ problem: 'tool-error' });
  });

  it('rejects unknown units and units that do not fit the test', () => {
    expect(thrown(() => parseNetperfOmni('THROUGHPUT=1\nTHROUGHPUT_UNITS=furlongs/s\n', 'TCP_RR')).code).toBe(
      'command-failed',
    );
    expect(thrown(() => parseNetperfOmni('THROUGHPUT=1\nTHROUGHPUT_UNITS=Trans/s\n', 'TCP_STREAM')).code).toBe(
      'invalid-input',
    );
  });
});

describe('netperfMissingError', () => {
  it('names the host, the Debian package and the alternatives', () => {
    const error = netperfMissingError('h2');
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/^netperf is not installed on host h2: install it \(Debian: .*non-free.*netperf\)/);
    expect(error.message).toMatch(/or choose iperf3\/sockperf$/);
    expect(error.details).toMatchObject({ host: 'h2', debianPackage: 'netperf' });
  });

  it('recognises a missing binary from the exit code or the shell message', () => {
    expect(looksLikeNetperfMissing(127, '')).toBe(true);
    expect(looksLikeNetperfMissing(1, 'bash: line 1: netperf: command not found')).toBe(true);
    expect(looksLikeNetperfMissing(1, 'establish control: are you sure')).toBe(false);
  });
});
