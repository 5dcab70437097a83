// Workspaces through the console's API: experiments saved and read back as typed, a workspace copied with
// Save As (not its applied labs nor caches) and continued in the copy, a copy refused into a non-empty
// folder or into itself, and an older workspace.yaml upgraded on open with its original kept and reported.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceInfo } from '../../src-main/contract/lab-api';
import { openTestConsole, type TestConsole } from '../support/lab-console';
import { writeSyntheticRuns } from '../support/synthetic-runs';

const V1_FIXTURE = join(__dirname, '..', '..', 'src-main', 'core', 'workspace', 'fixtures', 'workspace-v1.yaml');
const EXPERIMENT = 'v: 1\nkind: experiment\nname: bridge-vs-vxlan\n# not valid yet: saved as typed\n';

let lab: TestConsole;

beforeAll(async () => {
  lab = await openTestConsole('cnlab-api-workspace-');
});

afterAll(async () => {
  await lab?.dispose();
});

describe('workspaces through the LabApi', () => {
  it('saves experiments as typed and lists them in the workspace info', async () => {
    await lab.value('saveExperiment', { name: 'bridge-vs-vxlan', text: EXPERIMENT });
    expect(await lab.value('listExperiments')).toEqual(['bridge-vs-vxlan']);
    expect(await lab.value('readExperiment', { name: 'bridge-vs-vxlan' })).toEqual({ name: 'bridge-vs-vxlan', text: EXPERIMENT });
    expect(readFileSync(join(lab.workspaceDir, 'experiments', 'bridge-vs-vxlan.yaml'), 'utf8')).toBe(EXPERIMENT);
    const info = await lab.value<WorkspaceInfo>('getWorkspaceInfo');
    expect(info).toMatchObject({ dir: lab.workspaceDir, experiments: ['bridge-vs-vxlan'], settings: { autosaveMs: 1500 }, upgrade: null });
    const missing = await lab.call('readExperiment', { name: 'nothing-here' });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toBe('experiment nothing-here is not saved in this workspace (saved: bridge-vs-vxlan)');
    const badName = await lab.call('saveExperiment', { name: '../escape', text: 'x' });
    expect(badName.ok).toBe(false);
  });

  it('copies the workspace with Save As and continues in the copy; applied labs and caches stay behind', async () => {
    await lab.value('saveTopology', { name: 'two-hosts', text: 'v: 1\nname: two-hosts\n' });
    await writeSyntheticRuns(lab.workspaceDir, 2);
    mkdirSync(join(lab.workspaceDir, 'labs'), { recursive: true });
    writeFileSync(join(lab.workspaceDir, 'labs', 'lab1.json'), '{}');
    mkdirSync(join(lab.workspaceDir, 'cache', 'facts'), { recursive: true });
    writeFileSync(join(lab.workspaceDir, 'cache', 'facts', 'h1.json'), '{}');
    const copy = join(lab.scratch, 'copy.cnlab');
    const info = await lab.value<WorkspaceInfo>('saveWorkspaceAs', { dir: copy });
    expect(info).toMatchObject({ dir: copy, topologies: ['two-hosts'], experiments: ['bridge-vs-vxlan'] });
    expect(readdirSync(copy).sort()).toEqual(['experiments', 'runs', 'topologies', 'workspace.yaml']);
    expect(readdirSync(join(copy, 'runs')).filter((name) => name !== 'index.json')).toHaveLength(2);
    await expect.poll(() => lab.events().some((event) => event.type === 'workspace-changed' && event.workspace.dir === copy)).toBe(true);
    expect((await lab.value<WorkspaceInfo>('getWorkspaceInfo')).dir).toBe(copy);

    const intoItself = await lab.call('saveWorkspaceAs', { dir: join(copy, 'inner') });
    expect(intoItself.ok).toBe(false);
    if (!intoItself.ok) expect(intoItself.error.message).toMatch(/is this workspace or inside it/);
    const notEmpty = await lab.call('saveWorkspaceAs', { dir: lab.workspaceDir });
    expect(notEmpty.ok).toBe(false);
    if (!notEmpty.ok) expect(notEmpty.error.message).toMatch(/is not empty: choose a new or empty folder/);
  });

  it('upgrades a version-1 workspace on open, keeps the original, and says so', async () => {
    const old = join(lab.scratch, 'old.cnlab');
    mkdirSync(old);
    copyFileSync(V1_FIXTURE, join(old, 'workspace.yaml'));
    const info = await lab.value<WorkspaceInfo>('openWorkspace', { dir: old, create: false });
    expect(info.upgrade).toEqual({ from: 1, backupFile: join(old, 'workspace.v1.yaml.bak') });
    expect(readFileSync(join(old, 'workspace.v1.yaml.bak'), 'utf8')).toBe(readFileSync(V1_FIXTURE, 'utf8'));
    expect(readFileSync(join(old, 'workspace.yaml'), 'utf8')).toMatch(/^formatVersion: 2\b/m);
    expect(info.hostCount).toBe(2);
    // Opened again: nothing more to upgrade, no second backup.
    const again = await lab.value<WorkspaceInfo>('openWorkspace', { dir: old, create: false });
    expect(again.upgrade).toBeNull();
    expect(readdirSync(old).filter((name) => name.endsWith('.bak'))).toEqual(['workspace.v1.yaml.bak']);
    expect(existsSync(join(old, 'labs'))).toBe(false);
  });
});
