// The console's "Start demo lab": a lab-in-a-box testbed on this machine, its hosts as inventory entries
// (demo-h1…, keys already known) and an example topology; remembered in a state file so a restart finds it.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import type { HostInput } from '../hosts/host-model';
import { isTestbedRunning, missingTestbedTools, startTestbed, teardownTestbed, type Testbed } from '../testbed/testbed';
import { DEMO_TOPOLOGY_NAME, DEMO_TOPOLOGY_TEXT } from './demo-topology';
import { decideAccess, processPrivilege, type PrivilegeProbe } from './privilege';
import { sudoCliRunner, type SudoRun } from './sudo-cli';

export interface DemoLabStarted {
  id: string;
  dir: string;
  hosts: HostInput[];
  topologyName: string;
  topologyText: string;
}

export type DemoLabProgress = (done: number, total: number, message: string) => void;

export interface DemoLabOptions {
  /** Where it remembers the running demo: <configDir>/demo-lab. */
  stateDir: string;
  /** Default 3. */
  hostCount?: number;
  /** Root / sudo detection; tests inject one. */
  privilege?: PrivilegeProbe;
  /** Runs `cnlab demo-lab …` as root through sudo (default: the built CLI under `sudo -n`). */
  sudo?: SudoRun;
  /** The process the testbed belongs to (default: this one); it is swept once that process is gone. */
  ownerPid?: number;
  /** Hand the client key and known_hosts to this uid (the console behind sudo). */
  clientUid?: number;
  /** Keep the testbed after this process exits, until `demo-lab down` (a person's `cnlab demo-lab up`). */
  detached?: boolean;
  /** Default true; the sudo'd CLI answers the console instead, which remembers the demo itself. */
  remember?: boolean;
}

export const DEMO_HOST_PREFIX = 'demo-';

/** Inventory entries for the testbed's hosts: key auth as root, host keys trusted through its known_hosts. */
export function demoHosts(testbed: Pick<Testbed, 'id' | 'hosts' | 'clientKeyPath' | 'knownHostsPath'>): HostInput[] {
  return testbed.hosts.map((host) => ({
    name: `${DEMO_HOST_PREFIX}${host.name}`,
    kind: 'ssh' as const,
    address: host.address,
    port: host.port,
    user: 'root',
    auth: { type: 'key' as const, keyFile: testbed.clientKeyPath },
    knownHostsFiles: [testbed.knownHostsPath],
    label: 'vm' as const,
    notes: `cnlab demo lab: emulated host ${host.name} of testbed ${testbed.id} on this machine`,
  }));
}

function missingToolsError(): CnlabError | undefined {
  const missing = missingTestbedTools();
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((entry) => entry.pkg))];
  const tools = missing.map((entry) => `\`${entry.tool}\``).join(', ');
  return new CnlabError(
    'tool-missing',
    `the demo lab needs ${tools} on this machine: install ${packages.join(', ')} (e.g. \`sudo apt-get install ${packages.join(' ')}\`)`,
    { packages },
  );
}

export class DemoLab {
  private readonly statePath: string;
  private readonly hostCount: number;
  private readonly privilege: PrivilegeProbe;
  private running: Testbed | undefined;
  private starting: Promise<DemoLabStarted> | undefined;

  constructor(private readonly options: DemoLabOptions) {
    this.statePath = join(options.stateDir, 'demo-lab.json');
    this.hostCount = options.hostCount ?? 3;
    this.privilege = options.privilege ?? processPrivilege;
  }

  async availability(): Promise<{ available: boolean; reason?: string }> {
    const access = await decideAccess(this.privilege);
    if (!access.available) return { available: false, reason: access.reason };
    const missing = missingToolsError();
    return missing ? { available: false, reason: missing.message } : { available: true };
  }

  /** The running demo, or null; a remembered demo whose testbed is gone is forgotten. */
  current(): Promise<DemoLabStarted | null> {
    const remembered = this.readState();
    if (!remembered) return Promise.resolve(null);
    if (isTestbedRunning(remembered.id)) return Promise.resolve(remembered);
    this.forget();
    return Promise.resolve(null);
  }

  /** Starts the demo, or returns the one already running (also while a start is under way). */
  start(options: { signal?: AbortSignal; onProgress?: DemoLabProgress } = {}): Promise<DemoLabStarted> {
    this.starting ??= this.startOnce(options).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const remembered = this.readState();
    const id = remembered?.id ?? this.running?.id;
    if (!id) return;
    const access = await decideAccess(this.privilege);
    if (this.running?.id === id) await this.running.teardown();
    else if (access.available && access.via === 'sudo') await this.sudo(['demo-lab', 'down', '--json', '--testbed', id]);
    else await teardownTestbed(id);
    this.running = undefined;
    this.forget();
  }

  /** Tears down one testbed by id (`cnlab demo-lab down --testbed <id>`, run by a console through sudo). */
  async stopTestbed(id: string): Promise<void> {
    await teardownTestbed(id);
    if (this.readState()?.id === id) this.forget();
  }

  private async startOnce(options: { signal?: AbortSignal; onProgress?: DemoLabProgress }): Promise<DemoLabStarted> {
    const running = await this.current();
    if (running) return running;
    const access = await decideAccess(this.privilege);
    if (!access.available) throw new CnlabError('not-privileged', access.reason);
    const missing = missingToolsError();
    if (missing) throw missing;
    const started = access.via === 'root' ? await this.startHere(options) : await this.startThroughSudo(options);
    if (this.options.remember !== false) await this.writeState(started);
    return started;
  }

  private async startHere(options: { signal?: AbortSignal; onProgress?: DemoLabProgress }): Promise<DemoLabStarted> {
    let testbed: Testbed;
    try {
      testbed = await startTestbed({
        hosts: this.hostCount,
        detached: this.options.detached ?? false,
        ...(this.options.ownerPid !== undefined ? { ownerPid: this.options.ownerPid } : {}),
        ...(this.options.clientUid !== undefined ? { clientUid: this.options.clientUid } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw new CnlabError('cancelled', 'the demo lab start was cancelled; nothing of it is left');
      throw new CnlabError('command-failed', `the demo lab did not start: ${(error as Error).message}`, {}, { cause: error });
    }
    this.running = testbed;
    return { id: testbed.id, dir: testbed.dir, hosts: demoHosts(testbed), topologyName: DEMO_TOPOLOGY_NAME, topologyText: DEMO_TOPOLOGY_TEXT };
  }

  private async startThroughSudo(options: { signal?: AbortSignal; onProgress?: DemoLabProgress }): Promise<DemoLabStarted> {
    const uid = process.getuid?.() ?? 0;
    const args = ['demo-lab', 'up', '--json', '--owner-uid', String(uid), '--owner-pid', String(process.pid), '--hosts', String(this.hostCount)];
    return (await this.sudo(args, options)) as DemoLabStarted;
  }

  private sudo(args: readonly string[], options: { signal?: AbortSignal; onProgress?: DemoLabProgress } = {}): Promise<unknown> {
    return (this.options.sudo ?? sudoCliRunner())(args, options);
  }

  private readState(): DemoLabStarted | undefined {
    try {
      const value = JSON.parse(readFileSync(this.statePath, 'utf8')) as DemoLabStarted;
      return typeof value.id === 'string' && Array.isArray(value.hosts) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeState(started: DemoLabStarted): Promise<void> {
    mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.statePath, `${JSON.stringify(started, null, 2)}\n`, 0o600);
  }

  private forget(): void {
    rmSync(this.statePath, { force: true });
  }
}
