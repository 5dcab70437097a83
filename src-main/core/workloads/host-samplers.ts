// Per-host sampler for the length of a run: one shell loop per host prints /proc/uptime, /proc/stat and
// /proc/net/dev once a second; deltas become the host's CPU busy %, per-CPU softirq % and the lab links'
// byte/packet rates, live (ctx.sample) and as a summary for CPU service demand.
import { CnlabError } from '../errors';
import { runAt, startAt, type BackgroundCommand } from './run-command';
import type { WorkloadContext } from './workload-context';

/** Ends one snapshot in the loop's output. */
export const TICK = '@@tick';

/**
 * One `cat` of the three files and one `sleep` per second: two forks, about 2 ms of CPU a second
 * (0.2% of a core measured here), and the sections are told apart by their content, not by extra commands.
 */
export const SAMPLER_LOOP = `while :; do cat /proc/uptime /proc/stat /proc/net/dev; echo ${TICK}; sleep 1; done`;
const SNAPSHOT_ONCE = 'cat /proc/uptime /proc/stat /proc/net/dev';

/** Jiffies of one CPU line (or the all-CPU `cpu` line), reduced to what the deltas need. */
export interface CpuTimes {
  /** user + nice + system + irq + softirq: time the host spent working (guest time is inside user/nice). */
  busy: number;
  softirq: number;
  /** Every state except guest (counted in user): busy + idle + iowait + steal. */
  total: number;
}

export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export interface Snapshot {
  /** Seconds since boot (/proc/uptime), the clock of the deltas. */
  uptime: number;
  all: CpuTimes;
  /** cpu0, cpu1, … */
  cpus: Map<string, CpuTimes>;
  interfaces: Map<string, InterfaceCounters>;
}

const UPTIME_LINE = /^(\d+(?:\.\d+)?)\s+\d+(?:\.\d+)?$/;
const CPU_LINE = /^(cpu\d*)\s+(.*)$/;

/** The `cpu`/`cpuN` lines of /proc/stat; other lines (intr, ctxt, …) are ignored. */
export function parseProcStat(text: string): { all: CpuTimes | null; cpus: Map<string, CpuTimes> } {
  let all: CpuTimes | null = null;
  const cpus = new Map<string, CpuTimes>();
  for (const line of text.split('\n')) {
    const match = CPU_LINE.exec(line.trim());
    if (!match) continue;
    const times = cpuTimes((match[2] ?? '').split(/\s+/).map(Number));
    if (!times) continue;
    if (match[1] === 'cpu') all = times;
    else cpus.set(match[1] ?? '', times);
  }
  return { all, cpus };
}

function cpuTimes(fields: readonly number[]): CpuTimes | null {
  // user nice system idle iowait irq softirq steal [guest guest_nice]; kernels before 2.6.11 had fewer.
  if (fields.length < 7 || fields.some((value) => !Number.isFinite(value))) return null;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq;
  return { busy, softirq, total: busy + idle + iowait + steal };
}

/** Interface lines of /proc/net/dev (`name: rxBytes rxPackets … txBytes txPackets …`). */
export function parseProcNetDev(text: string): Map<string, InterfaceCounters> {
  const interfaces = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    // The two header lines have no colon; a 15-character name touches its first number ("c0a1b…001:1084").
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (!name || fields.length < 16 || fields.some((value) => !Number.isFinite(value))) continue;
    interfaces.set(name, { rxBytes: fields[0] ?? 0, rxPackets: fields[1] ?? 0, txBytes: fields[8] ?? 0, txPackets: fields[9] ?? 0 });
  }
  return interfaces;
}

/** One snapshot from the loop's lines between two ticks, or null when a section is missing (a cut-off first read). */
export function parseSnapshot(text: string): Snapshot | null {
  const lines = text.split('\n');
  const uptimeLine = lines.map((line) => UPTIME_LINE.exec(line.trim())).find((match) => match !== null);
  const stat = parseProcStat(text);
  if (!uptimeLine || !stat.all) return null;
  return { uptime: Number(uptimeLine[1]), all: stat.all, cpus: stat.cpus, interfaces: parseProcNetDev(text) };
}

export interface InterfaceRates {
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  rxPacketsPerSecond: number;
  txPacketsPerSecond: number;
}

/** What changed between two snapshots. */
export interface SampleInterval {
  seconds: number;
  /** Share of all CPUs that was busy, 0–100. */
  busyPercent: number;
  /** CPU time spent busy, summed over CPUs. */
  busyCpuSeconds: number;
  softirqPercentByCpu: Record<string, number>;
  interfaces: Record<string, InterfaceRates & { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>;
}

const share = (part: number, whole: number): number => (whole > 0 ? Math.min(100, Math.max(0, (100 * part) / whole)) : 0);

/** Deltas between two snapshots; null when the clock did not move (same snapshot twice). */
export function diffSnapshots(previous: Snapshot, next: Snapshot, interfacePrefixes: readonly string[]): SampleInterval | null {
  const seconds = next.uptime - previous.uptime;
  const total = next.all.total - previous.all.total;
  if (seconds <= 0 || total <= 0) return null;
  const busyShare = share(next.all.busy - previous.all.busy, total);
  const softirqPercentByCpu: Record<string, number> = {};
  for (const [cpu, times] of next.cpus) {
    const before = previous.cpus.get(cpu);
    if (before) softirqPercentByCpu[cpu] = share(times.softirq - before.softirq, times.total - before.total);
  }
  return { seconds, busyPercent: busyShare, busyCpuSeconds: (busyShare / 100) * next.cpus.size * seconds, softirqPercentByCpu, interfaces: interfaceDeltas(previous, next, seconds, interfacePrefixes) };
}

function interfaceDeltas(previous: Snapshot, next: Snapshot, seconds: number, prefixes: readonly string[]): SampleInterval['interfaces'] {
  const result: SampleInterval['interfaces'] = {};
  for (const [name, after] of next.interfaces) {
    const before = previous.interfaces.get(name);
    if (!before || !prefixes.some((prefix) => name.startsWith(prefix))) continue;
    const delta = { rxBytes: after.rxBytes - before.rxBytes, txBytes: after.txBytes - before.txBytes, rxPackets: after.rxPackets - before.rxPackets, txPackets: after.txPackets - before.txPackets };
    // A link deleted and re-created under the same name restarts its counters: that interval means nothing.
    if (Object.values(delta).some((value) => value < 0)) continue;
    result[name] = {
      ...delta,
      rxBytesPerSecond: delta.rxBytes / seconds,
      txBytesPerSecond: delta.txBytes / seconds,
      rxPacketsPerSecond: delta.rxPackets / seconds,
      txPacketsPerSecond: delta.txPackets / seconds,
    };
  }
  return result;
}

export interface HostSamplerSummary {
  host: string;
  /** Seconds covered by the deltas. */
  seconds: number;
  intervals: number;
  /** Time-weighted average busy share of all CPUs, 0–100. */
  averageBusyPercent: number;
  /** Busy CPU time over the run, summed over CPUs: the numerator of service demand. */
  busyCpuSeconds: number;
  /** Time-weighted average softirq share of each CPU, 0–100. */
  softirqPercentByCpu: Record<string, number>;
  /** Bytes and packets each matching interface moved during the run, and their average rates. */
  interfaces: Record<string, InterfaceRates & { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>;
}

/** The run's summary from its intervals; null when there was none (the run was shorter than two snapshots). */
export function summarize(host: string, intervals: readonly SampleInterval[]): HostSamplerSummary | null {
  const seconds = intervals.reduce((sum, interval) => sum + interval.seconds, 0);
  if (intervals.length === 0 || seconds <= 0) return null;
  const weighted = (value: (interval: SampleInterval) => number | undefined): number =>
    intervals.reduce((sum, interval) => sum + (value(interval) ?? 0) * interval.seconds, 0) / seconds;
  const cpus = [...new Set(intervals.flatMap((interval) => Object.keys(interval.softirqPercentByCpu)))];
  const names = [...new Set(intervals.flatMap((interval) => Object.keys(interval.interfaces)))];
  return {
    host,
    seconds,
    intervals: intervals.length,
    averageBusyPercent: weighted((interval) => interval.busyPercent),
    busyCpuSeconds: intervals.reduce((sum, interval) => sum + interval.busyCpuSeconds, 0),
    softirqPercentByCpu: Object.fromEntries(cpus.map((cpu) => [cpu, weighted((interval) => interval.softirqPercentByCpu[cpu])])),
    interfaces: Object.fromEntries(names.map((name) => [name, interfaceTotals(intervals, name, seconds)])),
  };
}

function interfaceTotals(intervals: readonly SampleInterval[], name: string, seconds: number): HostSamplerSummary['interfaces'][string] {
  const sum = (key: 'rxBytes' | 'txBytes' | 'rxPackets' | 'txPackets'): number => intervals.reduce((total, interval) => total + (interval.interfaces[name]?.[key] ?? 0), 0);
  const totals = { rxBytes: sum('rxBytes'), txBytes: sum('txBytes'), rxPackets: sum('rxPackets'), txPackets: sum('txPackets') };
  return { ...totals, rxBytesPerSecond: totals.rxBytes / seconds, txBytesPerSecond: totals.txBytes / seconds, rxPacketsPerSecond: totals.rxPackets / seconds, txPacketsPerSecond: totals.txPackets / seconds };
}

/** Live samples of one interval: t is seconds since the sampler's first snapshot. */
export function intervalSamples(interval: SampleInterval, t: number, source: string): { t: number; metric: string; value: number; source: string }[] {
  const samples = [{ t, metric: 'cpuPercent', value: interval.busyPercent, source }];
  for (const [cpu, value] of Object.entries(interval.softirqPercentByCpu)) samples.push({ t, metric: 'softirqPercent', value, source: `${source}/${cpu}` });
  for (const [name, rates] of Object.entries(interval.interfaces)) {
    for (const metric of ['rxBytesPerSecond', 'txBytesPerSecond', 'rxPacketsPerSecond', 'txPacketsPerSecond'] as const) samples.push({ t, metric, value: rates[metric], source: `${source}/${name}` });
  }
  return samples;
}

/** Cuts the loop's output into snapshots at each tick. */
export class SnapshotReader {
  private lines: string[] = [];

  /** Feeds one line; returns the snapshot it completes, if any. */
  push(line: string): Snapshot | null {
    if (line.trim() !== TICK) {
      this.lines.push(line);
      return null;
    }
    const text = this.lines.join('\n');
    this.lines = [];
    return parseSnapshot(text);
  }
}

export interface HostSamplerOptions {
  /** Interfaces whose names start with one of these are counted (the lab's host-side links). */
  interfacePrefixes: readonly string[];
  /** Source of the samples (default: the host's name). */
  label?: string;
}

export interface HostSampler {
  /** Ends the loop (its process group), takes a last snapshot so short runs are covered to the end, and summarizes. */
  stop(): Promise<HostSamplerSummary>;
}

const LAST_SNAPSHOT_TIMEOUT_MS = 10_000;

class RunningSampler implements HostSampler {
  private readonly reader = new SnapshotReader();
  private first: Snapshot | null = null;
  private last: Snapshot | null = null;
  private readonly intervals: SampleInterval[] = [];
  private readonly loop: BackgroundCommand;
  private readonly source: string;

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly host: string,
    private readonly options: HostSamplerOptions,
  ) {
    this.source = options.label ?? host;
    // The loop runs on the host itself: its /proc/net/dev holds the lab's host-side links.
    this.loop = startAt(ctx, { host, netns: null }, ['sh', '-c', SAMPLER_LOOP], { onStdoutLine: (line) => this.onLine(line) });
  }

  async stop(): Promise<HostSamplerSummary> {
    await this.loop.stop();
    const outcome = await this.loop.done;
    if (!this.ctx.signal.aborted) await this.takeLastSnapshot();
    const summary = summarize(this.host, this.intervals);
    if (summary) return summary;
    const reason = outcome instanceof CnlabError ? outcome.message : `the sampler loop ended with exit code ${String(outcome.code)}: ${outcome.stderr.trim().split('\n').slice(-1).join('')}`;
    throw new CnlabError('workload-failed', `host ${this.host}: no CPU/link samples were taken (${reason})`, { host: this.host });
  }

  private onLine(line: string): void {
    const snapshot = this.reader.push(line);
    if (snapshot) this.add(snapshot);
  }

  private add(snapshot: Snapshot): void {
    this.first ??= snapshot;
    const interval = this.last ? diffSnapshots(this.last, snapshot, this.options.interfacePrefixes) : null;
    this.last = snapshot;
    if (!interval) return;
    this.intervals.push(interval);
    for (const sample of intervalSamples(interval, snapshot.uptime - this.first.uptime, this.source)) this.ctx.sample(sample);
  }

  private async takeLastSnapshot(): Promise<void> {
    if (!this.last) return;
    try {
      const result = await runAt(this.ctx, { host: this.host, netns: null }, ['sh', '-c', SNAPSHOT_ONCE], { timeoutMs: LAST_SNAPSHOT_TIMEOUT_MS });
      const snapshot = parseSnapshot(result.stdout);
      if (snapshot) this.add(snapshot);
    } catch {
      // The summary then ends at the loop's last tick, at most a second early.
    }
  }
}

/** Starts sampling `host` now; stop() ends it. */
export function startHostSampler(ctx: WorkloadContext, host: string, options: HostSamplerOptions): HostSampler {
  return new RunningSampler(ctx, host, options);
}
