// Tests of the -J parser on real captures (iperf3 3.12 on this machine, 3.21 --bidir copied from ../shared) and on
// the quirks old versions show: text after the JSON, nan tokens, the `error` key with exit status 0.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractFirstJsonObject, replaceNonFiniteTokens } from './json-text';
import { parseIperf3Json } from './json-parser';
import { resultSchema, type Iperf3Result } from './types';
import { thrownCnlabError as thrown } from '../../../../tests/support/cnlab-error';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const parse = (name: string): Iperf3Result => parseIperf3Json(fixture(name));
const total = (values: readonly (number | null)[]): number => values.reduce<number>((a, b) => a + (b ?? 0), 0);


describe('parseIperf3Json on iperf3 3.12 captures', () => {
  it('reads a TCP run: start info, per-second intervals, end summary, cpu', () => {
    const r = parse('iperf3-3.12-tcp.json');
    expect(resultSchema.safeParse(r).success).toBe(true);
    expect(r.start).toMatchObject({ version: 'iperf 3.12', protocol: 'TCP', numStreams: 1, durationSeconds: 3, omitSeconds: 0 });
    expect(r.start).toMatchObject({ reverse: false, bidir: false, tcpMss: 32768, blksize: 131072 });
    expect(r.start.systemInfo).toMatch(/^Linux /);
    expect(r.start.connected).toHaveLength(1);
    expect(r.start.connected[0]).toMatchObject({ remoteHost: '127.0.0.1', remotePort: 5299 });
    expect(r.intervals).toHaveLength(3);
    expect(r.omittedIntervals).toBe(0);
    for (const i of r.intervals) {
      expect(i.bitsPerSecond).toBeGreaterThan(1e8);
      expect(i.end - i.start).toBeCloseTo(1, 1);
      expect(i.retransmits).toBeGreaterThanOrEqual(0);
      expect(i.sums).toEqual([expect.objectContaining({ direction: 'client-to-server' })]);
      expect(i.streams[0]?.sndCwndBytes).toBeGreaterThan(0);
    }
    const [up] = r.directions;
    expect(r.directions).toHaveLength(1);
    expect(up?.direction).toBe('client-to-server');
    expect(up?.bitsPerSecond).toBe(up?.received?.bitsPerSecond);
    expect(up?.bitsPerSecond).toBeGreaterThan(1e8);
    // The sender's total is the sum of what it reported each second.
    expect(up?.sent?.bytes).toBe(total(r.intervals.map((i) => i.sums[0]?.bytes ?? null)));
    expect(r.cpu?.hostTotal).toBeGreaterThan(0);
    expect(r.senderCongestion).toMatch(/^[a-z]+$/);
  });

  it('reports a -R run as server-to-client, intervals and summary alike', () => {
    const r = parse('iperf3-3.12-tcp-reverse.json');
    expect(r.start.reverse).toBe(true);
    expect(r.directions.map((d) => d.direction)).toEqual(['server-to-client']);
    expect(r.intervals.every((i) => i.sums.every((s) => s.direction === 'server-to-client'))).toBe(true);
    expect(r.intervals.every((i) => i.streams.every((s) => s.direction === 'server-to-client'))).toBe(true);
    expect(r.directions[0]?.bitsPerSecond).toBeGreaterThan(1e8);
  });

  it('gives -P 2 per-stream values whose totals are the sums', () => {
    const r = parse('iperf3-3.12-tcp-p2.json');
    expect(r.start.numStreams).toBe(2);
    for (const i of r.intervals) {
      expect(i.streams).toHaveLength(2);
      expect(i.sums[0]?.bytes).toBe(total(i.streams.map((s) => s.bytes)));
      // Each stream divides by its own elapsed time, so the rates add up only to within microseconds.
      const streamRate = total(i.streams.map((s) => s.bitsPerSecond));
      expect(Math.abs((i.bitsPerSecond ?? 0) - streamRate) / streamRate).toBeLessThan(1e-4);
      expect(i.retransmits).toBe(total(i.streams.map((s) => s.retransmits)));
    }
    expect(r.streams).toHaveLength(2);
    expect(r.directions[0]?.sent?.bytes).toBe(total(r.streams.map((s) => s.sent?.bytes ?? null)));
    expect(r.directions[0]?.received?.bytes).toBe(total(r.streams.map((s) => s.received?.bytes ?? null)));
    expect(r.streams.every((s) => (s.meanRttUs ?? 0) > 0)).toBe(true);
  });

  it('reads UDP loss and jitter from the receiver side', () => {
    const r = parse('iperf3-3.12-udp-100m.json');
    expect(r.start).toMatchObject({ protocol: 'UDP', targetBitrate: 100_000_000 });
    const [d] = r.directions;
    expect(d?.bitsPerSecond).toBe(d?.received?.bitsPerSecond);
    expect(d?.bitsPerSecond).toBeGreaterThan(0.9e8);
    expect(d?.bitsPerSecond).toBeLessThan(1.1e8);
    expect(d?.jitterMs).toBeGreaterThan(0);
    expect(d?.jitterMs).toBeLessThan(10);
    expect(d).toMatchObject({ packets: 1145, lostPackets: 0, lostPercent: 0, retransmits: null });
    expect(total(r.intervals.map((i) => i.sums[0]?.packets ?? null))).toBe(1145);
    expect(r.streams[0]?.received?.jitterMs).toBe(d?.jitterMs);
  });

  it('leaves the -O warm-up intervals out of the samples but counts them', () => {
    const r = parse('iperf3-3.12-tcp-omit1.json');
    expect(r.start.omitSeconds).toBe(1);
    expect(r.omittedIntervals).toBe(1);
    expect(r.intervals).toHaveLength(3);
    expect(r.intervals.some((i) => i.omitted)).toBe(false);
  });

  it('throws iperf3 error (3.12 exits 0 when it cannot connect)', () => {
    const error = thrown(() => parse('iperf3-3.12-closed-port.json'));
    expect(error.code).toBe('command-failed');
    expect(error.message).toBe('iperf3: unable to connect to server: Connection refused');
    expect(error.details).toMatchObject({ iperf3Error: 'unable to connect to server: Connection refused' });
  });
});

describe('parseIperf3Json quirks', () => {
  it('ignores text printed after the JSON object, braces included', () => {
    const text = `${fixture('iperf3-3.12-tcp.json')}\niperf3: interrupt - the server has terminated {oops}\n`;
    expect(parseIperf3Json(text)).toEqual(parse('iperf3-3.12-tcp.json'));
  });

  it('maps nan, -nan and inf to null', () => {
    const text = fixture('iperf3-3.12-udp-100m.json')
      .replace(/"jitter_ms":\s*0\.00803187018201278/g, '"jitter_ms": -nan')
      .replace(/"lost_percent":\s*0/g, '"lost_percent": nan')
      .replace(/"host_total":\s*[\d.]+/, '"host_total": inf');
    const r = parseIperf3Json(text);
    expect(r.directions[0]).toMatchObject({ jitterMs: null, lostPercent: null, packets: 1145 });
    expect(r.cpu?.hostTotal).toBeNull();
  });

  it('keeps strings that look like nan or hold braces intact', () => {
    expect(replaceNonFiniteTokens('{"a":"nan {x}","b":nan,"c":-inf,"d":null}')).toBe('{"a":"nan {x}","b":null,"c":null,"d":null}');
    expect(extractFirstJsonObject('noise {"a":"}\\"{","b":{}} {"c":1}')).toBe('{"a":"}\\"{","b":{}}');
    expect(extractFirstJsonObject('{"a": {')).toBeNull();
  });

  it('refuses output with no JSON object, naming it', () => {
    const error = thrown(() => parseIperf3Json('iperf3: error - unable to connect to server\n'));
    expect(error.code).toBe('command-failed');
    expect(error.message).toContain('no readable JSON');
    expect(thrown(() => parseIperf3Json('{"start": {"connected": 3}}')).code).toBe('command-failed');
  });
});

describe('parseIperf3Json on iperf3 3.21 --bidir', () => {
  const r = parse('iperf3-3.21-tcp-bidir.json');

  it('reports each direction from its own sums', () => {
    expect(r.start).toMatchObject({ version: 'iperf 3.21+', bidir: true, reverse: false, numStreams: 2 });
    expect(r.directions.map((d) => d.direction)).toEqual(['client-to-server', 'server-to-client']);
    const [up, down] = r.directions;
    expect(up?.bitsPerSecond).toBe(13345240844.917324);
    expect(down?.bitsPerSecond).toBe(25887383040.02298);
    expect(down?.sent?.bytes).toBe(3249537024);
    expect(down?.retransmits).toBe(0);
  });

  it('splits intervals and streams by direction', () => {
    const [i] = r.intervals;
    expect(i?.sums.map((s) => [s.direction, s.bytes])).toEqual([
      ['client-to-server', 1672740864],
      ['server-to-client', 3244818432],
    ]);
    expect(i?.bitsPerSecond).toBeCloseTo(13346731198.855473 + 25890274060.403236, 0);
    const up = i?.streams.filter((s) => s.direction === 'client-to-server') ?? [];
    expect(total(up.map((s) => s.bytes))).toBe(1672740864);
    expect(r.streams.map((s) => s.direction)).toEqual(['client-to-server', 'client-to-server', 'server-to-client', 'server-to-client']);
    expect(r.cpu?.remoteTotal).toBeGreaterThan(100);
  });
});
