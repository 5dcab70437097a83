// Tests of the ping parser on real iputils 20221126 captures (loopback, -q, a no-reply run) and two
// hand-built outputs for cases this machine cannot produce on demand (duplicates, silent loss).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePing } from './parser';
import { thrownCnlabError as thrown } from '../../../../tests/support/cnlab-error';

const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');


describe('parsePing on real captures', () => {
  it('reads counts, rtt statistics and every reply of ping -c 5', () => {
    const result = parsePing(fixture('ping-iputils-c5-loopback.txt'));
    expect(result.target).toBe('127.0.0.1');
    expect(result).toMatchObject({ transmitted: 5, received: 5, duplicates: 0, errors: 0, lossPercent: 0 });
    expect(result.elapsedMs).toBe(4083);
    expect(result.rtt).toEqual({ minMs: 0.048, avgMs: 0.055, maxMs: 0.069, mdevMs: 0.007 });
    expect(result.samplesMs).toEqual([0.048, 0.069, 0.054, 0.05, 0.055]);
    expect(result.replies[0]).toEqual({ from: '127.0.0.1', seq: 1, ttl: 64, timeMs: 0.048, duplicate: false });
  });

  it('reads a -q run: summary and rtt, no samples', () => {
    const result = parsePing(fixture('ping-iputils-c5-q-loopback.txt'));
    expect(result).toMatchObject({ transmitted: 5, received: 5, lossPercent: 0, elapsedMs: 4096 });
    expect(result.rtt).toEqual({ minMs: 0.021, avgMs: 0.044, maxMs: 0.055, mdevMs: 0.012 });
    expect(result.samplesMs).toEqual([]);
  });

  it('reads a no-reply run with ICMP errors as 100% loss, no rtt, and the error lines', () => {
    const result = parsePing(fixture('ping-iputils-no-reply.txt'));
    expect(result).toMatchObject({ transmitted: 2, received: 0, errors: 2, lossPercent: 100, rtt: null });
    expect(result.errorReplies).toEqual([
      { from: '21.4.8.23', seq: 1, message: 'Destination Port Unreachable' },
      { from: '21.4.8.23', seq: 2, message: 'Destination Port Unreachable' },
    ]);
    expect(result.samplesMs).toEqual([]);
  });
});

describe('parsePing on hand-built outputs', () => {
  it('reads a silent no-reply run', () => {
    const result = parsePing(fixture('ping-iputils-no-reply-silent-handmade.txt'));
    expect(result).toMatchObject({ transmitted: 2, received: 0, errors: 0, lossPercent: 100, rtt: null });
    expect(result.elapsedMs).toBe(1023);
  });

  it('counts duplicates and keeps them out of the samples', () => {
    const result = parsePing(fixture('ping-iputils-duplicates-handmade.txt'));
    expect(result.duplicates).toBe(1);
    expect(result.replies.filter((reply) => reply.duplicate)).toHaveLength(1);
    expect(result.samplesMs).toEqual([0.21, 0.187, 0.199]);
  });

  it('reads fractional loss and a named host', () => {
    const text = [
      'PING h2 (10.0.0.2) 56(84) bytes of data.',
      '64 bytes from h2 (10.0.0.2): icmp_seq=1 ttl=64 time=1.50 ms',
      '',
      '--- h2 ping statistics ---',
      '3 packets transmitted, 1 received, 66.6667% packet loss, time 2002ms',
      'rtt min/avg/max/mdev = 1.500/1.500/1.500/0.000 ms',
    ].join('\n');
    const result = parsePing(text);
    expect(result.lossPercent).toBe(66.6667);
    expect(result.replies[0]?.from).toBe('h2 (10.0.0.2)');
    expect(result.samplesMs).toEqual([1.5]);
  });
});

describe('parsePing on unusable output', () => {
  it('rejects garbage with command-failed', () => {
    const error = thrown(() => parsePing('garbage\n'));
    expect(error.code).toBe('command-failed');
    expect(error.message).toBe('ping printed no statistics');
    expect(error.details).toMatchObject({ tool: 'ping', problem: 'unrecognised-output' });
  });

  it("quotes ping's own complaint", () => {
    const error = thrown(() => parsePing('ping: connect: Network is unreachable\n'));
    expect(error.code).toBe('command-failed');
    expect(error.message).toBe('ping failed: connect: Network is unreachable');
  });

  it('rejects a summary without a loss figure', () => {
    const error = thrown(() => parsePing('5 packets transmitted, 5 received, time 4000ms\n'));
    expect(error.code).toBe('command-failed');
    expect(error.details).toMatchObject({ problem: 'invalid-values' });
  });
});
