// Typed, zod-validated result of a netperf omni run read from its `-k` key=value output: throughput in
// bits/s or transactions/s (never both), latency in µs, CPU in %, and null for anything netperf did not measure.

import { z } from 'zod';

export const netperfTestSchema = z.enum(['TCP_STREAM', 'TCP_RR', 'UDP_RR']);
export type NetperfTest = z.infer<typeof netperfTestSchema>;

const measured = z.number().finite().nonnegative().nullable();

export const netperfResultSchema = z.object({
  test: netperfTestSchema,
  throughput: z.object({
    value: z.number().finite().nonnegative(),
    /** THROUGHPUT_UNITS as netperf printed it, e.g. `10^6bits/s` or `Trans/s`. */
    units: z.string().min(1),
    bitsPerSecond: measured,
    transactionsPerSecond: measured,
  }),
  latencyUs: z.object({ mean: measured, p50: measured, p90: measured, p99: measured }),
  cpuPercent: z.object({ local: measured, remote: measured }),
  serviceDemand: z.object({ local: measured, remote: measured, units: z.string().nullable() }),
  /** Every key=value line as printed, for keys cnlab does not type. */
  fields: z.record(z.string(), z.string()),
});
export type NetperfResult = z.infer<typeof netperfResultSchema>;
