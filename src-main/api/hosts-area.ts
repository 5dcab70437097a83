// The Hosts requests of the LabApi: the inventory with each host's live connection state, checks with
// explicit trust-on-first-use (only the exact key the user was shown), probes and ssh_config import.
import { userInfo } from 'node:os';
import { CnlabError, toCnlabError } from '../core/errors';
import type { HostFacts } from '../core/hosts/host-facts';
import type { HostInput } from '../core/hosts/host-model';
import { importSshConfig } from '../core/hosts/ssh-config-import';
import type { HostCheck, HostConnectionState, HostView, JobRef, LabApiEvent, SshImportPreview } from '../contract/lab-api';
import type { JobRegistry } from './job-registry';
import { errorBody } from './lab-api-dispatcher';
import type { WorkspaceSession } from './workspace-session';

interface ConnectionStatus {
  state: HostConnectionState;
  stateMessage?: string;
  privilege?: HostView['privilege'];
  connectMs?: number;
}

/** How a failed connection shows in the host list. */
export function stateOfError(error: CnlabError): HostConnectionState {
  switch (error.code) {
    case 'host-key-unknown':
      return 'key-unknown';
    case 'host-key-changed':
    case 'host-key-revoked':
      return 'key-changed';
    case 'auth-failed':
    case 'key-encrypted':
    case 'key-unreadable':
      return 'auth-failed';
    default:
      return 'unreachable';
  }
}

export class HostsArea {
  private readonly status = new Map<string, ConnectionStatus>();
  /** The last unknown-key error per host: trusting accepts exactly that key, nothing else. */
  private readonly presentedKeys = new Map<string, CnlabError>();

  constructor(
    private readonly session: () => WorkspaceSession,
    private readonly jobs: JobRegistry,
    private readonly emit: (event: LabApiEvent) => void,
    private readonly homeDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly isDemoHost: (name: string) => boolean,
  ) {}

  /** Forget connection states (the workspace changed). */
  reset(): void {
    this.status.clear();
    this.presentedKeys.clear();
  }

  async view(name: string): Promise<HostView> {
    const { hosts } = this.session();
    const host = hosts.inventory.get(name);
    const status = this.status.get(name) ?? { state: 'unknown' };
    const facts = await hosts.facts.load(name).catch(() => null);
    return { host, ...status, facts, ...(this.isDemoHost(name) ? { demo: true } : {}) };
  }

  async list(): Promise<HostView[]> {
    return Promise.all(this.session().hosts.inventory.list().map((host) => this.view(host.name)));
  }

  private async setStatus(name: string, status: ConnectionStatus): Promise<void> {
    this.status.set(name, status);
    if (this.session().hosts.inventory.find(name)) this.emit({ type: 'host-state', host: name, view: await this.view(name) });
  }

  async save(input: HostInput, originalName: string | undefined): Promise<HostView> {
    const { hosts } = this.session();
    const renamed = originalName !== undefined && originalName !== input.name;
    if (originalName !== undefined) hosts.inventory.get(originalName);
    if (renamed && hosts.inventory.find(input.name)) {
      throw new CnlabError('already-exists', `host ${input.name} is already in the inventory: pick another name`);
    }
    if (renamed) hosts.inventory.remove(originalName);
    hosts.inventory.add(input, { replace: originalName !== undefined });
    await hosts.inventory.save();
    // Address, port or credentials may have changed: the old connection and verdicts no longer hold.
    for (const name of new Set([input.name, originalName ?? input.name])) {
      await hosts.forget(name);
      this.status.delete(name);
      this.presentedKeys.delete(name);
    }
    if (renamed) await hosts.facts.remove(originalName);
    this.emit({ type: 'hosts-changed' });
    return this.view(input.name);
  }

  async remove(name: string): Promise<void> {
    const { hosts } = this.session();
    hosts.inventory.remove(name);
    await hosts.inventory.save();
    await hosts.facts.remove(name);
    await hosts.forget(name);
    this.status.delete(name);
    this.presentedKeys.delete(name);
    this.emit({ type: 'hosts-changed' });
  }

  async check(name: string): Promise<HostCheck> {
    const { hosts } = this.session();
    hosts.inventory.get(name);
    await this.setStatus(name, { state: 'checking' });
    try {
      const check = await hosts.checkConnection(name);
      this.presentedKeys.delete(name);
      await this.setStatus(name, { state: 'connected', privilege: check.privilege.kind, connectMs: Math.round(check.connectMs) });
      return { host: name, connectMs: check.connectMs, execRoundTripMs: check.execRoundTripMs, privilege: check.privilege.kind };
    } catch (error) {
      const known = toCnlabError(error, `host ${name}`);
      if (known.code === 'host-key-unknown') this.presentedKeys.set(name, known);
      await this.setStatus(name, { state: stateOfError(known), stateMessage: known.message });
      throw known;
    }
  }

  async trust(name: string, fingerprint: string): Promise<HostCheck> {
    const presented = this.presentedKeys.get(name);
    if (!presented) {
      throw new CnlabError('invalid-input', `host ${name} has shown no unknown key to trust: test its connection first`);
    }
    if (presented.details.fingerprint !== fingerprint) {
      throw new CnlabError('invalid-input', `host ${name} presented ${String(presented.details.fingerprint)}, not ${fingerprint}: test the connection again and compare the fingerprint`);
    }
    await this.session().hosts.trustPresentedKey(presented);
    this.presentedKeys.delete(name);
    return this.check(name);
  }

  async probe(name: string): Promise<HostFacts> {
    try {
      const facts = await this.session().hosts.probe(name);
      await this.setStatus(name, { ...(this.status.get(name) ?? {}), state: 'connected', privilege: facts.privilege.kind });
      return facts;
    } catch (error) {
      const known = toCnlabError(error, `host ${name}`);
      if (known.code === 'host-key-unknown') this.presentedKeys.set(name, known);
      await this.setStatus(name, { state: stateOfError(known), stateMessage: known.message });
      throw known;
    }
  }

  probeAll(): JobRef {
    const names = this.session().hosts.inventory.list().map((host) => host.name);
    if (names.length === 0) throw new CnlabError('invalid-input', 'there are no hosts to probe: add a host first');
    return this.jobs.start('probe-all', `Probe ${names.length} host${names.length === 1 ? '' : 's'}`, async (job) => {
      let done = 0;
      job.progress(0, names.length, 'probing');
      const results = await Promise.all(
        names.map(async (host) => {
          try {
            await this.probe(host);
            return { host, ok: true };
          } catch (error) {
            return { host, ok: false, error: errorBody(error) };
          } finally {
            done += 1;
            job.progress(done, names.length, `probed ${host}`);
          }
        }),
      );
      return { kind: 'probe-all' as const, hosts: results };
    });
  }

  private importEnv() {
    return { homeDir: this.homeDir, userName: this.env.USER || userInfo().username, ...(this.env.SSH_AUTH_SOCK ? { sshAuthSock: this.env.SSH_AUTH_SOCK } : {}) };
  }

  async previewImport(file: string | undefined): Promise<SshImportPreview> {
    const path = file ?? '~/.ssh/config';
    const result = await importSshConfig(path, this.importEnv());
    const { inventory } = this.session().hosts;
    return { file: path, hosts: result.hosts, existing: result.hosts.filter((host) => inventory.find(host.name)).map((host) => host.name), warnings: result.warnings };
  }

  async importHosts(file: string | undefined, names: readonly string[]): Promise<HostView[]> {
    const preview = await this.previewImport(file);
    const missing = names.filter((name) => !preview.hosts.some((host) => host.name === name));
    if (missing.length > 0) throw new CnlabError('not-found', `${preview.file} has no host ${missing.join(', ')}: preview the file again`);
    const { hosts } = this.session();
    // Jump hosts first, so a host's jump is in the inventory when the host is added.
    const chosen = preview.hosts.filter((host) => names.includes(host.name));
    const ordered = [...chosen].sort((a, b) => Number(a.kind === 'ssh' && Boolean(a.jump)) - Number(b.kind === 'ssh' && Boolean(b.jump)));
    for (const host of ordered) {
      hosts.inventory.add(host, { replace: true });
      await hosts.forget(host.name);
      this.status.delete(host.name);
    }
    await hosts.inventory.save();
    this.emit({ type: 'hosts-changed' });
    return Promise.all(ordered.map((host) => this.view(host.name)));
  }
}
