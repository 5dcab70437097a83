// The Topology requests of the LabApi: check and preview topology text, and apply / verify / tear down /
// sweep as jobs whose step events become per-container states for the live diagram.
import { stringify } from 'yaml';
import { CnlabError, toCnlabError } from '../core/errors';
import { journalContext } from '../core/exec/command-journal';
import type { HostFacts } from '../core/hosts/host-facts';
import type { LabEvent, StepTiming } from '../core/topology/lab-runtime';
import type { LabRecord } from '../core/topology/lab-store';
import type { LabPlan } from '../core/topology/plan';
import { planLab } from '../core/topology/planner';
import { parseTopologyText, type TopologySpec } from '../core/topology/topology-schema';
import type { ContainerTiming, JobRef, JobResult, LabDetails, LabSummary, TopologyCheck, TopologyPreview } from '../contract/lab-api';
import type { JobHandle, JobRegistry } from './job-registry';
import type { WorkspaceSession } from './workspace-session';

/** Per-container phases from an apply's step timings, in the order they ran. */
export function containerTimings(timings: readonly StepTiming[]): ContainerTiming[] {
  const byContainer = new Map<string, ContainerTiming>();
  for (const timing of timings) {
    if (!timing.container || !timing.phase) continue;
    const entry = byContainer.get(timing.container) ?? { container: timing.container, host: timing.host, phases: [] };
    entry.phases.push({ phase: timing.phase, durationMs: timing.durationMs });
    byContainer.set(timing.container, entry);
  }
  return [...byContainer.values()];
}

/** Problems as lines: a refusal lists one per line (planner), a parse error its issues. */
function problemsOf(error: CnlabError): string[] {
  const listed = error.details.problems;
  return Array.isArray(listed) ? listed.map(String) : error.message.split('\n');
}

function summaryOf(record: LabRecord): LabSummary {
  return { labId: record.labId, appliedAt: record.appliedAt, hosts: record.hosts, containerCount: record.containers.length };
}

/**
 * Follows one apply: the last step of each container on its host marks it up; a host that reports
 * applied marks all of its containers up (host-level steps after theirs, such as routes, count too).
 */
class ApplyTracker {
  private readonly lastStep = new Map<string, string>();
  private readonly containersOfHost = new Map<string, string[]>();
  private readonly started = new Set<string>();
  private readonly up = new Set<string>();
  private total = 0;
  private done = 0;

  constructor(
    private readonly job: JobHandle,
    private readonly labId: string,
  ) {}

  planned(plan: LabPlan): void {
    for (const hostPlan of plan.hosts) {
      this.total += hostPlan.steps.length;
      for (const step of hostPlan.steps) if (step.container) this.lastStep.set(`${hostPlan.host}\0${step.container}`, step.id);
    }
    for (const container of plan.containers) {
      this.containersOfHost.set(container.host, [...(this.containersOfHost.get(container.host) ?? []), container.name]);
    }
    this.job.progress(0, this.total, `applying ${plan.containers.length} containers on ${plan.hosts.length} hosts`);
  }

  event(event: LabEvent): void {
    if (event.type === 'host') {
      this.job.emit({ type: 'host-apply-state', jobId: this.job.jobId, labId: this.labId, host: event.host, status: event.status });
      if (event.status === 'applied') for (const container of this.containersOfHost.get(event.host) ?? []) this.state(container, event.host, 'up');
      return;
    }
    this.done += 1;
    this.job.progress(this.done, this.total, event.container ? `${event.host}: ${event.container} ${event.phase ?? ''}`.trim() : `${event.host}: ${event.stepId}`);
    if (!event.container) return;
    const last = this.lastStep.get(`${event.host}\0${event.container}`) === event.stepId;
    if (last) this.state(event.container, event.host, 'up', event.phase ?? undefined, event.durationMs ?? undefined);
    else if (!this.started.has(event.container)) this.state(event.container, event.host, 'applying', event.phase ?? undefined);
  }

  /** After a failure every container is gone (rolled back) or never came up. */
  failed(): void {
    for (const [host, containers] of this.containersOfHost) for (const container of containers) this.state(container, host, 'failed');
  }

  private state(container: string, host: string, state: 'applying' | 'up' | 'failed', phase?: string, durationMs?: number): void {
    if (state === 'applying') this.started.add(container);
    if (state === 'up') {
      if (this.up.has(container)) return;
      this.up.add(container);
    }
    this.job.emit({ type: 'container-state', jobId: this.job.jobId, labId: this.labId, container, host, state, ...(phase ? { phase } : {}), ...(durationMs !== undefined ? { durationMs } : {}) });
  }
}

export class TopologyArea {
  /** Labs with a job running (apply, verify, teardown): a second job on the same lab would race the first. */
  private readonly busy = new Map<string, string>();

  constructor(
    private readonly session: () => WorkspaceSession,
    private readonly jobs: JobRegistry,
  ) {}

  /** Runs a lab job unless the lab already has one; the lab is free again when the job ends, however it ends. */
  private labJob(labId: string, kind: 'apply' | 'verify' | 'teardown', title: string, work: (job: JobHandle) => Promise<JobResult>): JobRef {
    const running = this.busy.get(labId);
    if (running) throw new CnlabError('invalid-input', `lab ${labId} is busy (${running} running): wait for it to finish or cancel it first`);
    this.busy.set(labId, kind);
    return this.jobs.start(kind, title, async (job) => {
      try {
        return await work(job);
      } finally {
        this.busy.delete(labId);
      }
    });
  }

  private parse(text: string): TopologySpec {
    return parseTopologyText(text, 'topology');
  }

  /** Checks text against the hosts' cached facts only: never connects, so it can run on every edit. */
  async check(text: string): Promise<TopologyCheck> {
    let spec: TopologySpec;
    try {
      spec = this.parse(text);
    } catch (error) {
      return { problems: problemsOf(toCnlabError(error)), labId: null };
    }
    const { hosts, labs } = this.session();
    const problems: string[] = [];
    const facts: Record<string, HostFacts> = {};
    const managementAddress: Record<string, string> = {};
    for (const name of spec.hosts) {
      if (!hosts.inventory.find(name)) {
        problems.push(`host ${name} is not in the inventory: add it on the Hosts tab`);
        continue;
      }
      const cached = await hosts.facts.load(name).catch(() => null);
      if (!cached) {
        problems.push(`host ${name} has not been probed yet: probe it on the Hosts tab so cnlab knows what it supports`);
        continue;
      }
      facts[name] = cached;
      try {
        managementAddress[name] = labs.managementAddress(name, cached);
      } catch (error) {
        problems.push(toCnlabError(error).message);
      }
    }
    if (problems.length > 0) return { problems, labId: spec.name };
    try {
      planLab(spec, { facts, managementAddress });
      return { problems: [], labId: spec.name };
    } catch (error) {
      return { problems: problemsOf(toCnlabError(error)), labId: spec.name };
    }
  }

  async preview(text: string): Promise<TopologyPreview> {
    const { labs } = this.session();
    const plan = await labs.plan(this.parse(text));
    return { labId: plan.labId, fingerprint: plan.fingerprint, scripts: labs.previewScripts(plan), containers: plan.containers, expectations: plan.expectations };
  }

  apply(text: string): JobRef {
    const spec = this.parse(text);
    const { labs } = this.session();
    return this.labJob(spec.name, 'apply', `Apply ${spec.name}`, (job) => {
      const tracker = new ApplyTracker(job, spec.name);
      return journalContext.run({ lab: spec.name }, async () => {
        try {
          const applied = await labs.apply(spec, { timings: true, signal: job.signal, onPlan: (plan) => tracker.planned(plan), onEvent: (event) => tracker.event(event) });
          return {
            kind: 'apply' as const,
            labId: applied.record.labId,
            status: applied.status,
            containers: applied.record.containers,
            timings: containerTimings(applied.record.timings),
            hostDurationsMs: applied.hostDurationsMs,
          };
        } catch (error) {
          tracker.failed();
          throw error;
        }
      });
    });
  }

  verify(labId: string): JobRef {
    const { labs } = this.session();
    return this.labJob(labId, 'verify', `Verify ${labId}`, (job) =>
      journalContext.run({ lab: labId }, async () => {
        job.progress(0, 1, 'pinging every expected pair on the hosts');
        const cells = await labs.verify(labId);
        job.progress(1, 1, `${cells.filter((cell) => cell.ok).length}/${cells.length} pairs as expected`);
        return { kind: 'verify' as const, labId, cells };
      }),
    );
  }

  teardown(labId: string): JobRef {
    const { labs } = this.session();
    return this.labJob(labId, 'teardown', `Tear down ${labId}`, (job) =>
      journalContext.run({ lab: labId }, async () => {
        const record = await labs.store.find(labId);
        job.progress(0, 1, `removing ${labId} from its hosts' ledgers`);
        const hosts = await labs.teardown(labId);
        job.progress(1, 1, 'torn down');
        const clean = hosts.every((host) => !host.error && host.leftovers.length === 0);
        if (clean && record) {
          for (const container of record.containers) job.emit({ type: 'container-state', jobId: job.jobId, labId, container: container.name, host: container.host, state: 'removed' });
        }
        return { kind: 'teardown' as const, labId, hosts: hosts.map((host) => ({ host: host.host, undone: host.undone, leftovers: host.leftovers.map((left) => `${left.kind} ${left.name}`), ...(host.error ? { error: host.error } : {}) })) };
      }),
    );
  }

  sweep(hostNames: readonly string[], dryRun: boolean): JobRef {
    const { labs } = this.session();
    return this.jobs.start('sweep', dryRun ? 'Sweep (dry run)' : 'Sweep', async (job) => {
      job.progress(0, 1, dryRun ? 'looking for leftovers' : 'removing leftovers');
      const swept = await labs.sweepHosts(hostNames, dryRun);
      job.progress(1, 1, 'done');
      return {
        kind: 'sweep' as const,
        dryRun,
        hosts: [...swept].map(([host, result]) => (result instanceof CnlabError ? { host, removed: [], error: result.message } : { host, removed: result.map((left) => `${left.kind} ${left.name}`) })),
      };
    });
  }

  async listLabs(): Promise<LabSummary[]> {
    const { labs } = this.session();
    const records = await Promise.all((await labs.store.list()).map((labId) => labs.store.find(labId)));
    return records.filter((record): record is LabRecord => record !== null).map(summaryOf);
  }

  async getLab(labId: string): Promise<LabDetails | null> {
    const record = await this.session().labs.store.find(labId);
    if (!record) return null;
    return {
      ...summaryOf(record),
      fingerprint: record.fingerprint,
      topologyText: stringify(record.topology),
      containers: record.containers,
      expectations: record.expectations,
      timings: containerTimings(record.timings),
    };
  }
}
