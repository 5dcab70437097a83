// Incremental parser of iperf3's human-readable output with --forceflush (client or server side), the only
// live source on iperf3 < 3.17: per-second report lines become interval events typed as in the JSON parsers.

import { sumKnown } from './convert';
import type { Iperf3Direction, Iperf3Event, Iperf3Interval, Iperf3IntervalSum, Iperf3StreamSample } from './types';

// Bytes are binary (KBytes = 1024) and rates decimal (Mbits/sec = 1e6), as iperf3's unit_snprintf prints them.
const BYTE_FACTOR: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const BIT_FACTOR: Readonly<Record<string, number>> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const REPORT_LINE = new RegExp(
  String.raw`^\[\s*(\d+|SUM)\](?:\[(TX|RX)-([CS])\])?\s+${NUMBER}-\s*${NUMBER}\s+sec\s+${NUMBER}\s+([KMGT]?)Bytes\s+${NUMBER}\s+([KMGT]?)bits/sec(.*)$`,
);
const UDP_RECEIVER = new RegExp(String.raw`${NUMBER}\s+ms\s+(\d+)/(\d+)\s+\(([^)%]*)%\)`);
const RETR_CWND = new RegExp(String.raw`^\s*(\d+)\s+${NUMBER}\s+([KMGT]?)Bytes`);
const LEADING_COUNT = /^\s*(\d+)(?:\s|$)/;
const CONNECTED = /^\[\s*\d+\](?:\[[A-Z-]+\])?\s+local\s+\S+\s+port\s+\d+\s+connected to/;
const ERROR_LINE = /^iperf3: (?:error|interrupt) - (.*)$/;

export function bytesFromText(value: string, prefix: string): number {
  return Math.round(Number(value) * (BYTE_FACTOR[prefix] ?? Number.NaN));
}

export function bitsPerSecondFromText(value: string, prefix: string): number {
  return Number(value) * (BIT_FACTOR[prefix] ?? Number.NaN);
}

/** One report line of the final summary (the ones ending in `sender` or `receiver`). */
export interface Iperf3TextSummaryLine extends Iperf3IntervalSum {
  stream: number | 'SUM';
  role: 'sender' | 'receiver';
  start: number;
  end: number;
}

interface ReportLine {
  stream: number | 'SUM';
  direction: Iperf3Direction;
  start: number;
  end: number;
  omitted: boolean;
  role: 'sender' | 'receiver' | null;
  sample: Iperf3StreamSample;
}

export interface Iperf3TextParserOptions {
  /** The run used -R (the server sends); the client output also says so, the server's does not. */
  reverse?: boolean;
}

type ColumnKind = 'tcp' | 'udp';

// Counts after the rate: UDP receiver jitter and loss, TCP Retr (and Cwnd on per-stream client lines),
// or the UDP sender's datagram count, told apart from Retr only by the header above them.
function parseTail(tail: string, columns: ColumnKind): Partial<Iperf3StreamSample> {
  const udp = UDP_RECEIVER.exec(tail);
  if (udp) {
    const percent = Number(udp[4]);
    return {
      jitterMs: Number(udp[1]),
      lostPackets: Number(udp[2]),
      packets: Number(udp[3]),
      lostPercent: Number.isFinite(percent) ? percent : null,
    };
  }
  const tcp = RETR_CWND.exec(tail);
  if (tcp) return { retransmits: Number(tcp[1]), sndCwndBytes: bytesFromText(tcp[2] ?? '', tcp[3] ?? '') };
  const count = LEADING_COUNT.exec(tail);
  if (!count) return {};
  return columns === 'udp' ? { packets: Number(count[1]) } : { retransmits: Number(count[1]) };
}

function roleDirection(tx: string, side: string): Iperf3Direction {
  const clientSends = (tx === 'TX') === (side === 'C');
  return clientSends ? 'client-to-server' : 'server-to-client';
}

function emptySample(direction: Iperf3Direction): Iperf3StreamSample {
  return {
    direction,
    socket: null,
    bytes: null,
    bitsPerSecond: null,
    retransmits: null,
    packets: null,
    jitterMs: null,
    lostPackets: null,
    lostPercent: null,
    sndCwndBytes: null,
    rttUs: null,
  };
}

function parseReportLine(line: string, columns: ColumnKind, fallback: Iperf3Direction): ReportLine | null {
  const m = REPORT_LINE.exec(line);
  if (!m) return null;
  const [, id = '', tx, side, start = '', end = '', bytes = '', bytePrefix = '', rate = '', ratePrefix = '', tail = ''] = m;
  const direction = tx && side ? roleDirection(tx, side) : fallback;
  const stream = id === 'SUM' ? 'SUM' : Number(id);
  const role = /\b(sender|receiver)\s*$/.exec(tail)?.[1] as 'sender' | 'receiver' | undefined;
  const sample: Iperf3StreamSample = {
    ...emptySample(direction),
    socket: stream === 'SUM' ? null : stream,
    bytes: bytesFromText(bytes, bytePrefix),
    bitsPerSecond: bitsPerSecondFromText(rate, ratePrefix),
    ...parseTail(tail, columns),
  };
  return { stream, direction, start: Number(start), end: Number(end), omitted: /\(omitted\)\s*$/.test(tail), role: role ?? null, sample };
}

function toSum(sample: Iperf3StreamSample): Iperf3IntervalSum {
  const { socket: _socket, sndCwndBytes: _cwnd, rttUs: _rtt, ...sum } = sample;
  return sum;
}

// A single stream per direction has no [SUM] line: its own line is the direction's sum.
function intervalSums(lines: readonly ReportLine[]): Iperf3IntervalSum[] {
  const sums = lines.filter((l) => l.stream === 'SUM');
  const source = sums.length > 0 ? sums : lines;
  return source.map((l) => toSum(l.sample));
}

function buildInterval(lines: readonly ReportLine[]): Iperf3Interval {
  const first = lines[0] as ReportLine;
  const sums = intervalSums(lines);
  return {
    start: first.start,
    end: first.end,
    seconds: first.end - first.start,
    omitted: first.omitted,
    bitsPerSecond: sumKnown(sums.map((s) => s.bitsPerSecond)),
    retransmits: sumKnown(sums.map((s) => s.retransmits)),
    sums,
    streams: lines.filter((l) => l.stream !== 'SUM').map((l) => l.sample),
  };
}

const intervalKey = (l: ReportLine): string => `${l.start}-${l.end}-${String(l.omitted)}`;

export class Iperf3TextParser {
  private columns: ColumnKind = 'tcp';
  private reverse: boolean;
  private bidir = false;
  private streamCount = 0;
  private pending: ReportLine[] = [];
  private readonly summaryLines: Iperf3TextSummaryLine[] = [];

  constructor(options: Iperf3TextParserOptions = {}) {
    this.reverse = options.reverse ?? false;
  }

  /** The final `sender`/`receiver` lines seen so far. */
  get summaries(): readonly Iperf3TextSummaryLine[] {
    return this.summaryLines;
  }

  /** Feeds one line; returns the intervals (and errors) it completes. */
  push(rawLine: string): Iperf3Event[] {
    const line = rawLine.replace(/\r$/, '').trimEnd();
    const report = parseReportLine(line, this.columns, this.reverse ? 'server-to-client' : 'client-to-server');
    if (report) return this.onReport(report);
    return this.onOtherLine(line);
  }

  /** Emits what is still pending, for when the process ended (or was killed) mid-interval. */
  flush(): Iperf3Event[] {
    if (this.pending.length === 0) return [];
    const interval = buildInterval(this.pending);
    this.pending = [];
    return [{ type: 'interval', interval }];
  }

  private onOtherLine(line: string): Iperf3Event[] {
    const error = ERROR_LINE.exec(line);
    if (error) return [...this.flush(), { type: 'error', message: error[1] ?? line }];
    if (CONNECTED.test(line)) this.streamCount += 1;
    else if (line.startsWith('Reverse mode')) this.reverse = true;
    else if (line.startsWith('Server listening') || line.startsWith('Accepted connection')) this.resetRun();
    else if (line.startsWith('[ ID]')) this.onHeader(line);
    else if (line.startsWith('- - -')) return this.flush();
    return [];
  }

  private onHeader(line: string): void {
    this.columns = line.includes('Datagrams') ? 'udp' : 'tcp';
    if (line.includes('[Role]')) this.bidir = true;
  }

  // A long-running server reports one test after another.
  private resetRun(): void {
    this.streamCount = 0;
    this.bidir = false;
    this.pending = [];
  }

  private onReport(report: ReportLine): Iperf3Event[] {
    if (report.role !== null) {
      this.summaryLines.push({ ...toSum(report.sample), stream: report.stream, role: report.role, start: report.start, end: report.end });
      return this.flush();
    }
    const pendingFirst = this.pending[0];
    const events = pendingFirst && intervalKey(pendingFirst) !== intervalKey(report) ? this.flush() : [];
    this.pending.push(report);
    return this.pending.length >= this.linesPerInterval() ? [...events, ...this.flush()] : events;
  }

  // Every stream prints a line per interval, plus one [SUM] per direction once a direction has two streams.
  private linesPerInterval(): number {
    // No "connected to" line seen (output joined late): one stream is the only safe guess for live events.
    if (this.streamCount === 0) return 1;
    const directions = this.bidir ? 2 : 1;
    const perDirection = this.streamCount / directions;
    return this.streamCount + (perDirection > 1 ? directions : 0);
  }
}

/** Parses a whole --forceflush text output into its interval events (errors included). */
export function parseIperf3Text(output: string, options: Iperf3TextParserOptions = {}): Iperf3Event[] {
  const parser = new Iperf3TextParser(options);
  const events = output.split('\n').flatMap((line) => parser.push(line));
  return [...events, ...parser.flush()];
}
