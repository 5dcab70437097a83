// The topology area of core as adapters use it: read a topology file, plan it against the hosts'
// probed facts, apply / verify / tear down / sweep through the LabRuntime, and record applied labs.
import { readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import type { HostFacts } from '../hosts/host-facts';
import type { HostService } from '../hosts/host-service';
import type { ExecResult } from '../exec/executor';
import { quoteShellArg, shellCommand } from '../shell/quote';
import { renderApplyScript } from './apply-script';
import { LabRuntime, type ApplyOptions, type ApplyResult, type HostTeardown } from './lab-runtime';
import { LabStore, type LabRecord } from './lab-store';
import { beginPendingWork, clearPendingWork, orphanedTempFiles, orphanedWork, type PendingWork } from '../workspace/pending-work';
import { labNames } from './naming';
import type { LabPlan } from './plan';
import { planLab } from './planner';
import { parseTopologyText, type TopologySpec } from './topology-schema';
import type { CniCheckOutcome } from './cni-check-script';
import type { VerifyOutcome } from './verify-script';

/** Cached facts younger than this are used for planning; older ones are probed again. */
const FACTS_MAX_AGE_MS = 60 * 60 * 1000;

export interface LabHostStatus {
  host: string;
  /** applied, applying (now), crashed (an apply died mid-way), absent, or unreachable. */
  state: string;
  ledgerEntries: number;
  /** The host holds the same plan as the workspace's record. */
  current: boolean;
  error?: string;
}

/** What `sweepOrphanedWork` did (or, dry, would do) about one marker of a killed process. */
export interface OrphanSweep {
  work: PendingWork;
  /** Per lab of the work: the hosts it was removed from (dry: the hosts holding a ledger of it). */
  labs: { labId: string; hosts: string[] }[];
  /** Why the marker stays (an apply script of its labs still runs, a host did not answer…). */
  error?: string;
}

export interface AppliedLab extends ApplyResult {
  record: LabRecord;
}

export class LabService {
  readonly runtime: LabRuntime;
  readonly store: LabStore;

  constructor(
    private readonly hosts: HostService,
    private readonly workspaceDir: string,
  ) {
    this.runtime = new LabRuntime((host) => hosts.executor(host));
    this.store = new LabStore(join(workspaceDir, 'labs'));
  }

  async readTopology(file: string): Promise<TopologySpec> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CnlabError('not-found', `cannot read topology file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the path`);
    }
    return parseTopologyText(text, file);
  }

  /** Facts of every host the topology names: cached when fresh, probed in parallel otherwise. */
  async factsFor(hostNames: readonly string[]): Promise<Record<string, HostFacts>> {
    const unknown = hostNames.filter((name) => !this.hosts.inventory.find(name));
    if (unknown.length > 0) {
      throw new CnlabError('invalid-input', `the topology names host${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, not in the inventory: add ${unknown.length > 1 ? 'them' : 'it'} with \`cnlab hosts add\``);
    }
    const entries = await Promise.all(
      hostNames.map(async (name) => {
        const cached = await this.hosts.facts.load(name);
        const fresh = cached && Date.now() - Date.parse(cached.probedAt) < FACTS_MAX_AGE_MS;
        return [name, fresh ? cached : await this.hosts.probe(name)] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  /** `measureFirstReply`: plan the first-reply measurements that timed applies run. */
  async plan(spec: TopologySpec, options: { measureFirstReply?: boolean } = {}): Promise<LabPlan> {
    // A swarm changes with every docker overlay lab applied or torn down: cached facts would be stale.
    const swarmHosts = spec.runtime === 'docker' && spec.networks.some((network) => network.mode === 'vxlan') ? spec.hosts : [];
    const facts = { ...(await this.factsFor(spec.hosts.filter((host) => !swarmHosts.includes(host)))), ...Object.fromEntries(await Promise.all(swarmHosts.map(async (host) => [host, await this.hosts.probe(host)] as const))) };
    const managementAddress = Object.fromEntries(spec.hosts.map((name) => [name, this.managementAddress(name, facts[name])]));
    return planLab(spec, { facts, managementAddress, measureFirstReply: options.measureFirstReply === true });
  }

  /** The address other hosts reach a host at: its inventory address when that is an IP, else the probed one. */
  managementAddress(name: string, facts: HostFacts | undefined): string {
    const host = this.hosts.inventory.get(name);
    const address = host.kind === 'ssh' && isIP(host.address) ? host.address : facts?.management.address;
    if (!address) throw new CnlabError('invalid-input', `host ${name}: its management address is unknown: probe it again (cnlab hosts probe ${name})`);
    return address;
  }

  /** The exact script each host would run, for `topology plan` (dry run). */
  previewScripts(plan: LabPlan): { host: string; script: string }[] {
    return plan.hosts.map((hostPlan) => ({ host: hostPlan.host, script: renderApplyScript(labNames(plan.labId), hostPlan, { fingerprint: plan.fingerprint, timings: false }).script }));
  }

  /** `onPlan` sees the plan before anything runs (the console maps step events to containers with it). */
  /** `plan`: the plan the caller already made of this spec (with the same timings), not made again. */
  async apply(spec: TopologySpec, { onPlan, plan: planned, ...options }: ApplyOptions & { onPlan?: (plan: LabPlan) => void; plan?: LabPlan } = {}): Promise<AppliedLab> {
    const plan = planned ?? (await this.plan(spec, { measureFirstReply: options.timings === true }));
    onPlan?.(plan);
    // Until the record is saved, a kill leaves objects no record names: the marker names them for `cnlab sweep`.
    const pending = await beginPendingWork(this.workspaceDir, { kind: 'apply', id: plan.labId, hosts: plan.hosts.map((hostPlan) => hostPlan.host), labs: [plan.labId] });
    let settled = false;
    try {
      const applied = await this.applyPlanned(spec, plan, options);
      settled = true;
      return applied;
    } finally {
      await pending.end({ settled });
    }
  }

  private async applyPlanned(spec: TopologySpec, plan: LabPlan, options: ApplyOptions): Promise<AppliedLab> {
    const result = await this.runtime.apply(plan, { ...options, ...this.swarmOrder(plan, options) });
    const previous = result.status === 'unchanged' ? await this.store.find(plan.labId) : null;
    const record: LabRecord = previous ?? {
      formatVersion: 1,
      labId: plan.labId,
      fingerprint: plan.fingerprint,
      appliedAt: new Date().toISOString(),
      hosts: plan.hosts.map((hostPlan) => hostPlan.host),
      topology: spec,
      containers: plan.containers,
      expectations: plan.expectations,
      timings: result.timings,
      hostDurationsMs: result.hostDurationsMs,
      ...(plan.controlPlanes ? { controlPlanes: plan.controlPlanes } : {}),
    };
    if (!previous) await this.store.save(record);
    return { ...result, record };
  }

  /**
   * A swarm cnlab initialises: its manager's host is applied first, then its workers, each given the
   * join token the manager issued (read there, written to a root-only file on the worker that its join
   * step reads and removes; the token never reaches a command line or the lab record).
   */
  private swarmOrder(plan: LabPlan, options: ApplyOptions): Pick<ApplyOptions, 'hostOrder' | 'beforeGroup'> {
    const swarm = plan.swarm;
    if (!swarm?.initialise || swarm.workers.length === 0) return {};
    // A caller's order (launch time's peer host first) is kept when the manager comes first in it.
    const hostOrder = options.hostOrder ?? [[swarm.manager], swarm.workers];
    if (hostOrder[0]?.length !== 1 || hostOrder[0][0] !== swarm.manager) {
      throw new CnlabError('invalid-input', `lab ${plan.labId}: its swarm's manager ${swarm.manager} must be applied first, alone, before the hosts that join it`);
    }
    return {
      hostOrder,
      beforeGroup: async (index, hosts) => {
        // The token is handed before the caller's hook, so nothing the caller times waits for it.
        if (index === 1) await this.handJoinToken(swarm);
        await options.beforeGroup?.(index, hosts);
      },
    };
  }

  private async handJoinToken(swarm: NonNullable<LabPlan['swarm']>): Promise<void> {
    const issued = await this.hosts.executor(swarm.manager).exec('docker swarm join-token -q worker', { privileged: true, timeoutMs: 30_000 });
    const token = issued.stdout.trim();
    if (issued.code !== 0 || !/^SWMTKN-[A-Za-z0-9-]+$/.test(token)) throw new CnlabError('command-failed', `host ${swarm.manager}: the swarm it manages gave no join token (${issued.stderr.trim() || 'no output'})`);
    const file = swarm.joinTokenFile;
    const script = `umask 077\nmkdir -p ${quoteShellArg(file.slice(0, file.lastIndexOf('/')))}\ncat > ${quoteShellArg(file)} <<'CNLAB_TOKEN'\n${token}\nCNLAB_TOKEN\n`;
    await Promise.all(
      swarm.workers.map(async (worker) => {
        const written = await this.hosts.executor(worker).runScript(script, { privileged: true, timeoutMs: 30_000 });
        if (written.code !== 0) throw new CnlabError('command-failed', `host ${worker}: could not hand it the swarm join token: ${written.stderr.trim()}`);
      }),
    );
  }

  async verify(labId: string): Promise<VerifyOutcome[]> {
    return this.runtime.verify(await this.store.get(labId));
  }

  /**
   * CNI CHECK of every plugin ADD of a `backend: cni` lab, on the hosts where its containers have
   * namespaces of their own. A separate step from verify: verify asks whether packets flow, check asks
   * each plugin whether what it set up is still as it left it.
   */
  async check(labId: string): Promise<CniCheckOutcome[]> {
    const record = await this.store.get(labId);
    if (record.topology.backend !== 'cni') {
      throw new CnlabError('invalid-input', `lab ${labId} was applied with backend ${record.topology.backend}: CNI CHECK applies to labs applied with backend: cni`);
    }
    const hosts = record.hosts.filter((host) => record.containers.some((container) => container.host === host && container.netns !== null && container.sharesWith === null));
    return this.runtime.check(labId, hosts);
  }

  /**
   * Tears down from the hosts' ledgers: the hosts of the lab's record, or, when the record is gone, the
   * hosts the caller knows it was applied to, else every inventory host (a lost file must not leave a lab behind).
   */
  async teardown(labId: string, hostsIfUnrecorded?: readonly string[]): Promise<HostTeardown[]> {
    const record = await this.store.find(labId);
    const hosts = record?.hosts ?? (hostsIfUnrecorded ? [...hostsIfUnrecorded] : this.allHostNames());
    const pending = await beginPendingWork(this.workspaceDir, { kind: 'teardown', id: labId, hosts, labs: [labId] });
    let clean = false;
    try {
      const result = await this.runtime.teardown(labId, hosts);
      clean = result.every((host) => !host.error && host.leftovers.length === 0);
      if (clean) await this.store.remove(labId);
      return result;
    } finally {
      await pending.end({ settled: clean });
    }
  }

  /** Sweeps the named hosts, or every inventory host when none are named. */
  sweepHosts(hostNames: readonly string[], dryRun: boolean): ReturnType<LabRuntime['sweep']> {
    for (const name of hostNames) this.hosts.inventory.get(name);
    return this.runtime.sweep(hostNames.length > 0 ? hostNames : this.allHostNames(), dryRun);
  }

  /**
   * What killed cnlab processes of this workspace left (see pending-work.ts): each marker whose hosts are
   * all among `hostNames` (every marker when none are named) has its labs torn down from their ledgers,
   * whatever state they reached (a killed apply may have finished on a host and never been recorded), and
   * is then cleared. An apply script still running without its cnlab is stopped by the teardown script
   * itself (ledger-scripts.ts stop_apply). Temp files left by a killed write (no load reads them) go too.
   */
  async sweepOrphanedWork(hostNames: readonly string[], dryRun: boolean): Promise<{ work: OrphanSweep[]; tempFiles: string[] }> {
    const inScope = (work: PendingWork): boolean => hostNames.length === 0 || work.hosts.every((host) => hostNames.includes(host));
    const orphans = (await orphanedWork(this.workspaceDir)).filter(inScope);
    const swept: OrphanSweep[] = [];
    for (const work of orphans) {
      const outcome: OrphanSweep = { work, labs: [] };
      try {
        if (dryRun) {
          const status = await this.runtime.status(work.hosts);
          for (const labId of work.labs) {
            outcome.labs.push({ labId, hosts: [...status].filter(([, entry]) => !(entry instanceof CnlabError) && entry.some((lab) => lab.labId === labId)).map(([host]) => host) });
          }
        } else {
          for (const labId of work.labs) outcome.labs.push({ labId, hosts: await this.removeOrphanedLab(labId, work.hosts) });
          await clearPendingWork(this.workspaceDir, work);
        }
      } catch (error) {
        outcome.error = error instanceof CnlabError ? error.message : String(error);
      }
      swept.push(outcome);
    }
    const runIds = orphans.filter((work) => work.kind === 'run').map((work) => work.id);
    const tempFiles = await orphanedTempFiles(this.workspaceDir, runIds);
    if (!dryRun) await Promise.all(tempFiles.map((file) => rm(join(this.workspaceDir, file), { force: true })));
    return { work: swept, tempFiles };
  }

  /** Tears a lab down on `hosts` from their ledgers and forgets its record; the hosts where anything was undone. */
  private async removeOrphanedLab(labId: string, hosts: readonly string[]): Promise<string[]> {
    const result = await this.runtime.teardown(labId, hosts);
    const unclean = result.filter((host) => host.error || host.leftovers.length > 0);
    if (unclean.length > 0) throw new CnlabError('command-failed', `lab ${labId} was not fully removed on ${unclean.map((host) => `${host.host} (${host.error ?? host.leftovers.map((l) => `${l.kind} ${l.name}`).join(', ')})`).join(', ')}`);
    // The record of a lab the killed process applied would send verify to a lab that is gone.
    const record = await this.store.find(labId);
    if (!record || record.hosts.every((host) => hosts.includes(host))) await this.store.remove(labId);
    return result.filter((host) => host.undone > 0).map((host) => host.host);
  }

  /** The lab's record (if any) and what each of its hosts (or every host) holds of it. */
  async status(labId: string): Promise<{ record: LabRecord | null; hosts: LabHostStatus[] }> {
    const record = await this.store.find(labId);
    const status = await this.runtime.status(record?.hosts ?? this.allHostNames());
    const hosts = [...status].map(([host, entry]): LabHostStatus => {
      if (entry instanceof CnlabError) return { host, state: 'unreachable', ledgerEntries: 0, current: false, error: entry.message };
      const lab = entry.find((candidate) => candidate.labId === labId);
      return { host, state: lab ? (lab.state === 'applying' && !lab.applyRunning ? 'crashed' : lab.state) : 'absent', ledgerEntries: lab?.ledgerEntries ?? 0, current: lab?.fingerprint === record?.fingerprint };
    });
    return { record, hosts };
  }

  private allHostNames(): string[] {
    return this.hosts.inventory.list().map((host) => host.name);
  }

  /** Runs a command inside a container's namespace (or on the host for host mode). */
  async exec(labId: string, containerName: string, argv: readonly string[], onLine?: { stdout?: (line: string) => void; stderr?: (line: string) => void }): Promise<ExecResult> {
    const record = await this.store.get(labId);
    const container = record.containers.find((c) => c.name === containerName);
    if (!container) {
      throw new CnlabError('not-found', `lab ${labId} has no container ${containerName} (it has ${record.containers.map((c) => c.name).slice(0, 20).join(', ')})`);
    }
    if (argv.length === 0) throw new CnlabError('usage', 'give the command to run after --');
    // A container with a cpuset runs what it is given on those CPUs, as its own processes would be.
    const pinned = container.cpuset ? ['taskset', '-c', container.cpuset, ...argv] : argv;
    const command = container.netns ? shellCommand(['ip', 'netns', 'exec', container.netns, ...pinned]) : shellCommand(pinned);
    return this.hosts.executor(container.host).exec(command, {
      privileged: true,
      ...(onLine?.stdout ? { onStdoutLine: onLine.stdout } : {}),
      ...(onLine?.stderr ? { onStderrLine: onLine.stderr } : {}),
    });
  }
}
