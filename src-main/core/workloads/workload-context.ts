// The contract between the experiment runner and the workload executors: where each end of a
// measurement runs, how commands reach hosts (always logged, always cancellable) and what a run
// returns. Executors (iperf3, sockperf, netperf, ping, launch) speak only this interface.
import type { HostExecutor } from '../exec/executor';

/** One end of a measurement: a container of an applied lab, or a host itself ("w/o container" baseline). */
export interface Endpoint {
  /** Container name, or the host's name for the baseline. */
  name: string;
  /** Inventory host it runs on. */
  host: string;
  /** Network namespace to run in; null runs on the host itself (baseline, host mode). */
  netns: string | null;
  /** The address peers reach this endpoint at (no prefix length). */
  address: string;
}

/** One command a workload ran on a host: commands.log keeps them all, failed or not. */
export interface CommandRecord {
  host: string;
  command: string;
  /** null when it ended by a signal or could not run (then `error` says why). */
  exitCode: number | null;
  durationMs: number;
  startedAt: string;
  error?: string;
  /** Stopped on purpose once it was no longer needed (a server or sampler at the end of its run). */
  stopped?: true;
}

/** A per-second live value of a running measurement (throughput, retransmits, latency, CPU, link counters). */
export interface LiveSample {
  /** Seconds since the measurement started. */
  t: number;
  /** What it is, e.g. "throughputBitsPerSecond", "retransmits", "cpuPercent", "rxBytesPerSecond". */
  metric: string;
  value: number;
  /** Host, endpoint or interface the value belongs to, e.g. "client", "h1", "h1/cab12v0123456789". */
  source: string;
}

export interface WorkloadContext {
  /** The executor of an inventory host (pooled connection). */
  executor(host: string): HostExecutor;
  /** Aborted when the user cancels; every command must stop (process group killed) when it fires. */
  readonly signal: AbortSignal;
  /** Appends to commands.log; every command run on a host goes through it (see run-command.ts). */
  logCommand(record: CommandRecord): void;
  /** Live per-second values, to subscribers (throttled by the runner) and to samples.jsonl. */
  sample(sample: LiveSample): void;
  /** Keeps a raw tool output with the run (raw/<run key>-<name>); the parsed values come from it. */
  saveRaw(name: string, text: string): Promise<void>;
  /** A TCP/UDP port on `host` that no other measurement of this experiment uses right now. */
  allocatePort(host: string): number;
  /** A tool's version on a host from its probed facts ("3.12"), or null when unknown or missing. */
  toolVersion(host: string, tool: 'iperf3' | 'sockperf' | 'netperf'): string | null;
}

/** What one measured run yields. */
export interface Measurement {
  /** One value per metric for this run, in the units its name says (…BitsPerSecond, …Us, …Ms, …Percent). */
  metrics: Record<string, number>;
  /** Raw per-sample values (sockperf --full-log latencies, iperf3 intervals) pooled for percentiles across runs. */
  rawSamples?: Record<string, number[]>;
  /** What the numbers are worth knowing about (e.g. "iperf3 omitted 1 s of warm-up"). */
  notes?: string[];
}

/** The two ends of one measured pair: the client starts the transfer, the server answers. */
export interface PairRun<P> {
  params: P;
  client: Endpoint;
  server: Endpoint;
}

/**
 * Runs one measurement of a pair and parses it. Contract: starts its own one-off server on a port from
 * ctx.allocatePort, stops every process it started before returning or throwing (also on cancel),
 * throws a CnlabError naming the host and the reason when the tool fails (never hangs: every wait is
 * bounded by the duration plus a margin), and puts `bytes` (payload bytes moved) or `transactions`
 * in the metrics when the tool reports them, so the runner can compute CPU service demand.
 */
export type PairWorkload<P> = (ctx: WorkloadContext, run: PairRun<P>) => Promise<Measurement>;
