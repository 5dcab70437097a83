// Typed, zod-validated result of an iputils ping run: counts, loss, summary RTT statistics in ms and the
// per-reply RTT samples (empty with -q, where only the summary exists).

import { z } from 'zod';

const count = z.number().int().nonnegative();
const millis = z.number().finite().nonnegative();

export const pingReplySchema = z.object({
  seq: count,
  from: z.string().min(1),
  ttl: count.nullable(),
  timeMs: millis,
  /** `(DUP!)`: a second answer to the same request, not another round trip. */
  duplicate: z.boolean(),
});
export type PingReply = z.infer<typeof pingReplySchema>;

/** `From X icmp_seq=N Destination ... Unreachable`: counted by ping as an error, not a reply. */
export const pingErrorReplySchema = z.object({ seq: count, from: z.string().min(1), message: z.string().min(1) });
export type PingErrorReply = z.infer<typeof pingErrorReplySchema>;

export const pingRttSchema = z.object({ minMs: millis, avgMs: millis, maxMs: millis, mdevMs: millis.nullable() });
export type PingRtt = z.infer<typeof pingRttSchema>;

export const pingResultSchema = z.object({
  target: z.string().nullable(),
  transmitted: count,
  received: count,
  duplicates: count,
  errors: count,
  lossPercent: z.number().min(0).max(100),
  elapsedMs: millis.nullable(),
  /** Null when nothing answered: ping prints no rtt line then. */
  rtt: pingRttSchema.nullable(),
  replies: z.array(pingReplySchema),
  errorReplies: z.array(pingErrorReplySchema),
  /** RTTs of the non-duplicate replies in order, in ms: the raw samples to pool. */
  samplesMs: z.array(millis),
});
export type PingResult = z.infer<typeof pingResultSchema>;
