// The host inventory of a workspace, kept in workspace.yaml under `hosts:`, with the workspace's settings.
// The file is read through workspace/workspace-file.ts (older formats are upgraded there);
// other keys of the file and its comments are preserved, so features can share the file without clobbering it.
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { CnlabError } from '../errors';
import { loadWorkspaceDocument, saveWorkspaceDocument, WORKSPACE_FILE } from '../workspace/workspace-file';
import {
  workspaceSettingsSchema,
  WORKSPACE_FORMAT_VERSION,
  type WorkspaceSettings,
} from '../workspace/workspace-format';
import { hostSchema, type Host, type HostInput, type SshHost } from './host-model';

export { WORKSPACE_FILE, WORKSPACE_FORMAT_VERSION };

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`).join('; ');
}

/** Validates a host entry, naming the host and the field in the error. */
export function parseHost(input: unknown): Host {
  const result = hostSchema.safeParse(input);
  if (result.success) return result.data;
  // Only a name that is a string or a number is shown: String() of a mapping like {toString: 1} throws.
  const given: unknown = typeof input === 'object' && input && 'name' in input ? input.name : undefined;
  const name = (typeof given === 'string' && given !== '') || typeof given === 'number' ? String(given) : '(unnamed)';
  throw new CnlabError('invalid-input', `host ${name}: ${formatIssues(result.error)}`);
}

export class HostInventory {
  /** Saves run one after another, each writing the document as it was when it was asked for. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly workspaceDir: string,
    private readonly document: Document,
    private hosts: Host[],
    private currentSettings: WorkspaceSettings,
    /** Set when opening upgraded an older workspace.yaml: its version and where the original was kept. */
    readonly upgrade: { from: number; backupFile: string } | null = null,
  ) {}

  static async load(workspaceDir: string): Promise<HostInventory> {
    const file = join(workspaceDir, WORKSPACE_FILE);
    const { document, workspace, upgradedFrom, backupFile } = await loadWorkspaceDocument(workspaceDir);
    const hosts = workspace.hosts.map((entry, index) => {
      try {
        return parseHost(entry);
      } catch (error) {
        // The host's own error does not say where it is: the user has to find it in this file.
        if (!(error instanceof CnlabError)) throw error;
        throw new CnlabError(error.code, `${file}: ${error.message} (entry ${index + 1} of hosts): fix the file or restore it from a backup`, error.details);
      }
    });
    assertUniqueNames(hosts, file);
    const upgrade = upgradedFrom !== null && backupFile ? { from: upgradedFrom, backupFile } : null;
    return new HostInventory(workspaceDir, document, hosts, workspace.settings, upgrade);
  }

  list(): readonly Host[] {
    return this.hosts;
  }

  find(name: string): Host | undefined {
    return this.hosts.find((host) => host.name === name);
  }

  get(name: string): Host {
    const host = this.find(name);
    if (!host) {
      const known = this.hosts.map((h) => h.name).join(', ') || 'none yet';
      throw new CnlabError('not-found', `host ${name} is not in the inventory (known: ${known}): add it with \`cnlab hosts add\``);
    }
    return host;
  }

  getSsh(name: string): SshHost {
    const host = this.get(name);
    if (host.kind !== 'ssh') throw new CnlabError('invalid-input', `host ${name} is this machine, not an SSH host`);
    return host;
  }

  add(input: HostInput, { replace = false } = {}): Host {
    const host = parseHost(input);
    const index = this.hosts.findIndex((h) => h.name === host.name);
    if (index !== -1 && !replace) {
      throw new CnlabError('already-exists', `host ${host.name} is already in the inventory: remove it first or pick another name`);
    }
    if (host.kind === 'ssh' && host.jump) {
      if (host.jump === host.name) throw new CnlabError('invalid-input', `host ${host.name} cannot be its own jump host`);
      const jump = this.get(host.jump);
      if (jump.kind !== 'ssh') throw new CnlabError('invalid-input', `host ${host.name}: jump host ${host.jump} must be an SSH host`);
    }
    if (index === -1) this.hosts.push(host);
    else this.hosts[index] = host;
    return host;
  }

  remove(name: string): Host {
    const host = this.get(name);
    const dependents = this.hosts.filter((h) => h.kind === 'ssh' && h.jump === name).map((h) => h.name);
    if (dependents.length > 0) {
      throw new CnlabError('invalid-input', `host ${name} is the jump host of ${dependents.join(', ')}: remove or change those first`);
    }
    this.hosts = this.hosts.filter((h) => h.name !== name);
    return host;
  }

  settings(): Readonly<WorkspaceSettings> {
    return { ...this.currentSettings };
  }

  /** Changes some settings and saves the workspace. */
  async setSettings(partial: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
    const result = workspaceSettingsSchema.safeParse({ ...this.currentSettings, ...partial });
    if (!result.success) throw new CnlabError('invalid-input', `workspace settings: ${formatIssues(result.error)}`);
    const settings = result.data;
    if (!this.document.has('settings')) this.document.set('settings', this.document.createNode({}));
    for (const key of Object.keys(settings) as (keyof WorkspaceSettings)[]) {
      // Key by key, so the comments on each setting stay where they are.
      if (this.document.getIn(['settings', key]) !== settings[key]) this.document.setIn(['settings', key], settings[key]);
    }
    this.currentSettings = settings;
    await this.save();
    return { ...settings };
  }

  async save(): Promise<void> {
    // Hosts are rewritten only when they changed, so saving settings keeps the comments among the hosts.
    const written = (this.document.toJS() as { hosts?: unknown } | null)?.hosts;
    if (!isDeepStrictEqual(written, this.hosts)) this.document.set('hosts', this.document.createNode(this.hosts));
    const snapshot = this.document.clone();
    const saved = this.saving.then(() => saveWorkspaceDocument(this.workspaceDir, snapshot));
    this.saving = saved.catch(() => undefined);
    await saved;
  }
}

function assertUniqueNames(hosts: readonly Host[], file: string): void {
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.name)) throw new CnlabError('invalid-input', `${file}: host ${host.name} appears twice: rename or remove one`);
    seen.add(host.name);
  }
}
