// One open workspace: its HostService (inventory, SSH pool, facts), LabService and ExperimentService, plus the workspace's
// saved topologies (topologies/<name>.yaml) and the recently opened list kept in the user's config folder.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CnlabError } from '../core/errors';
import type { CommandJournal } from '../core/exec/command-journal';
import { writeFileAtomic } from '../core/fs/atomic-write';
import { ExperimentService } from '../core/experiment/experiment-service';
import { HostService } from '../core/hosts/host-service';
import { WORKSPACE_FILE } from '../core/hosts/inventory';
import { LabService } from '../core/topology/lab-service';
import type { SavedTopology, WorkspaceInfo } from '../contract/lab-api';

export interface SessionEnvironment {
  configDir: string;
  homeDir: string;
  env: NodeJS.ProcessEnv;
  journal: CommandJournal;
}

const MAX_RECENT = 10;

export class WorkspaceSession {
  private constructor(
    readonly dir: string,
    readonly hosts: HostService,
    readonly labs: LabService,
    readonly experiments: ExperimentService,
  ) {}

  /** Opens a workspace folder; `create` makes it (and its workspace.yaml) when missing. */
  static async open(dir: string, create: boolean, environment: SessionEnvironment): Promise<WorkspaceSession> {
    const workspaceDir = resolve(dir);
    const exists = await stat(join(workspaceDir, WORKSPACE_FILE)).then(() => true, () => false);
    if (!exists && !create) {
      throw new CnlabError('not-found', `${workspaceDir} is not a cnlab workspace (it has no ${WORKSPACE_FILE}): choose "New workspace" to create one there`);
    }
    const { env } = environment;
    const hosts = await HostService.open({
      workspaceDir,
      configDir: environment.configDir,
      homeDir: environment.homeDir,
      // Secrets are never stored by cnlab: the inventory names environment variables that hold them.
      secrets: (name) => env[name],
      journal: environment.journal,
      ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}),
      ...(env.CNLAB_CONNECT_TIMEOUT_MS ? { connectTimeoutMs: Number(env.CNLAB_CONNECT_TIMEOUT_MS) } : {}),
    });
    if (!exists) {
      await mkdir(workspaceDir, { recursive: true });
      await hosts.inventory.save();
    }
    await rememberRecent(environment.configDir, workspaceDir);
    const labs = new LabService(hosts, workspaceDir);
    return new WorkspaceSession(workspaceDir, hosts, labs, new ExperimentService(hosts, labs, workspaceDir));
  }

  async info(): Promise<WorkspaceInfo> {
    return { dir: this.dir, hostCount: this.hosts.inventory.list().length, topologies: await this.listTopologies() };
  }

  private topologyFile(name: string): string {
    return join(this.dir, 'topologies', `${name}.yaml`);
  }

  async listTopologies(): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'topologies'))).filter((file) => file.endsWith('.yaml')).map((file) => file.slice(0, -5)).sort();
    } catch {
      return [];
    }
  }

  async readTopology(name: string): Promise<SavedTopology> {
    try {
      return { name, text: await readFile(this.topologyFile(name), 'utf8') };
    } catch {
      const known = await this.listTopologies();
      throw new CnlabError('not-found', `topology ${name} is not saved in this workspace (saved: ${known.join(', ') || 'none'})`);
    }
  }

  /** Saved as typed, even when it does not validate yet: a user's work is never lost to a validation error. */
  async saveTopology(topology: SavedTopology): Promise<void> {
    await mkdir(join(this.dir, 'topologies'), { recursive: true });
    await writeFileAtomic(this.topologyFile(topology.name), topology.text.endsWith('\n') ? topology.text : `${topology.text}\n`);
  }

  close(): Promise<void> {
    return this.hosts.close();
  }
}

function recentFile(configDir: string): string {
  return join(configDir, 'recent-workspaces.json');
}

export async function recentWorkspaces(configDir: string): Promise<string[]> {
  try {
    const list: unknown = JSON.parse(await readFile(recentFile(configDir), 'utf8'));
    return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string').slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

async function rememberRecent(configDir: string, dir: string): Promise<void> {
  const list = [dir, ...(await recentWorkspaces(configDir)).filter((item) => item !== dir)].slice(0, MAX_RECENT);
  await mkdir(configDir, { recursive: true });
  await writeFileAtomic(recentFile(configDir), `${JSON.stringify(list, null, 2)}\n`);
}
