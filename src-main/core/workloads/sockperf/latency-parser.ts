// Parser of the sockperf ping-pong / under-load summary (3.7 and the 3.8+ average line): pure, no I/O.
// The caller says whether the run used --full-rtt; the output's own label must agree, or pooling would mix units.

import { CnlabError } from '../../errors';
import { findMatch, plainLines, toNumber, unreadableOutput, validated } from './output-text';
import {
  latencyResultSchema,
  type RttMode,
  type SockperfDispersion,
  type SockperfLatencyResult,
  type SockperfPercentile,
  type SockperfRunCounters,
} from './types';

const NUM = String.raw`[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?`;
const AVERAGE_LINE = new RegExp(String.raw`^====> avg-(latency|rtt)=(${NUM}) \((.*)\)`);
const TOTAL_RUN = new RegExp(
  String.raw`^\[Total Run\] RunTime=(${NUM}) sec; Warm up time=(${NUM}) msec; ` +
    String.raw`SentMessages=(\d+); ReceivedMessages=(\d+)`,
);
const VALID_DURATION = new RegExp(
  String.raw`^\[Valid Duration\] RunTime=(${NUM}) sec; SentMessages=(\d+); ReceivedMessages=(\d+)`,
);
const COUNTERS = /# dropped messages = (\d+); # duplicated messages = (\d+); # out-of-order messages = (\d+)/;
const OBSERVATIONS = /^Total (\d+) observations/;
const PERCENTILE = new RegExp(String.raw`^---> percentile (${NUM}) =\s*(${NUM})`);
const EXTREME = new RegExp(String.raw`^---> <(MAX|MIN)> observation =\s*(${NUM})`);

export interface SockperfLatencyOptions {
  /** True when the run was started with --full-rtt. */
  fullRtt: boolean;
}

/** Parses the client output of `sockperf ping-pong` or `sockperf under-load`. */
export function parseSockperfLatency(text: string, options: SockperfLatencyOptions): SockperfLatencyResult {
  const lines = firstServerBlock(plainLines(text));
  const average = findMatch(lines, AVERAGE_LINE);
  if (!average) throw unreadableOutput('latency summary (no avg-latency line)', text);
  const rttMode: RttMode = options.fullRtt ? 'full' : 'half';
  checkRttLabel(average[1] === 'rtt' ? 'full' : 'half', rttMode);
  const candidate = {
    kind: 'latency' as const,
    rttMode,
    avgUs: toNumber(average[2] ?? ''),
    stdDevUs: keyValue(average[3] ?? '', 'std-dev'),
    dispersion: parseDispersion(average[3] ?? ''),
    percentiles: parsePercentiles(lines),
    ...parseExtremes(lines),
    observations: parseObservations(lines, text),
    totalRun: parseTotalRun(lines),
    validDuration: parseValidDuration(lines, text),
    ...parseCounters(lines, text),
  };
  return validated(latencyResultSchema, candidate, 'latency summary', text);
}

/** With several servers (--feedfile) sockperf prints one block each; the first is the one cnlab starts. */
function firstServerBlock(lines: string[]): string[] {
  const starts = lines.flatMap((line, index) => (line.startsWith('========= Printing statistics') ? [index] : []));
  if (starts.length < 2) return lines;
  return lines.slice(0, starts[1]);
}

function checkRttLabel(printed: RttMode, expected: RttMode): void {
  if (printed === expected) return;
  const flag = expected === 'full' ? 'with' : 'without';
  throw new CnlabError(
    'invalid-input',
    `sockperf output reports the ${printed} round trip but the run was described as ${flag} --full-rtt`,
    { tool: 'sockperf', printedRttMode: printed, expectedRttMode: expected },
  );
}

function keyValue(inner: string, key: string): number {
  const match = new RegExp(String.raw`(?:^|[ ,])${key}=(${NUM})`).exec(inner);
  return match ? toNumber(match[1] ?? '') : Number.NaN;
}

/** 3.8+ prints mean-ad … ci after std-dev; its absence is what identifies 3.7 output. */
function parseDispersion(inner: string): SockperfDispersion | null {
  if (!inner.includes('mean-ad=')) return null;
  const ci = new RegExp(String.raw`(${NUM})% ci=\[(${NUM}),\s*(${NUM})\]`).exec(inner);
  return {
    meanAdUs: keyValue(inner, 'mean-ad'),
    medianAdUs: keyValue(inner, 'median-ad'),
    siqrUs: keyValue(inner, 'siqr'),
    cv: keyValue(inner, 'cv'),
    stdErrorUs: keyValue(inner, 'std-error'),
    confidenceInterval: {
      levelPercent: ci ? toNumber(ci[1] ?? '') : Number.NaN,
      lowUs: ci ? toNumber(ci[2] ?? '') : Number.NaN,
      highUs: ci ? toNumber(ci[3] ?? '') : Number.NaN,
    },
  };
}

function parsePercentiles(lines: readonly string[]): SockperfPercentile[] {
  return lines
    .flatMap((line) => {
      const match = PERCENTILE.exec(line);
      return match ? [{ p: toNumber(match[1] ?? ''), valueUs: toNumber(match[2] ?? '') }] : [];
    })
    .sort((a, b) => a.p - b.p);
}

function parseExtremes(lines: readonly string[]): { minUs: number | null; maxUs: number | null } {
  const extremes = { minUs: null as number | null, maxUs: null as number | null };
  for (const line of lines) {
    const match = EXTREME.exec(line);
    if (match?.[1] === 'MAX') extremes.maxUs = toNumber(match[2] ?? '');
    if (match?.[1] === 'MIN') extremes.minUs = toNumber(match[2] ?? '');
  }
  return extremes;
}

function parseObservations(lines: readonly string[], text: string): number {
  const match = findMatch(lines, OBSERVATIONS);
  if (!match) throw unreadableOutput('observation count', text);
  return Number.parseInt(match[1] ?? '', 10);
}

function parseTotalRun(lines: readonly string[]): (SockperfRunCounters & { warmupMs: number }) | null {
  const match = findMatch(lines, TOTAL_RUN);
  if (!match) return null;
  return {
    durationSec: toNumber(match[1] ?? ''),
    warmupMs: toNumber(match[2] ?? ''),
    sentMessages: Number.parseInt(match[3] ?? '', 10),
    receivedMessages: Number.parseInt(match[4] ?? '', 10),
  };
}

/** The valid duration excludes warm-up and is what the latency statistics describe. */
function parseValidDuration(lines: readonly string[], text: string): SockperfRunCounters {
  const match = findMatch(lines, VALID_DURATION);
  if (!match) throw unreadableOutput('valid-duration line', text);
  return {
    durationSec: toNumber(match[1] ?? ''),
    sentMessages: Number.parseInt(match[2] ?? '', 10),
    receivedMessages: Number.parseInt(match[3] ?? '', 10),
  };
}

function parseCounters(
  lines: readonly string[],
  text: string,
): { droppedMessages: number; duplicatedMessages: number; outOfOrderMessages: number } {
  const match = findMatch(lines, COUNTERS);
  if (!match) throw unreadableOutput('dropped/duplicated/out-of-order counters', text);
  return {
    droppedMessages: Number.parseInt(match[1] ?? '', 10),
    duplicatedMessages: Number.parseInt(match[2] ?? '', 10),
    outOfOrderMessages: Number.parseInt(match[3] ?? '', 10),
  };
}
