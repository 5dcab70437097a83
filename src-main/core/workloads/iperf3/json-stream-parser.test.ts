// Tests of the --json-stream parser on iperf3 3.21's real output (live events and final summary) and on
// the failure shapes: an error event, a stream cut short, a line broken by a kill.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../../errors';
import { Iperf3StreamParser, parseIperf3JsonStream } from './json-stream-parser';
import type { Iperf3Event } from './types';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const STREAM = readFileSync(join(FIXTURES, 'iperf3-3.21-tcp-json-stream.jsonl'), 'utf8');

function pushAll(parser: Iperf3StreamParser, lines: readonly string[]): Iperf3Event[][] {
  return lines.map((line) => parser.push(line));
}

describe('Iperf3StreamParser on iperf3 3.21 --json-stream', () => {
  it('emits one event per line as it arrives: start, each interval, end', () => {
    const parser = new Iperf3StreamParser();
    const perLine = pushAll(parser, STREAM.split('\n'));
    expect(perLine.map((events) => events.map((e) => e.type))).toEqual([['start'], ['interval'], ['interval'], ['end'], []]);
    const first = perLine[1]?.[0];
    expect(first?.type === 'interval' && first.interval).toMatchObject({ start: 0, omitted: false, retransmits: 0 });
    expect(first?.type === 'interval' && first.interval.bitsPerSecond).toBe(26423304991.147423);
  });

  it('gives the same summary types as -J', () => {
    const r = parseIperf3JsonStream(STREAM);
    expect(r.start).toMatchObject({ version: 'iperf 3.21+', protocol: 'TCP', numStreams: 1, durationSeconds: 2, tcpMss: 32768 });
    expect(r.intervals.map((i) => i.bitsPerSecond)).toEqual([26423304991.147423, 24841177412.653923]);
    expect(r.directions).toHaveLength(1);
    expect(r.directions[0]).toMatchObject({ direction: 'client-to-server', bitsPerSecond: 25631154317.908508, retransmits: 0 });
    expect(r.directions[0]?.sent?.bytes).toBe(3303276544 + 3106668544);
    expect(r.cpu?.hostTotal).toBeCloseTo(95.9, 1);
    expect(r.senderCongestion).toBe('bbr');
  });

  it('accepts the lines as an iterable too', () => {
    expect(parseIperf3JsonStream(STREAM.split('\n'))).toEqual(parseIperf3JsonStream(STREAM));
  });
});

describe('Iperf3StreamParser failures', () => {
  it('turns an error event into an error event and a thrown CnlabError', () => {
    const parser = new Iperf3StreamParser();
    const events = parser.push('{"event":"error","data":"unable to connect to server: Connection refused"}');
    expect(events).toEqual([{ type: 'error', message: 'unable to connect to server: Connection refused' }]);
    expect(() => parser.finish()).toThrow(CnlabError);
    expect(() => parser.finish()).toThrow('iperf3: unable to connect to server: Connection refused');
  });

  it('refuses a stream that ended without its end event', () => {
    const cut = STREAM.split('\n').slice(0, 2);
    expect(() => parseIperf3JsonStream(cut)).toThrow(/ended without an end event/);
  });

  it('reports a line cut short, and skips plain text lines', () => {
    const parser = new Iperf3StreamParser();
    expect(parser.push('warning: something')).toEqual([]);
    expect(parser.push('')).toEqual([]);
    const [event] = parser.push('{"event":"interval","data":{"streams":[');
    expect(event?.type).toBe('error');
    expect(() => parser.finish()).toThrow(/unreadable --json-stream line/);
  });
});
