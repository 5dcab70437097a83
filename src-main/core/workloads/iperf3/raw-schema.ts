// The parts of iperf3's JSON (3.12 to 3.21, -J and --json-stream) that cnlab reads, as lenient zod schemas:
// every field optional and nullable because versions differ and failed runs leave sections empty.

import { z } from 'zod';

const num = z.number().nullable().optional();
const int = z.number().int().nullable().optional();
const str = z.string().nullable().optional();
// iperf3 writes flags as 0/1 in test_start but as booleans elsewhere.
const flag = z.union([z.boolean(), z.number()]).nullable().optional();

export const rawCountersSchema = z.object({
  socket: int,
  start: num,
  end: num,
  seconds: num,
  bytes: num,
  bits_per_second: num,
  retransmits: num,
  snd_cwnd: num,
  rtt: num,
  packets: num,
  jitter_ms: num,
  lost_packets: num,
  lost_percent: num,
  max_snd_cwnd: num,
  min_rtt: num,
  mean_rtt: num,
  max_rtt: num,
  omitted: flag,
  sender: flag,
});
export type RawCounters = z.infer<typeof rawCountersSchema>;

const rawConnectedSchema = z.object({
  socket: z.number().int(),
  local_host: z.string(),
  local_port: z.number().int(),
  remote_host: z.string(),
  remote_port: z.number().int(),
});

export const rawStartSchema = z.object({
  connected: z.array(rawConnectedSchema).nullable().optional(),
  version: str,
  system_info: str,
  timestamp: z.object({ timesecs: num }).nullable().optional(),
  connecting_to: z.object({ host: z.string(), port: z.number().int() }).nullable().optional(),
  tcp_mss: int,
  tcp_mss_default: int,
  target_bitrate: num,
  test_start: z
    .object({
      protocol: str,
      num_streams: int,
      blksize: int,
      omit: num,
      duration: num,
      reverse: flag,
      bidir: flag,
      target_bitrate: num,
    })
    .nullable()
    .optional(),
});
export type RawStart = z.infer<typeof rawStartSchema>;

export const rawIntervalSchema = z.object({
  streams: z.array(rawCountersSchema).nullable().optional(),
  sum: rawCountersSchema.nullable().optional(),
  sum_bidir_reverse: rawCountersSchema.nullable().optional(),
});
export type RawInterval = z.infer<typeof rawIntervalSchema>;

export const rawEndSchema = z.object({
  streams: z
    .array(
      z.object({
        sender: rawCountersSchema.nullable().optional(),
        receiver: rawCountersSchema.nullable().optional(),
        udp: rawCountersSchema.nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
  sum: rawCountersSchema.nullable().optional(),
  sum_sent: rawCountersSchema.nullable().optional(),
  sum_received: rawCountersSchema.nullable().optional(),
  sum_sent_bidir_reverse: rawCountersSchema.nullable().optional(),
  sum_received_bidir_reverse: rawCountersSchema.nullable().optional(),
  cpu_utilization_percent: z
    .object({
      host_total: num,
      host_user: num,
      host_system: num,
      remote_total: num,
      remote_user: num,
      remote_system: num,
    })
    .nullable()
    .optional(),
  sender_tcp_congestion: str,
  receiver_tcp_congestion: str,
});
export type RawEnd = z.infer<typeof rawEndSchema>;

export const rawDocumentSchema = z.object({
  start: rawStartSchema.nullable().optional(),
  intervals: z.array(rawIntervalSchema).nullable().optional(),
  end: rawEndSchema.nullable().optional(),
  error: str,
});
export type RawDocument = z.infer<typeof rawDocumentSchema>;
