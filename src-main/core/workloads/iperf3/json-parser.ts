// Parser of `iperf3 -J` output (3.12 to 3.21, -R, -P, -u, -O, --bidir): pure, no I/O.
// An iperf3 failure is thrown as CnlabError('command-failed'), because 3.12 exits 0 with an `error` key.

import { CnlabError } from '../../errors';
import { toCpu, toDirectionSummaries, toEndStreams, toInterval, toStart } from './convert';
import { parseLenientJson } from './json-text';
import { rawDocumentSchema, type RawEnd, type RawInterval } from './raw-schema';
import { resultSchema, type Iperf3Interval, type Iperf3Result, type Iperf3Start } from './types';

const EXCERPT_CHARS = 200;

/** The error iperf3 reports for a run that failed; its message is iperf3's own, prefixed for the user. */
export function iperf3Failure(message: string, details: Record<string, unknown> = {}): CnlabError {
  return new CnlabError('command-failed', `iperf3: ${message}`, { iperf3Error: message, ...details });
}

function unreadable(reason: string, text: string, cause?: unknown): CnlabError {
  return new CnlabError(
    'command-failed',
    `iperf3 printed no readable JSON result (${reason})`,
    { outputStart: text.slice(0, EXCERPT_CHARS) },
    { cause },
  );
}

/** Splits off the -O warm-up intervals: they are counted but never become samples. */
export function measuredIntervals(intervals: readonly Iperf3Interval[]): {
  intervals: Iperf3Interval[];
  omittedIntervals: number;
} {
  const measured = intervals.filter((i) => !i.omitted);
  return { intervals: measured, omittedIntervals: intervals.length - measured.length };
}

/** Assembles and validates the result from raw sections; shared with the --json-stream parser. */
export function buildResult(start: Iperf3Start, intervals: readonly Iperf3Interval[], rawEnd: RawEnd | null | undefined): Iperf3Result {
  return resultSchema.parse({
    start,
    ...measuredIntervals(intervals),
    directions: toDirectionSummaries(rawEnd, start),
    streams: toEndStreams(rawEnd, start),
    cpu: toCpu(rawEnd),
    senderCongestion: rawEnd?.sender_tcp_congestion ?? null,
    receiverCongestion: rawEnd?.receiver_tcp_congestion ?? null,
  });
}

function readDocument(text: string): ReturnType<typeof rawDocumentSchema.parse> {
  let value: unknown;
  try {
    value = parseLenientJson(text);
  } catch (error) {
    throw unreadable(error instanceof Error ? error.message : String(error), text, error);
  }
  const parsed = rawDocumentSchema.safeParse(value);
  if (!parsed.success) throw unreadable(parsed.error.issues[0]?.message ?? 'unexpected shape', text, parsed.error);
  return parsed.data;
}

function convertIntervals(raw: readonly RawInterval[], start: Iperf3Start): Iperf3Interval[] {
  return raw.map((i) => toInterval(i, start));
}

/**
 * Parses the stdout of `iperf3 -c ... -J`. Throws CnlabError('command-failed', 'iperf3: <error>') when
 * iperf3 reported an error (even with exit status 0), and when the output holds no JSON object.
 */
export function parseIperf3Json(text: string): Iperf3Result {
  const doc = readDocument(text);
  if (doc.error) throw iperf3Failure(doc.error, { intervalsBeforeError: doc.intervals?.length ?? 0 });
  const start = toStart(doc.start);
  return buildResult(start, convertIntervals(doc.intervals ?? [], start), doc.end);
}
