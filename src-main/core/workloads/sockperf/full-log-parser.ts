// Parser of the CSV that `sockperf --full-log FILE` writes: per-message latency samples in µs, so
// percentiles across repetitions are ranked from pooled raw samples, never averaged from per-run summaries.

import { CnlabError } from '../../errors';
import { unreadableOutput, validated } from './output-text';
import { fullLogSchema, type RttMode, type SockperfFullLog } from './types';

const HEADER = /^packet,\s*txTime\(sec\),\s*rxTime\(sec\),\s*latency\(usec\)/;
const PARAMETERS = /^test was performed using the following parameters:\s*(.*)$/;
const ROW = /^\d+\s*,/;

interface Row {
  txSec: number;
  rxSec: number;
  latencyUs: number;
}

export interface SockperfFullLogOptions {
  fullRtt: boolean;
}

export function parseSockperfFullLog(text: string, options: SockperfFullLogOptions): SockperfFullLog {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const header = lines.findIndex((line) => HEADER.test(line));
  if (header < 0) throw unreadableOutput('full-log table (no "packet, txTime(sec), ..." header)', text);
  const rows = dataRows(lines.slice(header + 1), text);
  if (rows.length === 0) throw unreadableOutput('full-log samples (the table is empty)', text);
  const rttMode: RttMode = options.fullRtt ? 'full' : 'half';
  checkRowMode(rows[0] as Row, rttMode);
  const parameters = lines.map((line) => PARAMETERS.exec(line)?.[1]).find((value) => value !== undefined) ?? null;
  const candidate = { rttMode, parameters, samplesUs: rows.map((row) => row.latencyUs) };
  return validated(fullLogSchema, candidate, 'full log', text);
}

/** Rows run until the closing dashed line; a malformed row inside the table is an error, not a skip. */
function dataRows(lines: readonly string[], text: string): Row[] {
  const rows: Row[] = [];
  for (const line of lines) {
    if (!ROW.test(line)) break;
    rows.push(parseRow(line, text));
  }
  return rows;
}

function parseRow(line: string, text: string): Row {
  const fields = line.split(',').map((field) => Number(field.trim()));
  if (fields.length !== 4 || fields.some((value) => !Number.isFinite(value))) {
    throw unreadableOutput(`readable full-log row (got "${line.slice(0, 80)}")`, text);
  }
  return { txSec: fields[1] as number, rxSec: fields[2] as number, latencyUs: fields[3] as number };
}

function roundTripMatches(row: Row, mode: RttMode): boolean {
  const roundTripUs = (row.rxSec - row.txSec) * 1e6;
  const expected = mode === 'full' ? roundTripUs : roundTripUs / 2;
  return Math.abs(row.latencyUs - expected) <= 0.01 + 1e-3 * expected;
}

/** The latency column is already halved or not; a log from the other mode must not be pooled under this one. */
function checkRowMode(row: Row, mode: RttMode): void {
  const other: RttMode = mode === 'full' ? 'half' : 'full';
  if (roundTripMatches(row, mode) || !roundTripMatches(row, other)) return;
  const message = `sockperf full log holds ${other} round trips, but the run was described as ${mode}`;
  throw new CnlabError('invalid-input', message, { tool: 'sockperf', printedRttMode: other, expectedRttMode: mode });
}
