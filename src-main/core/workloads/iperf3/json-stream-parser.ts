// Incremental parser of `iperf3 --json-stream` (3.17+): one {"event", "data"} object per line becomes live
// start/interval/end/error events with the same types as the -J parser.

import { toInterval, toStart } from './convert';
import { buildResult, iperf3Failure } from './json-parser';
import { parseLenientJson } from './json-text';
import { rawEndSchema, rawIntervalSchema, rawStartSchema } from './raw-schema';
import type { Iperf3Event, Iperf3Interval, Iperf3Result, Iperf3Start } from './types';
import { z } from 'zod';

const lineSchema = z.object({ event: z.string(), data: z.unknown().optional() });

// The error event's data is iperf3's message; accept an object with `error` too, in case a version wraps it.
function errorMessage(data: unknown): string {
  if (typeof data === 'string') return data;
  const wrapped = z.object({ error: z.string() }).safeParse(data);
  return wrapped.success ? wrapped.data.error : JSON.stringify(data);
}

export class Iperf3StreamParser {
  private start: Iperf3Start = toStart(null);
  private readonly intervals: Iperf3Interval[] = [];
  private result: Iperf3Result | null = null;
  private error: string | null = null;

  /** Feeds one line of output; returns the events it completes (none for blank or non-JSON lines). */
  push(line: string): Iperf3Event[] {
    const trimmed = line.trim();
    // iperf3 can print plain warnings on stdout between the JSON lines; they carry no data.
    if (!trimmed.startsWith('{')) return [];
    try {
      const message = lineSchema.parse(parseLenientJson(trimmed));
      return this.handle(message.event, message.data);
    } catch {
      // A line cut short by a kill, or a shape we do not know: the run cannot be trusted past it.
      return [this.fail(`unreadable --json-stream line: ${trimmed.slice(0, 120)}`)];
    }
  }

  /** The final summary; throws the iperf3 error, or a CnlabError when the stream ended without one. */
  finish(): Iperf3Result {
    if (this.error !== null) throw iperf3Failure(this.error, { intervalsBeforeError: this.intervals.length });
    if (this.result === null) throw iperf3Failure('the --json-stream output ended without an end event');
    return this.result;
  }

  private handle(event: string, data: unknown): Iperf3Event[] {
    switch (event) {
      case 'start':
        this.start = toStart(rawStartSchema.parse(data));
        return [{ type: 'start', start: this.start }];
      case 'interval':
        return [this.addInterval(data)];
      case 'end':
        this.result = buildResult(this.start, this.intervals, rawEndSchema.parse(data));
        return [{ type: 'end', result: this.result }];
      case 'error':
        return [this.fail(errorMessage(data))];
      default:
        return [];
    }
  }

  private addInterval(data: unknown): Iperf3Event {
    const interval = toInterval(rawIntervalSchema.parse(data), this.start);
    this.intervals.push(interval);
    return { type: 'interval', interval };
  }

  private fail(message: string): Iperf3Event {
    this.error ??= message;
    return { type: 'error', message };
  }
}

/** Parses a whole --json-stream output (text or lines) into the same result as parseIperf3Json. */
export function parseIperf3JsonStream(output: string | Iterable<string>): Iperf3Result {
  const lines = typeof output === 'string' ? output.split('\n') : output;
  const parser = new Iperf3StreamParser();
  for (const line of lines) parser.push(line);
  return parser.finish();
}
