// Typed, zod-validated results of the sockperf parsers: latency in microseconds, throughput in bits/s
// of payload, and always the RTT mode, so half and full round trips can never be pooled by accident.

import { z } from 'zod';

/** sockperf reports half the round trip unless it ran with --full-rtt. */
export const rttModeSchema = z.enum(['half', 'full']);
export type RttMode = z.infer<typeof rttModeSchema>;

const count = z.number().int().nonnegative();
const micros = z.number().finite().nonnegative();

export const percentileSchema = z.object({ p: z.number().gt(0).lt(100), valueUs: micros });
export type SockperfPercentile = z.infer<typeof percentileSchema>;

export const runCountersSchema = z.object({
  durationSec: z.number().finite().nonnegative(),
  sentMessages: count,
  receivedMessages: count,
});
export type SockperfRunCounters = z.infer<typeof runCountersSchema>;

/** The spread fields sockperf 3.8+ adds to the average line; null for 3.7 output. */
export const dispersionSchema = z.object({
  meanAdUs: micros,
  medianAdUs: micros,
  siqrUs: micros,
  cv: z.number().finite().nonnegative(),
  stdErrorUs: micros,
  confidenceInterval: z.object({ levelPercent: z.number().gt(0).lt(100), lowUs: micros, highUs: micros }),
});
export type SockperfDispersion = z.infer<typeof dispersionSchema>;

export const latencyResultSchema = z.object({
  kind: z.literal('latency'),
  rttMode: rttModeSchema,
  avgUs: micros,
  stdDevUs: micros,
  dispersion: dispersionSchema.nullable(),
  /** Ascending by p; MIN and MAX are kept apart because they are observations, not percentiles. */
  percentiles: z.array(percentileSchema),
  minUs: micros.nullable(),
  maxUs: micros.nullable(),
  observations: count,
  totalRun: runCountersSchema.extend({ warmupMs: z.number().nonnegative() }).nullable(),
  validDuration: runCountersSchema,
  droppedMessages: count,
  duplicatedMessages: count,
  outOfOrderMessages: count,
});
export type SockperfLatencyResult = z.infer<typeof latencyResultSchema>;

export const throughputResultSchema = z.object({
  kind: z.literal('throughput'),
  messagesSent: count,
  durationSec: z.number().finite().positive(),
  messagesPerSecond: z.number().finite().nonnegative(),
  /** sockperf's "MBps": MiB/s of payload, as printed. */
  payloadMiBps: z.number().finite().nonnegative(),
  /** Payload bits/s derived from the MiB/s figure (1 MiB = 1 048 576 B). */
  payloadBitsPerSecond: z.number().finite().nonnegative(),
  /** sockperf's own "Mbps", which is MiB/s × 8 (mebibits): kept only to show it is not used. */
  printedMbps: z.number().finite().nonnegative().nullable(),
  /** From sockperf's msg-size note when it printed one. */
  messageSizeBytes: z.number().int().positive().nullable(),
});
export type SockperfThroughputResult = z.infer<typeof throughputResultSchema>;

export const fullLogSchema = z.object({
  rttMode: rttModeSchema,
  /** The `--mps=... --msg-size=...` line sockperf writes at the top of the log, when present. */
  parameters: z.string().nullable(),
  /** Per-message latency in µs, in packet order: the raw samples to pool across runs. */
  samplesUs: z.array(micros),
});
export type SockperfFullLog = z.infer<typeof fullLogSchema>;
