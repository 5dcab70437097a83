// Parameters of each workload as an experiment file gives them (one zod schema per tool). Axes of an
// experiment vary these fields; every value reaches a command line as an argv element, never raw shell.
import { z } from 'zod';

/** Sizes as iperf3 writes them: bytes, or with K/M suffix (binary, like iperf3), e.g. 128K. */
const SIZE = /^(\d{1,9})([KMG]?)$/;
export const sizeSchema = z.union([z.number().int().min(1).max(1 << 30), z.string().regex(SIZE, 'a size is a byte count such as 1400, "64K" or "1M"')]);

export function sizeBytes(size: number | string): number {
  if (typeof size === 'number') return size;
  const match = SIZE.exec(size);
  if (!match) throw new Error(`not a size: ${size}`);
  return Number(match[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const)[match[2] as '' | 'K' | 'M' | 'G'];
}

const seconds = (max: number) => z.number().int().min(1).max(max);
/** UDP target rate as iperf3 takes it: bits per second with K/M/G suffix (decimal), 0 = unlimited. */
const bitrate = z.union([z.literal(0), z.string().regex(/^\d{1,6}(?:\.\d{1,3})?[KMG]?$/, 'a bitrate looks like "100M", "1.5G" or 0 (unlimited)')]);

export const iperf3ParamsSchema = z
  .object({
    tool: z.literal('iperf3'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    /** Measured seconds (after omit). */
    duration: seconds(3600).default(10),
    /** Warm-up seconds iperf3 discards (-O). */
    omit: z.number().int().min(0).max(60).default(0),
    /** Block (TCP) or datagram (UDP) size, -l. */
    blockSize: sizeSchema.optional(),
    /** Parallel streams, -P. */
    parallel: z.number().int().min(1).max(128).default(1),
    /** Server sends, client receives (-R). */
    reverse: z.boolean().default(false),
    /** UDP target bitrate (-b); iperf3's own default is only 1 Mbit/s, so cnlab asks for 1G unless told. */
    bitrate: bitrate.optional(),
  })
  .strict();

export const sockperfParamsSchema = z
  .object({
    tool: z.literal('sockperf'),
    test: z.enum(['ping-pong', 'throughput']).default('ping-pong'),
    protocol: z.enum(['udp', 'tcp']).default('udp'),
    duration: seconds(3600).default(10),
    /** Message size in bytes (-m). */
    messageSize: z.number().int().min(12).max(65000).default(64),
    /** Report the full round trip instead of half of it (--full-rtt; sockperf ≥ 3.8 only prints it when asked). */
    fullRtt: z.boolean().default(false),
    /** ping-pong: keep every sample (--full-log) so percentiles are pooled across runs. */
    fullLog: z.boolean().default(true),
  })
  .strict();

export const netperfParamsSchema = z
  .object({
    tool: z.literal('netperf'),
    test: z.enum(['TCP_STREAM', 'TCP_RR', 'UDP_RR']).default('TCP_STREAM'),
    duration: seconds(3600).default(10),
    /** Send size (stream) or request/response size (RR), bytes. */
    messageSize: z.number().int().min(1).max(65000).optional(),
  })
  .strict();

export const pingParamsSchema = z
  .object({
    tool: z.literal('ping'),
    count: z.number().int().min(1).max(100_000).default(20),
    /** Seconds between pings (≥ 0.2 without root; cnlab runs privileged but keeps it polite). */
    interval: z.number().min(0.01).max(10).default(0.2),
    /** ICMP payload bytes (-s). */
    size: z.number().int().min(0).max(65000).default(56),
  })
  .strict();

export const launchParamsSchema = z
  .object({
    tool: z.literal('launch'),
    /** Containers created per run, one after the other on the server host; each is one sample. */
    containers: z.number().int().min(1).max(200).default(1),
    /**
     * Multi-host modes: also measure when the new container becomes reachable from a peer container on
     * the client host (control-plane convergence), by a prober on that host timing only with its own clock;
     * with etcd or BGP also after a restart of that host's route daemon (peerDaemonRestartMs).
     */
    fromPeer: z.boolean().default(false),
  })
  .strict();

export const workloadSchema = z.discriminatedUnion('tool', [iperf3ParamsSchema, sockperfParamsSchema, netperfParamsSchema, pingParamsSchema, launchParamsSchema]);

export type Iperf3Params = z.infer<typeof iperf3ParamsSchema>;
export type SockperfParams = z.infer<typeof sockperfParamsSchema>;
export type NetperfParams = z.infer<typeof netperfParamsSchema>;
export type PingParams = z.infer<typeof pingParamsSchema>;
export type LaunchParams = z.infer<typeof launchParamsSchema>;
export type WorkloadParams = z.infer<typeof workloadSchema>;
export type WorkloadTool = WorkloadParams['tool'];

/** The metric a cell's table shows first, per tool and test. */
export function primaryMetric(params: WorkloadParams): { name: string; unit: string; higherIsBetter: boolean } {
  switch (params.tool) {
    case 'iperf3':
      return { name: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true };
    case 'sockperf':
      return params.test === 'ping-pong' ? { name: 'latencyMeanUs', unit: 'µs', higherIsBetter: false } : { name: 'messagesPerSecond', unit: 'msg/s', higherIsBetter: true };
    case 'netperf':
      return params.test === 'TCP_STREAM' ? { name: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true } : { name: 'transactionsPerSecond', unit: 'trans/s', higherIsBetter: true };
    case 'ping':
      return { name: 'rttAvgMs', unit: 'ms', higherIsBetter: false };
    case 'launch':
      return { name: 'launchMs', unit: 'ms', higherIsBetter: false };
  }
}

/** Programs a workload needs on the client and server hosts (preflight checks them). */
export function requiredTools(params: WorkloadParams): string[] {
  switch (params.tool) {
    case 'iperf3':
      return ['iperf3'];
    case 'sockperf':
      return ['sockperf'];
    case 'netperf':
      return ['netperf', 'netserver'];
    case 'ping':
      return ['ping'];
    case 'launch':
      return ['ping'];
  }
}
