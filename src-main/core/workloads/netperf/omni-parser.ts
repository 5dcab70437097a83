// Parser of netperf omni output selected with `-k KEY,...` (one KEY=value per line, after an optional banner):
// pure, no I/O. netperf prints -1 for what it did not measure (CPU without -c/-C), which becomes null here.

import { CnlabError } from '../../errors';
import { netperfResultSchema, type NetperfResult, type NetperfTest } from './types';
import { expectedKind, throughputScale } from './units';

const KEY_VALUE = /^([A-Z][A-Z0-9_]*)=(.*)$/;
const FAILURE_LINE = /establish control|netserver|error|refused|unable|cannot/i;
const EXCERPT_CHARS = 200;

export function parseNetperfOmni(text: string, test: NetperfTest): NetperfResult {
  const fields = keyValues(text);
  const value = Number.parseFloat(fields.THROUGHPUT ?? '');
  const units = fields.THROUGHPUT_UNITS;
  if (units === undefined || !Number.isFinite(value)) throw unreadable(text);
  const candidate = {
    test,
    throughput: typedThroughput(value, units, test),
    latencyUs: {
      mean: measured(fields.MEAN_LATENCY),
      p50: measured(fields.P50_LATENCY),
      p90: measured(fields.P90_LATENCY),
      p99: measured(fields.P99_LATENCY),
    },
    cpuPercent: { local: measured(fields.LOCAL_CPU_UTIL), remote: measured(fields.REMOTE_CPU_UTIL) },
    serviceDemand: {
      local: measured(fields.LOCAL_SD),
      remote: measured(fields.REMOTE_SD),
      units: fields.SD_UNITS ?? null,
    },
    fields,
  };
  return validated(candidate, text);
}

function keyValues(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = KEY_VALUE.exec(line.trim());
    if (match) fields[match[1] ?? ''] = (match[2] ?? '').trim();
  }
  return fields;
}

/** Absent, unparsable or negative (netperf's "not measured") all mean there is no value. */
function measured(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = Number.parseFloat(raw);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

function typedThroughput(value: number, units: string, test: NetperfTest): NetperfResult['throughput'] {
  const scale = throughputScale(units);
  if (!scale) {
    throw new CnlabError('command-failed', `netperf reported throughput in unknown units "${units}"`, {
      tool: 'netperf',
      problem: 'unknown-units',
      units,
    });
  }
  if (scale.kind !== expectedKind(test)) {
    throw new CnlabError('invalid-input', `netperf reported ${units} but the run was described as ${test}`, {
      tool: 'netperf',
      units,
      test,
    });
  }
  const scaled = value * scale.factor;
  return {
    value,
    units,
    bitsPerSecond: scale.kind === 'bits' ? scaled : null,
    transactionsPerSecond: scale.kind === 'transactions' ? scaled : null,
  };
}

function unreadable(text: string): CnlabError {
  const complaint = text.split(/\r?\n/).find((line) => FAILURE_LINE.test(line))?.trim();
  const reason = complaint ? `: ${complaint}` : ' (no THROUGHPUT and THROUGHPUT_UNITS lines; was -k given?)';
  return new CnlabError('command-failed', `netperf printed no result${reason}`, {
    tool: 'netperf',
    problem: complaint ? 'tool-error' : 'unrecognised-output',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}

function validated(candidate: unknown, text: string): NetperfResult {
  const parsed = netperfResultSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  throw new CnlabError('command-failed', `netperf result has unreadable values (${problem})`, {
    tool: 'netperf',
    problem: 'invalid-values',
    outputStart: text.slice(0, EXCERPT_CHARS),
  });
}
