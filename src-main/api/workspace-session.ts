// One open workspace: its HostService (inventory, SSH pool, facts), LabService and ExperimentService, plus the workspace's
// saved topologies (topologies/<name>.yaml) and the recently opened list kept in the user's config folder.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CnlabError } from '../core/errors';
import type { CommandJournal } from '../core/exec/command-journal';
import { writeFileAtomic } from '../core/fs/atomic-write';
import { ExperimentService } from '../core/experiment/experiment-service';
import { HostService } from '../core/hosts/host-service';
import { layeredSecretLookup, type SecretSources } from '../core/hosts/secret-store';
import { WORKSPACE_FILE } from '../core/hosts/inventory';
import { LabService } from '../core/topology/lab-service';
import { NamedDocuments } from '../core/workspace/named-documents';
import { copyWorkspace } from '../core/workspace/workspace-copy';
import type { SavedTopology, WorkspaceInfo } from '../contract/lab-api';

export interface SessionEnvironment {
  configDir: string;
  homeDir: string;
  env: NodeJS.ProcessEnv;
  journal: CommandJournal;
  /** Session values and the secret store, asked before the environment variables the inventory names. */
  secrets?: Pick<SecretSources, 'session' | 'store'>;
}

const MAX_RECENT = 10;

export class WorkspaceSession {
  readonly topologies: NamedDocuments;
  readonly experimentFiles: NamedDocuments;

  private constructor(
    readonly dir: string,
    readonly hosts: HostService,
    readonly labs: LabService,
    readonly experiments: ExperimentService,
  ) {
    this.topologies = new NamedDocuments(join(dir, 'topologies'), 'topology');
    this.experimentFiles = new NamedDocuments(join(dir, 'experiments'), 'experiment');
  }

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
      // Secrets never go into the workspace: the inventory names environment variables, the console's
      // secret store (OS-encrypted) or session memory holds the rest.
      secrets: layeredSecretLookup({ ...environment.secrets, env, workspace: workspaceDir }),
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
    const inventory = this.hosts.inventory;
    return {
      dir: this.dir,
      hostCount: inventory.list().length,
      topologies: await this.listTopologies(),
      experiments: await this.experimentFiles.list(),
      settings: { ...inventory.settings() },
      upgrade: inventory.upgrade,
    };
  }


  listTopologies(): Promise<string[]> {
    return this.topologies.list();
  }

  async readTopology(name: string): Promise<SavedTopology> {
    return { name, text: await this.topologies.read(name) };
  }

  /** Saved as typed, even when it does not validate yet: a user's work is never lost to a validation error. */
  saveTopology(topology: SavedTopology): Promise<void> {
    return this.topologies.save(topology.name, topology.text);
  }

  /** A copy of this workspace in a new or empty folder (see copyWorkspace); returns its folder. */
  saveAs(target: string): Promise<string> {
    return copyWorkspace(this.dir, target);
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
