// The typed result of every iperf3 parser (-J, --json-stream, --forceflush text), as zod schemas so a
// parsed run can be validated again when it is read back from a workspace written by an older cnlab.

import { z } from 'zod';

/** Nullable because iperf3 prints `nan`/`inf` for some counters (old versions), which we map to null. */
const maybeNumber = z.number().nullable();

/**
 * Which way the bytes flow, named from the client's point of view so a -R run and the reverse half of a
 * --bidir run read the same: the client sends in `client-to-server`.
 */
export const directionSchema = z.enum(['client-to-server', 'server-to-client']);
export type Iperf3Direction = z.infer<typeof directionSchema>;

export const connectedSchema = z.object({
  socket: z.number().int(),
  localHost: z.string(),
  localPort: z.number().int(),
  remoteHost: z.string(),
  remotePort: z.number().int(),
});

export const startSchema = z.object({
  version: z.string().nullable(),
  systemInfo: z.string().nullable(),
  protocol: z.string().nullable(),
  numStreams: z.number().int().nullable(),
  blksize: z.number().int().nullable(),
  durationSeconds: maybeNumber,
  omitSeconds: maybeNumber,
  reverse: z.boolean(),
  bidir: z.boolean(),
  targetBitrate: maybeNumber,
  tcpMss: z.number().int().nullable(),
  connectingTo: z.object({ host: z.string(), port: z.number().int() }).nullable(),
  connected: z.array(connectedSchema),
  timestampSecs: z.number().nullable(),
});
export type Iperf3Start = z.infer<typeof startSchema>;

/** Counters shared by interval sums, per-stream interval values and end sums; null where not reported. */
const countersShape = {
  direction: directionSchema,
  bytes: maybeNumber,
  bitsPerSecond: maybeNumber,
  retransmits: maybeNumber,
  packets: maybeNumber,
  jitterMs: maybeNumber,
  lostPackets: maybeNumber,
  lostPercent: maybeNumber,
};

export const intervalSumSchema = z.object(countersShape);
export type Iperf3IntervalSum = z.infer<typeof intervalSumSchema>;

export const streamSampleSchema = z.object({
  ...countersShape,
  socket: z.number().int().nullable(),
  sndCwndBytes: maybeNumber,
  rttUs: maybeNumber,
});
export type Iperf3StreamSample = z.infer<typeof streamSampleSchema>;

export const intervalSchema = z.object({
  start: z.number(),
  end: z.number(),
  seconds: z.number(),
  omitted: z.boolean(),
  /** Sum over the directions: the aggregate throughput of the interval. */
  bitsPerSecond: maybeNumber,
  retransmits: maybeNumber,
  sums: z.array(intervalSumSchema),
  streams: z.array(streamSampleSchema),
});
export type Iperf3Interval = z.infer<typeof intervalSchema>;

export const endSumSchema = z.object({
  start: maybeNumber,
  end: maybeNumber,
  seconds: maybeNumber,
  bytes: maybeNumber,
  bitsPerSecond: maybeNumber,
  retransmits: maybeNumber,
  packets: maybeNumber,
  jitterMs: maybeNumber,
  lostPackets: maybeNumber,
  lostPercent: maybeNumber,
});
export type Iperf3EndSum = z.infer<typeof endSumSchema>;

export const directionSummarySchema = z.object({
  direction: directionSchema,
  sent: endSumSchema.nullable(),
  received: endSumSchema.nullable(),
  /** The receiver's rate (what arrived), the sender's when the receiver's is missing. */
  bitsPerSecond: maybeNumber,
  retransmits: maybeNumber,
  /** UDP loss and jitter are only known at the receiver. */
  jitterMs: maybeNumber,
  lostPackets: maybeNumber,
  packets: maybeNumber,
  lostPercent: maybeNumber,
});
export type Iperf3DirectionSummary = z.infer<typeof directionSummarySchema>;

export const endStreamSchema = z.object({
  socket: z.number().int().nullable(),
  direction: directionSchema,
  sent: endSumSchema.nullable(),
  received: endSumSchema.nullable(),
  maxSndCwndBytes: maybeNumber,
  minRttUs: maybeNumber,
  meanRttUs: maybeNumber,
  maxRttUs: maybeNumber,
});
export type Iperf3EndStream = z.infer<typeof endStreamSchema>;

export const cpuSchema = z.object({
  hostTotal: maybeNumber,
  hostUser: maybeNumber,
  hostSystem: maybeNumber,
  remoteTotal: maybeNumber,
  remoteUser: maybeNumber,
  remoteSystem: maybeNumber,
});
export type Iperf3Cpu = z.infer<typeof cpuSchema>;

export const resultSchema = z.object({
  start: startSchema,
  /** Measured intervals only: those inside -O (warm-up) are left out and only counted. */
  intervals: z.array(intervalSchema),
  omittedIntervals: z.number().int().nonnegative(),
  directions: z.array(directionSummarySchema),
  streams: z.array(endStreamSchema),
  cpu: cpuSchema.nullable(),
  senderCongestion: z.string().nullable(),
  receiverCongestion: z.string().nullable(),
});
export type Iperf3Result = z.infer<typeof resultSchema>;

/** What the incremental parsers emit; the text parser emits only `interval` and `error`. */
export type Iperf3Event =
  | { type: 'start'; start: Iperf3Start }
  | { type: 'interval'; interval: Iperf3Interval }
  | { type: 'end'; result: Iperf3Result }
  | { type: 'error'; message: string };
