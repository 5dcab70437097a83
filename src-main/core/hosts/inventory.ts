// The host inventory of a workspace, kept in workspace.yaml under `hosts:`. Other keys of the file
// (and its comments) are preserved, so later features can share the file without clobbering it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { hostSchema, type Host, type HostInput, type SshHost } from './host-model';

export const WORKSPACE_FILE = 'workspace.yaml';
export const WORKSPACE_FORMAT_VERSION = 1;

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`).join('; ');
}

/** Validates a host entry, naming the host and the field in the error. */
export function parseHost(input: unknown): Host {
  const result = hostSchema.safeParse(input);
  if (result.success) return result.data;
  const name = typeof input === 'object' && input && 'name' in input ? String((input).name) : '(unnamed)';
  throw new CnlabError('invalid-input', `host ${name}: ${formatIssues(result.error)}`);
}

export class HostInventory {
  private constructor(
    readonly workspaceDir: string,
    private readonly document: Document,
    private hosts: Host[],
  ) {}

  static async load(workspaceDir: string): Promise<HostInventory> {
    const file = join(workspaceDir, WORKSPACE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new CnlabError('io', `cannot read ${file}: ${(error as Error).message}`);
      }
      const document = parseDocument(`formatVersion: ${WORKSPACE_FORMAT_VERSION}\nhosts: []\n`);
      return new HostInventory(workspaceDir, document, []);
    }
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      throw new CnlabError('invalid-input', `${file} is not valid YAML: ${document.errors[0]?.message ?? ''}: fix or restore the file`);
    }
    const raw = (document.toJS() ?? {}) as { formatVersion?: unknown; hosts?: unknown };
    if (raw.formatVersion !== undefined && raw.formatVersion !== WORKSPACE_FORMAT_VERSION) {
      throw new CnlabError('invalid-input', `${file} has format version ${JSON.stringify(raw.formatVersion)}; this cnlab reads version ${WORKSPACE_FORMAT_VERSION}: upgrade cnlab`);
    }
    const list = raw.hosts ?? [];
    if (!Array.isArray(list)) throw new CnlabError('invalid-input', `${file}: hosts must be a list`);
    const hosts = list.map((entry) => parseHost(entry));
    assertUniqueNames(hosts, file);
    return new HostInventory(workspaceDir, document, hosts);
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

  async save(): Promise<void> {
    if (!this.document.has('formatVersion')) this.document.set('formatVersion', WORKSPACE_FORMAT_VERSION);
    this.document.set('hosts', this.document.createNode(this.hosts));
    await writeFileAtomic(join(this.workspaceDir, WORKSPACE_FILE), this.document.toString());
  }
}

function assertUniqueNames(hosts: readonly Host[], file: string): void {
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.name)) throw new CnlabError('invalid-input', `${file}: host ${host.name} appears twice: rename or remove one`);
    seen.add(host.name);
  }
}
