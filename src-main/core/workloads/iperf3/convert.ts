// Maps iperf3's raw JSON sections to cnlab's typed result; shared by the -J and --json-stream parsers
// so both give the same values for the same run.

import type { RawCounters, RawEnd, RawInterval, RawStart } from './raw-schema';
import type {
  Iperf3Cpu,
  Iperf3Direction,
  Iperf3DirectionSummary,
  Iperf3EndStream,
  Iperf3EndSum,
  Iperf3Interval,
  Iperf3IntervalSum,
  Iperf3Start,
  Iperf3StreamSample,
} from './types';

const nullable = <T>(value: T | null | undefined): T | null => value ?? null;

function asBoolean(value: boolean | number | null | undefined): boolean | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value !== 0 : value;
}

function opposite(direction: Iperf3Direction): Iperf3Direction {
  return direction === 'client-to-server' ? 'server-to-client' : 'client-to-server';
}

/** The direction of the test's main data flow: what -R flips. */
export function forwardDirection(start: Iperf3Start): Iperf3Direction {
  return start.reverse ? 'server-to-client' : 'client-to-server';
}

// `sender` says whether the parsing side (the client) sent these bytes; older outputs may lack it.
function directionOf(counters: RawCounters, fallback: Iperf3Direction): Iperf3Direction {
  const sender = asBoolean(counters.sender);
  if (sender === null) return fallback;
  return sender ? 'client-to-server' : 'server-to-client';
}

export function toStart(raw: RawStart | null | undefined): Iperf3Start {
  const test = raw?.test_start;
  return {
    version: nullable(raw?.version),
    systemInfo: nullable(raw?.system_info),
    protocol: nullable(test?.protocol),
    numStreams: nullable(test?.num_streams),
    blksize: nullable(test?.blksize),
    durationSeconds: nullable(test?.duration),
    omitSeconds: nullable(test?.omit),
    reverse: asBoolean(test?.reverse) ?? false,
    bidir: asBoolean(test?.bidir) ?? false,
    targetBitrate: nullable(test?.target_bitrate ?? raw?.target_bitrate),
    // 3.12 reports only the default MSS unless -M was given.
    tcpMss: nullable(raw?.tcp_mss ?? raw?.tcp_mss_default),
    connectingTo: raw?.connecting_to ?? null,
    connected: (raw?.connected ?? []).map((c) => ({
      socket: c.socket,
      localHost: c.local_host,
      localPort: c.local_port,
      remoteHost: c.remote_host,
      remotePort: c.remote_port,
    })),
    timestampSecs: nullable(raw?.timestamp?.timesecs),
  };
}

function toCounters(raw: RawCounters, direction: Iperf3Direction): Iperf3IntervalSum {
  return {
    direction,
    bytes: nullable(raw.bytes),
    bitsPerSecond: nullable(raw.bits_per_second),
    retransmits: nullable(raw.retransmits),
    packets: nullable(raw.packets),
    jitterMs: nullable(raw.jitter_ms),
    lostPackets: nullable(raw.lost_packets),
    lostPercent: nullable(raw.lost_percent),
  };
}

function toStreamSample(raw: RawCounters, fallback: Iperf3Direction): Iperf3StreamSample {
  return {
    ...toCounters(raw, directionOf(raw, fallback)),
    socket: nullable(raw.socket),
    sndCwndBytes: nullable(raw.snd_cwnd),
    rttUs: nullable(raw.rtt),
  };
}

/** Adds up the non-null values; null when every value is null, so "unknown" never reads as zero. */
export function sumKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

function sumStreams(streams: readonly Iperf3StreamSample[], direction: Iperf3Direction): Iperf3IntervalSum {
  const mine = streams.filter((s) => s.direction === direction);
  const total = (pick: (s: Iperf3StreamSample) => number | null): number | null => sumKnown(mine.map(pick));
  return {
    direction,
    bytes: total((s) => s.bytes),
    bitsPerSecond: total((s) => s.bitsPerSecond),
    retransmits: total((s) => s.retransmits),
    packets: total((s) => s.packets),
    jitterMs: null,
    lostPackets: total((s) => s.lostPackets),
    lostPercent: null,
  };
}

// iperf3 always writes `sum`, but a truncated or future output may not: rebuild it from the streams then.
function intervalSums(raw: RawInterval, streams: Iperf3StreamSample[], fallback: Iperf3Direction): Iperf3IntervalSum[] {
  const given = [raw.sum, raw.sum_bidir_reverse].filter((s): s is RawCounters => s !== null && s !== undefined);
  if (given.length > 0) return given.map((s) => toCounters(s, directionOf(s, fallback)));
  const directions = [...new Set(streams.map((s) => s.direction))];
  return directions.map((d) => sumStreams(streams, d));
}

export function toInterval(raw: RawInterval, start: Iperf3Start): Iperf3Interval {
  const fallback = forwardDirection(start);
  const streams = (raw.streams ?? []).map((s) => toStreamSample(s, fallback));
  const sums = intervalSums(raw, streams, fallback);
  const timing = raw.sum ?? raw.streams?.[0];
  const begin = timing?.start ?? 0;
  const end = timing?.end ?? begin;
  return {
    start: begin,
    end,
    seconds: timing?.seconds ?? end - begin,
    omitted: asBoolean(timing?.omitted) ?? false,
    bitsPerSecond: sumKnown(sums.map((s) => s.bitsPerSecond)),
    retransmits: sumKnown(sums.map((s) => s.retransmits)),
    sums,
    streams,
  };
}

function toEndSum(raw: RawCounters | null | undefined): Iperf3EndSum | null {
  if (!raw) return null;
  return {
    start: nullable(raw.start),
    end: nullable(raw.end),
    seconds: nullable(raw.seconds),
    bytes: nullable(raw.bytes),
    bitsPerSecond: nullable(raw.bits_per_second),
    retransmits: nullable(raw.retransmits),
    packets: nullable(raw.packets),
    jitterMs: nullable(raw.jitter_ms),
    lostPackets: nullable(raw.lost_packets),
    lostPercent: nullable(raw.lost_percent),
  };
}

function toDirectionSummary(
  direction: Iperf3Direction,
  sent: Iperf3EndSum | null,
  received: Iperf3EndSum | null,
): Iperf3DirectionSummary {
  return {
    direction,
    sent,
    received,
    bitsPerSecond: received?.bitsPerSecond ?? sent?.bitsPerSecond ?? null,
    retransmits: sent?.retransmits ?? null,
    jitterMs: received?.jitterMs ?? null,
    lostPackets: received?.lostPackets ?? null,
    packets: received?.packets ?? sent?.packets ?? null,
    lostPercent: received?.lostPercent ?? null,
  };
}

export function toDirectionSummaries(raw: RawEnd | null | undefined, start: Iperf3Start): Iperf3DirectionSummary[] {
  if (!raw) return [];
  const forward = forwardDirection(start);
  // Before sum_sent/sum_received existed, UDP had only `sum`, carrying the receiver's loss and jitter.
  const received = toEndSum(raw.sum_received ?? raw.sum);
  const summaries: Iperf3DirectionSummary[] = [];
  if (raw.sum_sent || received) summaries.push(toDirectionSummary(forward, toEndSum(raw.sum_sent), received));
  if (raw.sum_sent_bidir_reverse || raw.sum_received_bidir_reverse) {
    const back = toDirectionSummary(
      opposite(forward),
      toEndSum(raw.sum_sent_bidir_reverse),
      toEndSum(raw.sum_received_bidir_reverse),
    );
    summaries.push(back);
  }
  return summaries;
}

type RawEndStream = NonNullable<RawEnd['streams']>[number];

function toEndStream(raw: RawEndStream, forward: Iperf3Direction): Iperf3EndStream {
  const sender = raw.sender ?? raw.udp ?? raw.receiver;
  const direction = sender ? directionOf(sender, forward) : forward;
  return {
    socket: nullable(sender?.socket),
    direction,
    sent: toEndSum(raw.sender ?? raw.udp),
    received: toEndSum(raw.receiver ?? raw.udp),
    maxSndCwndBytes: nullable(raw.sender?.max_snd_cwnd),
    minRttUs: nullable(raw.sender?.min_rtt),
    meanRttUs: nullable(raw.sender?.mean_rtt),
    maxRttUs: nullable(raw.sender?.max_rtt),
  };
}

export function toEndStreams(raw: RawEnd | null | undefined, start: Iperf3Start): Iperf3EndStream[] {
  return (raw?.streams ?? []).map((s) => toEndStream(s, forwardDirection(start)));
}

export function toCpu(raw: RawEnd | null | undefined): Iperf3Cpu | null {
  const cpu = raw?.cpu_utilization_percent;
  if (!cpu) return null;
  return {
    hostTotal: nullable(cpu.host_total),
    hostUser: nullable(cpu.host_user),
    hostSystem: nullable(cpu.host_system),
    remoteTotal: nullable(cpu.remote_total),
    remoteUser: nullable(cpu.remote_user),
    remoteSystem: nullable(cpu.remote_system),
  };
}
