// Tests of the --forceflush text parser on real iperf3 3.12 captures (client and server, TCP, -P 2, UDP, -R,
// -O): exact unit conversion (bytes 1024-based, bits/sec 1000-based) and one event per reported second.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Iperf3TextParser, bitsPerSecondFromText, bytesFromText, parseIperf3Text } from './text-parser';
import type { Iperf3Event, Iperf3Interval } from './types';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const GIB = 1024 ** 3;
const KIB = 1024;

function intervals(events: readonly Iperf3Event[]): Iperf3Interval[] {
  return events.flatMap((e) => (e.type === 'interval' ? [e.interval] : []));
}

const parseIntervals = (name: string): Iperf3Interval[] => intervals(parseIperf3Text(fixture(name)));

describe('units', () => {
  it('reads Bytes as powers of 1024 and bits/sec as powers of 1000', () => {
    expect(bytesFromText('112', 'M')).toBe(112 * 1024 * 1024);
    expect(bytesFromText('375', 'K')).toBe(384_000);
    expect(bytesFromText('4.38', 'G')).toBe(Math.round(4.38 * GIB));
    expect(bytesFromText('0.00', '')).toBe(0);
    expect(bitsPerSecondFromText('941', 'M')).toBe(941e6);
    expect(bitsPerSecondFromText('37.6', 'G')).toBeCloseTo(37.6e9, 3);
    expect(bitsPerSecondFromText('512', 'K')).toBe(512_000);
  });

  it('parses the documented TCP client line exactly', () => {
    const parser = new Iperf3TextParser();
    parser.push('[  5] local 127.0.0.1 port 40000 connected to 127.0.0.1 port 5299');
    parser.push('[ ID] Interval           Transfer     Bitrate         Retr  Cwnd');
    const [event] = parser.push('[  5]   0.00-1.00   sec   112 MBytes   941 Mbits/sec    0    375 KBytes');
    expect(event?.type === 'interval' && event.interval).toMatchObject({
      start: 0,
      end: 1,
      seconds: 1,
      omitted: false,
      bitsPerSecond: 941e6,
      retransmits: 0,
      streams: [{ socket: 5, bytes: 112 * 1024 * 1024, bitsPerSecond: 941e6, retransmits: 0, sndCwndBytes: 375 * KIB }],
    });
  });
});

describe('Iperf3TextParser on iperf3 3.12 client captures', () => {
  it('emits each TCP second as soon as its line arrives', () => {
    const parser = new Iperf3TextParser();
    const perLine = fixture('iperf3-3.12-tcp-forceflush.txt').split('\n').map((l) => parser.push(l));
    const emittedAt = perLine.flatMap((events, line) => (events.length > 0 ? [line] : []));
    expect(emittedAt).toEqual([3, 4, 5]);
    const all = intervals(perLine.flat());
    expect(all.map((i) => i.bitsPerSecond)).toEqual([37.6e9, 42.0e9, 41.3e9]);
    expect(all[0]?.sums[0]).toMatchObject({ direction: 'client-to-server', bytes: Math.round(4.38 * GIB), retransmits: 0 });
    expect(all[0]?.streams[0]?.sndCwndBytes).toBe(1023 * KIB);
    expect(parser.summaries.map((s) => [s.role, s.bitsPerSecond, s.retransmits])).toEqual([
      ['sender', 40.3e9, 0],
      ['receiver', 40.2e9, null],
    ]);
  });

  it('groups -P 2 lines with their [SUM] line', () => {
    const all = parseIntervals('iperf3-3.12-tcp-p2-forceflush.txt');
    expect(all).toHaveLength(3);
    const [first] = all;
    expect(first?.streams.map((s) => [s.socket, s.retransmits])).toEqual([
      [5, 0],
      [7, 1],
    ]);
    expect(first?.sums).toHaveLength(1);
    expect(first).toMatchObject({ bitsPerSecond: 37.4e9, retransmits: 1 });
    expect(first?.sums[0]?.bytes).toBe(Math.round(4.36 * GIB));
  });

  it('reads UDP sender datagram counts, not retransmits', () => {
    const parser = new Iperf3TextParser();
    const all = intervals(fixture('iperf3-3.12-udp-forceflush.txt').split('\n').flatMap((l) => parser.push(l)));
    expect(all.map((i) => i.sums[0]?.packets)).toEqual([382, 381, 382]);
    expect(all.map((i) => i.bitsPerSecond)).toEqual([100e6, 99.9e6, 100e6]);
    expect(all.every((i) => i.retransmits === null)).toBe(true);
    const receiver = parser.summaries.find((s) => s.role === 'receiver');
    expect(receiver).toMatchObject({ jitterMs: 0.008, lostPackets: 0, packets: 1145, lostPercent: 0 });
  });

  it('reads jitter and loss per second in a UDP -R run, as server-to-client', () => {
    const all = parseIntervals('iperf3-3.12-udp-reverse-forceflush.txt');
    expect(all.map((i) => i.sums[0]?.jitterMs)).toEqual([0.009, 0.042, 0.046]);
    expect(all.every((i) => i.sums[0]?.direction === 'server-to-client')).toBe(true);
    expect(all[2]?.sums[0]).toMatchObject({ lostPackets: 0, packets: 381, lostPercent: 0 });
  });

  it('marks the -O warm-up second as omitted', () => {
    const all = parseIntervals('iperf3-3.12-tcp-omit1-forceflush.txt');
    expect(all.map((i) => [i.start, i.omitted])).toEqual([
      [0, true],
      [0, false],
      [1, false],
      [2, false],
    ]);
  });
});

describe('Iperf3TextParser on iperf3 3.12 server captures', () => {
  it('reads server TCP lines (no Retr or Cwnd)', () => {
    const all = parseIntervals('iperf3-3.12-server-tcp-forceflush.txt');
    expect(all.map((i) => i.bitsPerSecond)).toEqual([28.9e9, 24.7e9, 22.7e9]);
    expect(all[0]?.streams[0]).toMatchObject({ retransmits: null, sndCwndBytes: null, bytes: Math.round(3.37 * GIB) });
  });

  it('reads server UDP loss per second', () => {
    const all = parseIntervals('iperf3-3.12-server-udp-forceflush.txt');
    expect(all[0]?.sums[0]).toMatchObject({ lostPackets: 5, packets: 382, lostPercent: 1.3, jitterMs: 0.008, bitsPerSecond: 98.8e6 });
  });

  it('starts over for the next test of a long-running server', () => {
    const once = fixture('iperf3-3.12-server-tcp-forceflush.txt');
    expect(parseIperf3Text(`${once}\n${once}`).filter((e) => e.type === 'interval')).toHaveLength(6);
  });
});

describe('Iperf3TextParser edge cases', () => {
  it('splits --bidir [TX-C]/[RX-C] lines by direction', () => {
    const text = [
      '[  5] local 127.0.0.1 port 1 connected to 127.0.0.1 port 5299',
      '[  7] local 127.0.0.1 port 2 connected to 127.0.0.1 port 5299',
      '[ ID][Role] Interval           Transfer     Bitrate         Retr  Cwnd',
      '[  5][TX-C]   0.00-1.00   sec  1.00 GBytes  8.59 Gbits/sec    2   1.00 MBytes       ',
      '[  7][RX-C]   0.00-1.00   sec  2.00 GBytes  17.2 Gbits/sec                  ',
    ].join('\n');
    const [interval] = intervals(parseIperf3Text(text));
    expect(interval?.sums.map((s) => [s.direction, s.bytes])).toEqual([
      ['client-to-server', GIB],
      ['server-to-client', 2 * GIB],
    ]);
    expect(interval?.bitsPerSecond).toBeCloseTo(25.79e9, -6);
    expect(interval?.retransmits).toBe(2);
  });

  it('reports iperf3 error lines, and nan loss as null', () => {
    const events = parseIperf3Text('iperf3: error - unable to connect to server: Connection refused\n');
    expect(events).toEqual([{ type: 'error', message: 'unable to connect to server: Connection refused' }]);
    const parser = new Iperf3TextParser();
    parser.push('[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams');
    const [e] = parser.push('[  5]   3.00-4.00   sec  0.00 Bytes  0.00 bits/sec  0.000 ms  0/0 (-nan%)  ');
    expect(e?.type === 'interval' && e.interval.sums[0]).toMatchObject({ bytes: 0, packets: 0, lostPercent: null });
  });

  it('emits a second still pending when the output stops', () => {
    const parser = new Iperf3TextParser();
    parser.push('[  5] local 127.0.0.1 port 1 connected to 127.0.0.1 port 5299');
    parser.push('[  7] local 127.0.0.1 port 2 connected to 127.0.0.1 port 5299');
    expect(parser.push('[  5]   0.00-1.00   sec  1.00 GBytes  8.59 Gbits/sec    0   1.00 MBytes')).toEqual([]);
    expect(intervals(parser.flush())).toHaveLength(1);
  });
});
