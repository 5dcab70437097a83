// Text helpers shared by the sockperf parsers: its output is coloured and prefixed, so lines are
// normalised once here and every parser sees plain `key=value` text.

import type { z } from 'zod';
import { CnlabError } from '../../errors';

const EXCERPT_CHARS = 200;
// sockperf 3.7 colours the summary lines even when stdout is a file or a pipe.
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;
const PREFIX = /^sockperf:\s?/;
const FAILURE_LINE = /ERROR|No messages were received|Connection refused|cannot|failed/i;

/** Output lines without colour codes and without the `sockperf: ` prefix. */
export function plainLines(text: string): string[] {
  return text
    .replace(ANSI_ESCAPE, '')
    .split(/\r?\n/)
    .map((line) => line.replace(PREFIX, '').trim());
}

export function toNumber(text: string): number {
  return Number.parseFloat(text);
}

/** A parse failure that quotes sockperf's own complaint when it printed one, so the user sees the cause. */
export function unreadableOutput(what: string, text: string): CnlabError {
  const complaint = plainLines(text).find((line) => FAILURE_LINE.test(line));
  const reason = complaint ? `: ${complaint}` : '';
  return new CnlabError('command-failed', `sockperf printed no ${what}${reason}`, {
    tool: 'sockperf',
    problem: complaint ? 'tool-error' : 'unrecognised-output',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}

/** The first match of a pattern over all lines, or null. */
export function findMatch(lines: readonly string[], pattern: RegExp): RegExpMatchArray | null {
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) return match;
  }
  return null;
}

/** Schema check of a parsed result: a value that slipped past the patterns (NaN, negative) is a tool problem. */
export function validated<T>(schema: z.ZodType<T>, candidate: unknown, what: string, text: string): T {
  const parsed = schema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  throw new CnlabError('command-failed', `sockperf ${what} has unreadable values (${problem})`, {
    tool: 'sockperf',
    problem: 'invalid-values',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}
