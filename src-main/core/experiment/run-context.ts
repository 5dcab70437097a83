// What one executing run shares with its workloads: the run folder (lines and commands appended in
// batches), events to subscribers, a port allocator per host, tool versions from the probed facts,
// and the per-host samplers (CPU and the lab's link counters) wrapped around each measurement.
import { toCnlabError } from '../errors';
import type { HostService } from '../hosts/host-service';
import { startHostSampler } from '../workloads/host-samplers';
import type { CommandRecord, LiveSample, WorkloadContext } from '../workloads/workload-context';
import type { HostCpu } from './aggregate';
import type { PreflightFinding } from './preflight';
import { SampleBatcher, type RunEvent, type RunEventListener } from './run-events';
import { formatCommandLine, type RunFolder, type RunRecord, type SampleLine } from './run-store';

/** Ports cnlab gives one-off servers on each host; preflight checks none is in use. */
export const PORT_RANGE = { from: 5201, to: 5999 } as const;

/**
 * Each host's next server port, shared by every run of this process and starting at a random place in
 * the range: a run that began again at the range's first port met the previous run's ports still in
 * TIME_WAIT in a namespace they share (the host's, for the baseline and host mode; seen in CI as
 * sockperf's errno 98 on three ports in a row), and separate cnlab processes meet each other less.
 */
const nextPortByHost = new Map<string, number>();

function firstPort(): number {
  return PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from + 1));
}

export class RunContext {
  private pendingLines: SampleLine[] = [];
  private pendingCommands = '';
  private writing: Promise<void> = Promise.resolve();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    readonly folder: RunFolder,
    readonly record: RunRecord,
    private readonly hosts: HostService,
    readonly signal: AbortSignal,
    private readonly listener: RunEventListener | undefined,
  ) {
    this.flushTimer = setInterval(() => void this.flush(), 1000);
  }

  emit(event: RunEvent): void {
    try {
      this.listener?.(event);
    } catch {
      // A subscriber's bug must not stop a measurement.
    }
  }

  /** Keeps a warning in the run (once) and tells subscribers. */
  warn(finding: PreflightFinding): void {
    if (this.record.warnings.some((known) => known.message === finding.message)) return;
    this.record.warnings.push(finding);
    this.emit({ type: 'warning', runId: this.record.runId, message: finding.message, fix: finding.fix });
  }

  allocatePort(host: string): number {
    const port = nextPortByHost.get(host) ?? firstPort();
    nextPortByHost.set(host, port >= PORT_RANGE.to ? PORT_RANGE.from : port + 1);
    return port;
  }

  workloadContext(key: string, signal: AbortSignal = this.signal): WorkloadContext {
    const batcher = new SampleBatcher((samples) => this.emit({ type: 'samples', runId: this.record.runId, key, samples }));
    return {
      executor: (host) => this.hosts.executor(host),
      signal,
      logCommand: (command: CommandRecord) => {
        this.pendingCommands += formatCommandLine(command, key);
      },
      sample: (sample: LiveSample) => {
        batcher.push(sample);
        this.pendingLines.push({ type: 'live', key, ...sample });
      },
      saveRaw: (name, text) => this.folder.saveRaw(`${key}-${name}`, text),
      allocatePort: (host) => this.allocatePort(host),
      toolVersion: (host, tool) => this.record.hostFacts[host]?.tools[tool] ?? null,
    };
  }

  /** Stores a finished run's line (after the live lines before it) and writes everything out now. */
  async append(line: SampleLine): Promise<void> {
    this.pendingLines.push(line);
    await this.flush();
  }

  async saveRecord(): Promise<void> {
    this.record.updatedAt = new Date().toISOString();
    await this.folder.saveRecord(this.record);
  }

  /** Runs `body` with a sampler on each distinct host; the CPU of each host during it comes back too. */
  async withHostSamplers<T>(hostNames: readonly string[], interfacePrefixes: readonly string[], key: string, body: () => Promise<T>): Promise<{ value: T; cpu: Record<string, HostCpu> }> {
    if (!this.record.experiment.sampleHosts) return { value: await body(), cpu: {} };
    const ctx = this.workloadContext(key);
    const samplers = [...new Set(hostNames)].map((host) => ({ host, sampler: startHostSampler(ctx, host, { interfacePrefixes: [...interfacePrefixes] }) }));
    // Stopped on every path, so no sampler loop outlives its run.
    const stopAll = () => Promise.all(samplers.map(async ({ host, sampler }) => [host, await sampler.stop().catch(() => null)] as const));
    let value: T;
    try {
      value = await body();
    } catch (error) {
      await stopAll();
      throw error;
    }
    const cpu: Record<string, HostCpu> = {};
    for (const [host, summary] of await stopAll()) if (summary) cpu[host] = { busyPercent: summary.averageBusyPercent, busyCpuSeconds: summary.busyCpuSeconds };
    return { value, cpu };
  }

  async flush(): Promise<void> {
    const lines = this.pendingLines;
    const commands = this.pendingCommands;
    this.pendingLines = [];
    this.pendingCommands = '';
    this.writing = this.writing.then(async () => {
      await this.folder.appendCommands(commands);
      await this.folder.appendSamples(lines);
    });
    try {
      await this.writing;
    } catch (error) {
      this.writing = Promise.resolve();
      throw toCnlabError(error, `cannot write to run folder ${this.folder.dir}`);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flush();
    await this.saveRecord();
  }
}
