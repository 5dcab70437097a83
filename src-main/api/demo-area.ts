// The "Start demo lab" requests: start the lab-in-a-box testbed on this machine, add its hosts to the
// workspace (their keys are known: no trust prompt), probe them and hand the page an example topology;
// stopping removes the demo's labs, hosts and testbed, and nothing else.
import { CnlabError } from '../core/errors';
import type { DemoLabStarted } from '../core/demo-lab/demo-lab';
import type { AppInfo, DemoLabInfo, JobRef, LabApiEvent } from '../contract/lab-api';
import type { JobRegistry } from './job-registry';
import type { WorkspaceSession } from './workspace-session';

/** What the console needs of core's DemoLab (core/demo-lab/demo-lab.ts). */
export interface DemoLabController {
  availability(): Promise<{ available: boolean; reason?: string }>;
  current(): Promise<DemoLabStarted | null>;
  start(options?: { signal?: AbortSignal; onProgress?: (done: number, total: number, message: string) => void }): Promise<DemoLabStarted>;
  stop(): Promise<void>;
}


function infoOf(started: DemoLabStarted): DemoLabInfo {
  return { id: started.id, hosts: started.hosts.map((host) => host.name), topologyName: started.topologyName, topologyText: started.topologyText };
}

export class DemoArea {
  private hostNames = new Set<string>();

  constructor(
    private readonly demo: DemoLabController,
    private readonly session: () => WorkspaceSession,
    private readonly jobs: JobRegistry,
    private readonly emit: (event: LabApiEvent) => void,
    /** Probes through the hosts area, so the list shows the demo hosts connected with their facts. */
    private readonly probe: (name: string) => Promise<unknown>,
  ) {}

  isDemoHost(name: string): boolean {
    return this.hostNames.has(name);
  }

  async info(): Promise<AppInfo['demoLab']> {
    const [availability, running] = await Promise.all([this.demo.availability(), this.demo.current()]);
    if (running) for (const host of running.hosts) this.hostNames.add(host.name);
    return { ...availability, running: running ? infoOf(running) : null };
  }

  start(): JobRef {
    return this.jobs.start('demo-start', 'Start demo lab', async (job) => {
      const availability = await this.demo.availability();
      if (!availability.available) throw new CnlabError('not-privileged', `the demo lab cannot start here: ${availability.reason ?? 'it needs root'}`);
      const started = await this.demo.start({ signal: job.signal, onProgress: (done, total, message) => job.progress(done, total + 2, message) });
      const { hosts } = this.session();
      for (const host of started.hosts) {
        hosts.inventory.add(host, { replace: true });
        await hosts.forget(host.name);
        this.hostNames.add(host.name);
      }
      await hosts.inventory.save();
      this.emit({ type: 'hosts-changed' });
      job.progress(started.hosts.length, started.hosts.length + 2, 'probing the demo hosts');
      // Probed now so the designer can offer exactly the modes these hosts support.
      await Promise.all(started.hosts.map((host) => this.probe(host.name)));
      this.emit({ type: 'hosts-changed' });
      return { kind: 'demo-start' as const, demo: infoOf(started) };
    });
  }

  stop(): JobRef {
    return this.jobs.start('demo-stop', 'Stop demo lab', async (job) => ({
      kind: 'demo-stop' as const,
      removedHosts: await this.remove((done, message) => job.progress(done, 3, message)),
    }));
  }

  /** A console closing cleanly takes its demo lab with it: its hosts would be dead entries in the workspace. */
  async stopOnClose(): Promise<void> {
    if (this.hostNames.size > 0 || (await this.demo.current())) await this.remove(() => undefined);
  }

  private async remove(progress: (done: number, message: string) => void): Promise<string[]> {
    const running = await this.demo.current();
    const names = running ? running.hosts.map((host) => host.name) : [...this.hostNames];
    const { hosts, labs } = this.session();
    progress(0, 'forgetting the labs on the demo hosts');
    // The demo's labs die with its hosts' namespaces; only their records in the workspace remain to remove.
    for (const labId of await labs.store.list()) {
      const record = await labs.store.find(labId);
      if (record && record.hosts.every((host) => names.includes(host))) await labs.store.remove(labId);
    }
    progress(1, 'removing the demo hosts from the workspace');
    const removed: string[] = [];
    for (const name of names) {
      await hosts.forget(name);
      if (!hosts.inventory.find(name)) continue;
      hosts.inventory.remove(name);
      await hosts.facts.remove(name);
      removed.push(name);
    }
    await hosts.inventory.save();
    this.hostNames.clear();
    this.emit({ type: 'hosts-changed' });
    progress(2, 'stopping the emulated hosts');
    await this.demo.stop();
    return removed;
  }
}
