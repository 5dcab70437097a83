// Parser of the `sockperf tp` client summary: pure, no I/O. sockperf's "MBps" is MiB/s of payload and its
// "Mbps" is that ×8 (mebibits), so bits/s are recomputed here instead of trusting the printed Mbps.

import { findMatch, plainLines, toNumber, unreadableOutput, validated } from './output-text';
import { throughputResultSchema, type SockperfThroughputResult } from './types';

const NUM = String.raw`[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?`;
const TOTAL = new RegExp(String.raw`^Total of (\d+) messages sent in (${NUM}) sec`);
const RATE = new RegExp(String.raw`^Summary: Message Rate is (${NUM}) \[msg/sec\]`);
const BANDWIDTH = new RegExp(String.raw`^Summary: BandWidth is (${NUM}) MBps(?: \((${NUM}) Mbps\))?`);
const MESSAGE_SIZE = /using msg-size=(\d+)/;

export const BYTES_PER_MIB = 1_048_576;

/** Payload bits per second from sockperf's MiB/s figure. */
export function mibPerSecondToBits(mibPerSecond: number): number {
  return mibPerSecond * BYTES_PER_MIB * 8;
}

export function parseSockperfThroughput(text: string): SockperfThroughputResult {
  const lines = plainLines(text);
  const total = findMatch(lines, TOTAL);
  const rate = findMatch(lines, RATE);
  const bandwidth = findMatch(lines, BANDWIDTH);
  if (!total || !rate || !bandwidth) throw unreadableOutput('throughput summary (no message rate / bandwidth)', text);
  const payloadMiBps = toNumber(bandwidth[1] ?? '');
  const size = findMatch(lines, MESSAGE_SIZE);
  const candidate = {
    kind: 'throughput' as const,
    messagesSent: Number.parseInt(total[1] ?? '', 10),
    durationSec: toNumber(total[2] ?? ''),
    messagesPerSecond: toNumber(rate[1] ?? ''),
    payloadMiBps,
    payloadBitsPerSecond: mibPerSecondToBits(payloadMiBps),
    printedMbps: bandwidth[2] === undefined ? null : toNumber(bandwidth[2]),
    messageSizeBytes: size ? Number.parseInt(size[1] ?? '', 10) : null,
  };
  return validated(throughputResultSchema, candidate, 'throughput summary', text);
}
