// Parser of iputils `ping -c N` output (with or without -q): pure, no I/O.
// A run where nothing answered is a result (100% loss, rtt null), not an error; text with no statistics is.

import { CnlabError } from '../../errors';
import {
  pingResultSchema,
  type PingErrorReply,
  type PingReply,
  type PingResult,
  type PingRtt,
} from './types';

const NUM = String.raw`[0-9]+(?:\.[0-9]+)?`;
const HEADER = /^PING (\S+)/;
const REPLY = new RegExp(String.raw`^\d+ bytes from (.+?): icmp_seq=(\d+)(?: ttl=(\d+))? time=(${NUM}) ms(.*)$`);
const ERROR_REPLY = /^From (\S+)(?: \([^)]*\))? icmp_seq=(\d+) (.+)$/;
const SUMMARY = /^(\d+) packets transmitted, (\d+) received(.*)$/;
const RTT = new RegExp(
  String.raw`^(?:rtt|round-trip) min/avg/max(?:/mdev)? = (${NUM})/(${NUM})/(${NUM})(?:/(${NUM}))? ms`,
);
const EXCERPT_CHARS = 200;

export function parsePing(text: string): PingResult {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const summaryLine = lines.map((line) => SUMMARY.exec(line)).find((match) => match !== null);
  if (!summaryLine) throw noStatistics(lines, text);
  const replies = lines.flatMap(parseReply);
  const candidate = {
    target: lines.map((line) => HEADER.exec(line)?.[1]).find((value) => value !== undefined) ?? null,
    transmitted: Number.parseInt(summaryLine[1] ?? '', 10),
    received: Number.parseInt(summaryLine[2] ?? '', 10),
    ...parseSummaryTail(summaryLine[3] ?? ''),
    rtt: parseRtt(lines),
    replies,
    errorReplies: lines.flatMap(parseErrorReply),
    samplesMs: replies.filter((reply) => !reply.duplicate).map((reply) => reply.timeMs),
  };
  return validated(candidate, text);
}

function parseReply(line: string): PingReply[] {
  const match = REPLY.exec(line);
  if (!match) return [];
  return [
    {
      from: match[1] ?? '',
      seq: Number.parseInt(match[2] ?? '', 10),
      ttl: match[3] === undefined ? null : Number.parseInt(match[3], 10),
      timeMs: Number.parseFloat(match[4] ?? ''),
      duplicate: (match[5] ?? '').includes('DUP!'),
    },
  ];
}

function parseErrorReply(line: string): PingErrorReply[] {
  const match = ERROR_REPLY.exec(line);
  if (!match) return [];
  return [{ from: match[1] ?? '', seq: Number.parseInt(match[2] ?? '', 10), message: match[3] ?? '' }];
}

/** The optional `+N duplicates`, `+N errors` and the loss and time fields after "received". */
function parseSummaryTail(tail: string): Pick<PingResult, 'duplicates' | 'errors' | 'lossPercent' | 'elapsedMs'> {
  const duplicates = /\+(\d+) duplicates/.exec(tail);
  const errors = /\+(\d+) errors/.exec(tail);
  const loss = new RegExp(String.raw`(${NUM})% packet loss`).exec(tail);
  const time = /time (\d+)\s*ms/.exec(tail);
  return {
    duplicates: duplicates ? Number.parseInt(duplicates[1] ?? '', 10) : 0,
    errors: errors ? Number.parseInt(errors[1] ?? '', 10) : 0,
    lossPercent: loss ? Number.parseFloat(loss[1] ?? '') : Number.NaN,
    elapsedMs: time ? Number.parseInt(time[1] ?? '', 10) : null,
  };
}

function parseRtt(lines: readonly string[]): PingRtt | null {
  const match = lines.map((line) => RTT.exec(line)).find((value) => value !== null);
  if (!match) return null;
  return {
    minMs: Number.parseFloat(match[1] ?? ''),
    avgMs: Number.parseFloat(match[2] ?? ''),
    maxMs: Number.parseFloat(match[3] ?? ''),
    mdevMs: match[4] === undefined ? null : Number.parseFloat(match[4]),
  };
}

/** ping's own complaint (unknown host, unreachable network) is the most useful message when there is one. */
function noStatistics(lines: readonly string[], text: string): CnlabError {
  const complaint = lines.find((line) => line.startsWith('ping:'));
  const message = complaint ? `ping failed: ${complaint.slice('ping:'.length).trim()}` : 'ping printed no statistics';
  return new CnlabError('command-failed', message, {
    tool: 'ping',
    problem: complaint ? 'tool-error' : 'unrecognised-output',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}

function validated(candidate: unknown, text: string): PingResult {
  const parsed = pingResultSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  throw new CnlabError('command-failed', `ping statistics have unreadable values (${problem})`, {
    tool: 'ping',
    problem: 'invalid-values',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}
