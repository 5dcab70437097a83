// The secrets requests of the LabApi: a host's password or key passphrase given in the console, either
// remembered in the secret store (the desktop app's OS-encrypted store) or kept in memory for the session
// (the browser mode's prompt). Values are never logged, echoed, journalled or put in an error.
import { CnlabError } from '../core/errors';
import { MemorySecretStore, type SecretKind, type SecretProtection, type SecretStore } from '../core/hosts/secret-store';
import type { WorkspaceSession } from './workspace-session';

export interface SecretsInfo {
  protection: SecretProtection;
  note: string;
}

const NO_STORE_NOTE =
  'this console keeps secrets for the session only (no OS secret store here): for lasting access use ssh-agent, a key file or an environment variable named in the host';

export class SecretsArea {
  /** Values given "for this session": scoped by workspace, forgotten when cnlab exits. */
  readonly session = new MemorySecretStore();

  /** `store`: the lasting store, when this shell has one (the desktop app). */
  constructor(readonly store: SecretStore | undefined) {}

  /** What a workspace session asks before the environment variables. */
  sources(): { session: SecretStore; store?: SecretStore } {
    return { session: this.session, ...(this.store ? { store: this.store } : {}) };
  }

  info(): SecretsInfo {
    if (!this.store) return { protection: 'memory', note: NO_STORE_NOTE };
    return { protection: this.store.protection(), note: this.store.protectionNote };
  }

  /** The host must exist and log in with this kind of secret: a password for password auth, a passphrase for a key. */
  private checkHost(workspace: WorkspaceSession, name: string, kind: SecretKind): void {
    const host = workspace.hosts.inventory.get(name);
    const expected = host.kind === 'ssh' ? ({ password: 'password', key: 'passphrase', agent: null } as const)[host.auth.type] : null;
    if (expected !== kind) {
      const how = host.kind === 'local' ? 'runs commands on this machine' : `logs in with ${host.auth.type === 'key' ? 'a key file' : host.auth.type === 'agent' ? 'ssh-agent' : 'a password'}`;
      throw new CnlabError('invalid-input', `host ${name} ${how}: it takes no ${kind} (change the host's authentication first)`, { host: name });
    }
  }

  async set(workspace: WorkspaceSession, request: { host: string; kind: SecretKind; value: string; remember: boolean; acceptUnprotected?: boolean }): Promise<SecretsInfo & { remembered: boolean }> {
    const { host, kind, remember } = request;
    this.checkHost(workspace, host, kind);
    const ref = { host, kind, workspace: workspace.dir };
    if (remember) {
      if (!this.store) {
        throw new CnlabError('invalid-input', `the ${kind} of host ${host} cannot be remembered here: ${NO_STORE_NOTE}; give it for this session instead`, { host, reason: 'no-store' });
      }
      if (this.store.protection() !== 'os' && request.acceptUnprotected !== true) {
        throw new CnlabError('invalid-input', `the ${kind} of host ${host} was not remembered: ${this.store.protectionNote}; give it for this session, or accept storing it unprotected`, { host, reason: 'unprotected' });
      }
      await this.store.set(ref, request.value);
      // The remembered value is the one to use from now on.
      await this.session.delete(ref);
    } else {
      await this.session.set(ref, request.value);
    }
    return { ...this.info(), remembered: remember };
  }

  /** Removes the value from the session and from the store; true when there was one. */
  async forget(workspace: WorkspaceSession, request: { host: string; kind: SecretKind }): Promise<{ forgotten: boolean }> {
    const ref = { host: request.host, kind: request.kind, workspace: workspace.dir };
    const inSession = await this.session.delete(ref);
    const inStore = (await this.store?.delete(ref)) ?? false;
    return { forgotten: inSession || inStore };
  }
}
