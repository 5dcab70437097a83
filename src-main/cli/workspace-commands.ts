// `cnlab workspace new|info|upgrade|save-as|recent`: the console's File menu from a terminal. The
// workspace is --workspace (or $CNLAB_WORKSPACE, or the default); opening an older one upgrades it and
// keeps the original beside it, and says so.
import { homedir } from 'node:os';
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { listImportedBundles } from '../core/bundle/bundle-import';
import { CnlabError } from '../core/errors';
import { listRunsIn } from '../core/experiment/experiment-service';
import { RunStore } from '../core/experiment/run-store';
import { HostInventory, WORKSPACE_FILE, WORKSPACE_FORMAT_VERSION } from '../core/hosts/inventory';
import { NamedDocuments } from '../core/workspace/named-documents';
import { resolveConfigDir, resolveWorkspaceDir } from '../core/workspace/paths';
import { copyWorkspace } from '../core/workspace/workspace-copy';
import { recentWorkspaces } from '../api/workspace-session';
import type { GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

function paths(globals: GlobalOptions): { workspaceDir: string; configDir: string } {
  const environment = { env: process.env, homeDir: process.env.HOME || homedir() };
  return { workspaceDir: resolveWorkspaceDir(globals.workspace, environment), configDir: resolveConfigDir(environment) };
}

async function isWorkspace(dir: string): Promise<boolean> {
  return stat(join(dir, WORKSPACE_FILE)).then(() => true, () => false);
}

async function openExisting(dir: string): Promise<HostInventory> {
  if (!(await isWorkspace(dir))) throw new CnlabError('not-found', `${dir} is not a cnlab workspace (it has no ${WORKSPACE_FILE}): create one with \`cnlab workspace new ${dir}\``);
  return HostInventory.load(dir);
}

function upgradeLine(inventory: HostInventory): string {
  return inventory.upgrade ? `upgraded from format ${inventory.upgrade.from} to ${WORKSPACE_FORMAT_VERSION}; the original is kept as ${inventory.upgrade.backupFile}\n` : '';
}

async function summary(dir: string, inventory: HostInventory) {
  const [topologies, experiments, runs, imports] = await Promise.all([
    new NamedDocuments(join(dir, 'topologies'), 'topology').list(),
    new NamedDocuments(join(dir, 'experiments'), 'experiment').list(),
    listRunsIn(new RunStore(dir)),
    listImportedBundles(dir),
  ]);
  return { dir, formatVersion: WORKSPACE_FORMAT_VERSION, hosts: inventory.list().map((host) => host.name), topologies, experiments, runs: runs.length, imports, settings: inventory.settings(), upgrade: inventory.upgrade };
}

export function registerWorkspaceCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const workspace = program.command('workspace').description('create, inspect, upgrade and copy workspaces (the File menu of the console)');

  workspace
    .command('new')
    .description('create a workspace in a new or empty folder')
    .argument('<dir>', 'the folder (created when missing)')
    .action(async (dir: string) => {
      const target = resolve(dir);
      if (await isWorkspace(target)) throw new CnlabError('invalid-input', `${target} is already a workspace: use it with --workspace ${target}`);
      await mkdir(target, { recursive: true });
      const inventory = await HostInventory.load(target);
      await inventory.save();
      if (globals().json) return printJson(io, { ok: true, dir: target, formatVersion: WORKSPACE_FORMAT_VERSION });
      io.stdout(`created workspace ${target} (format ${WORKSPACE_FORMAT_VERSION}); use it with --workspace ${target}\n`);
    });

  workspace
    .command('info')
    .description("what the workspace holds: hosts, topologies, experiments, runs, imported bundles, settings")
    .action(async () => {
      const { workspaceDir } = paths(globals());
      const inventory = await openExisting(workspaceDir);
      const facts = await summary(workspaceDir, inventory);
      if (globals().json) return printJson(io, facts);
      const rows = [
        ['folder', facts.dir],
        ['format', String(facts.formatVersion)],
        ['hosts', facts.hosts.join(', ') || '(none)'],
        ['topologies', facts.topologies.join(', ') || '(none)'],
        ['experiments', facts.experiments.join(', ') || '(none)'],
        ['runs', String(facts.runs)],
        ['imported bundles', facts.imports.join(', ') || '(none)'],
        ['autosave', `${facts.settings.autosaveMs} ms after the last edit`],
      ];
      io.stdout(`${upgradeLine(inventory)}${formatTable(['', ''], rows).split('\n').slice(1).join('\n')}`);
    });

  workspace
    .command('upgrade')
    .description("bring an older workspace.yaml to this cnlab's format (the original is kept beside it)")
    .action(async () => {
      const { workspaceDir } = paths(globals());
      const inventory = await openExisting(workspaceDir);
      if (globals().json) return printJson(io, { ok: true, dir: workspaceDir, formatVersion: WORKSPACE_FORMAT_VERSION, upgrade: inventory.upgrade });
      io.stdout(upgradeLine(inventory) || `${workspaceDir} is already format ${WORKSPACE_FORMAT_VERSION}: nothing to do\n`);
    });

  workspace
    .command('save-as')
    .description('copy the workspace (file, topologies, experiments, runs, imports; not applied labs) into a new or empty folder')
    .argument('<dir>', 'the new folder')
    .action(async (dir: string) => {
      const { workspaceDir } = paths(globals());
      await openExisting(workspaceDir);
      const copy = await copyWorkspace(workspaceDir, dir);
      if (globals().json) return printJson(io, { ok: true, from: workspaceDir, dir: copy });
      io.stdout(`copied ${workspaceDir} to ${copy}; use the copy with --workspace ${copy}\n`);
    });

  workspace
    .command('recent')
    .description('the workspaces the console opened lately, newest first')
    .action(async () => {
      const recent = await recentWorkspaces(paths(globals()).configDir);
      if (globals().json) return printJson(io, recent);
      io.stdout(recent.length > 0 ? `${recent.join('\n')}\n` : 'no workspace opened in the console yet\n');
    });
}
