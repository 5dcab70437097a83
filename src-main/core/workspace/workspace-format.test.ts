// workspace.yaml versions: a v1 file is upgraded to v2 in place (hosts, comments and unknown keys kept, defaults
// filled), its original bytes kept once as a backup; newer and nonsense versions and invalid fields are refused
// with errors that name the file, the field and the fix.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { HostInventory } from '../hosts/inventory';
import { loadWorkspaceDocument, saveWorkspaceDocument } from './workspace-file';
import { upgradeWorkspaceDocument, WORKSPACE_FORMAT_VERSION, WORKSPACE_UPGRADES, workspaceV1Schema } from './workspace-format';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'workspace-v1.yaml');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workspaceWith(text: string | Buffer | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cnlab-workspace-'));
  dirs.push(dir);
  if (text !== null) await writeFile(join(dir, 'workspace.yaml'), text);
  return dir;
}

async function loadError(dir: string): Promise<CnlabError> {
  const error: unknown = await loadWorkspaceDocument(dir).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CnlabError);
  return error as CnlabError;
}

function upgradeError(text: string): CnlabError {
  try {
    upgradeWorkspaceDocument(parseDocument(text), '/ws/workspace.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(CnlabError);
    return error as CnlabError;
  }
  throw new Error('expected the upgrade to fail');
}

describe('workspace format', () => {
  it('has one upgrade step per version, in order, ending at the current version', () => {
    expect(WORKSPACE_UPGRADES.map((step) => [step.from, step.to])).toEqual([[1, 2]]);
    expect(WORKSPACE_UPGRADES.at(-1)?.to).toBe(WORKSPACE_FORMAT_VERSION);
  });

  it('upgrades the v1 fixture to v2: same hosts, defaults filled, comments and unknown keys kept, a backup of the original', async () => {
    const original = await readFile(FIXTURE);
    const v1 = workspaceV1Schema.parse(parseDocument(original.toString()).toJS());
    const dir = await workspaceWith(original);

    const loaded = await loadWorkspaceDocument(dir);
    expect(loaded.upgradedFrom).toBe(1);
    expect(loaded.backupFile).toBe(join(dir, 'workspace.v1.yaml.bak'));
    expect(await readFile(join(dir, 'workspace.v1.yaml.bak'))).toEqual(original);

    const text = await readFile(join(dir, 'workspace.yaml'), 'utf8');
    const upgraded = parseDocument(text).toJS() as Record<string, unknown>;
    expect(upgraded.formatVersion).toBe(2);
    expect(upgraded.hosts).toEqual(v1.hosts);
    expect(upgraded.settings).toEqual({ autosaveMs: 1500 });
    expect(upgraded.owner).toBe('netlab-team');
    expect(loaded.workspace.settings).toEqual({ autosaveMs: 1500 });
    for (const comment of ['# cnlab workspace of the network lab (rack B).', '# written by cnlab 0.1', '# The big box under the desk', "# Kept by the team's scripts"]) {
      expect(text).toContain(comment);
    }
    expect(text.startsWith('# cnlab workspace of the network lab (rack B).')).toBe(true);

    // The inventory reads the upgraded hosts exactly as the v1 file had them.
    const inventory = await HostInventory.load(dir);
    expect(inventory.list().map((host) => host.name)).toEqual(['lab-a', 'lab-b']);
    expect(inventory.getSsh('lab-a').auth).toEqual({ type: 'key', keyFile: '~/.ssh/lab_ed25519', passphraseEnv: 'CNLAB_LAB_KEY_PASSPHRASE' });
    expect(inventory.getSsh('lab-b').auth).toEqual({ type: 'agent' });

    // Loading again neither upgrades nor writes another backup (nor rewrites the file).
    const again = await loadWorkspaceDocument(dir);
    expect(again.upgradedFrom).toBeNull();
    expect(again.backupFile).toBeNull();
    expect(await readFile(join(dir, 'workspace.yaml'), 'utf8')).toBe(text);
    expect((await readdir(dir)).sort()).toEqual(['workspace.v1.yaml.bak', 'workspace.yaml']);
  });

  it('never overwrites an existing backup: a different one moves the new backup to the next free name', async () => {
    const original = await readFile(FIXTURE);
    const dir = await workspaceWith(original);
    await writeFile(join(dir, 'workspace.v1.yaml.bak'), 'an older backup\n');
    await writeFile(join(dir, 'workspace.v1.1.yaml.bak'), 'another one\n');
    const loaded = await loadWorkspaceDocument(dir);
    expect(loaded.backupFile).toBe(join(dir, 'workspace.v1.2.yaml.bak'));
    expect(await readFile(join(dir, 'workspace.v1.yaml.bak'), 'utf8')).toBe('an older backup\n');
    expect(await readFile(join(dir, 'workspace.v1.1.yaml.bak'), 'utf8')).toBe('another one\n');
    expect(await readFile(join(dir, 'workspace.v1.2.yaml.bak'))).toEqual(original);
  });

  it('reuses a backup of the same bytes (an upgrade killed between its backup and its write)', async () => {
    const original = await readFile(FIXTURE);
    const dir = await workspaceWith(original);
    await writeFile(join(dir, 'workspace.v1.yaml.bak'), original);
    const loaded = await loadWorkspaceDocument(dir);
    expect(loaded.upgradedFrom).toBe(1);
    expect(loaded.backupFile).toBe(join(dir, 'workspace.v1.yaml.bak'));
    expect((await readdir(dir)).sort()).toEqual(['workspace.v1.yaml.bak', 'workspace.yaml']);
  });

  it('treats a file without formatVersion as version 1 and puts the version first', async () => {
    const dir = await workspaceWith('# my hosts\nhosts: []\n');
    const loaded = await loadWorkspaceDocument(dir);
    expect(loaded.upgradedFrom).toBe(1);
    const text = await readFile(join(dir, 'workspace.yaml'), 'utf8');
    expect(text).toContain('# my hosts');
    expect(Object.keys(parseDocument(text).toJS() as object)[0]).toBe('formatVersion');
    expect(await readFile(join(dir, 'workspace.v1.yaml.bak'), 'utf8')).toBe('# my hosts\nhosts: []\n');
  });

  it('starts a missing workspace.yaml as a fresh v2 document without writing it', async () => {
    const dir = await workspaceWith(null);
    const loaded = await loadWorkspaceDocument(dir);
    expect(loaded.upgradedFrom).toBeNull();
    expect(loaded.workspace).toEqual({ formatVersion: 2, hosts: [], settings: { autosaveMs: 1500 } });
    expect(await readdir(dir)).toEqual([]);
    await saveWorkspaceDocument(dir, loaded.document);
    expect((await loadWorkspaceDocument(dir)).workspace).toEqual(loaded.workspace);
  });

  it('refuses a file from a newer cnlab, writing nothing', async () => {
    const dir = await workspaceWith('formatVersion: 3\nhosts: []\n');
    const error = await loadError(dir);
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(`${join(dir, 'workspace.yaml')} has format version 3; this cnlab reads up to 2: upgrade cnlab`);
    expect(await readdir(dir)).toEqual(['workspace.yaml']);
  });

  it.each([
    ['"two"', 'formatVersion: two'],
    ['1.5', 'formatVersion: 1.5'],
    ['-1', 'formatVersion: -1'],
    ['0', 'formatVersion: 0'],
    ['"2"', 'formatVersion: "2"'],
    ['(empty)', 'formatVersion:'],
  ])('refuses the nonsense version %s, naming the file and the fix', (shown, line) => {
    const error = upgradeError(`${line}\nhosts: []\n`);
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(
      `/ws/workspace.yaml: formatVersion ${shown} is not a format version: it must be a whole number from 1 to 2 without quotes (this cnlab writes 2): fix the file or restore it from a backup`,
    );
  });

  it('names the field path and the file of invalid settings', () => {
    const base = 'formatVersion: 2\nhosts: []\n';
    expect(upgradeError(`${base}settings:\n  autosaveMs: 50\n`).message).toMatch(/^\/ws\/workspace\.yaml: settings\.autosaveMs: .*200.*: fix the file or restore it from a backup$/);
    expect(upgradeError(`${base}settings:\n  autosaveMs: 1000.5\n`).message).toMatch(/^\/ws\/workspace\.yaml: settings\.autosaveMs: /);
    expect(upgradeError(`${base}settings:\n  autosaveMs: fast\n`).message).toMatch(/^\/ws\/workspace\.yaml: settings\.autosaveMs: /);
    expect(upgradeError(`${base}settings:\n  autosaveMS: 1000\n`).message).toMatch(/^\/ws\/workspace\.yaml: settings: .*autosaveMS/);
    // A v1 file is checked against the v1 schema before it is upgraded.
    expect(upgradeError('formatVersion: 1\nhosts: nope\n').message).toMatch(/^\/ws\/workspace\.yaml: hosts: /);
    expect(upgradeError('- a list\n').message).toMatch(/^\/ws\/workspace\.yaml: the top level must be a mapping/);
  });

  it('names the file of unparsable YAML and the fix', async () => {
    const dir = await workspaceWith('formatVersion: 1\nhosts: [\n');
    const error = await loadError(dir);
    expect(error.message).toMatch(new RegExp(`^${join(dir, 'workspace.yaml').replaceAll('.', '\\.')} is not valid YAML: .*: fix or restore the file$`, 's'));
    // An alias that points nowhere is caught too (the yaml library throws it from toJS, not into errors).
    const alias = await loadError(await workspaceWith('formatVersion: *a\n'));
    expect(alias.message).toMatch(/workspace\.yaml is not valid YAML: Unresolved alias .*: fix or restore the file$/);
    // Nesting deep enough to exhaust the library's recursion is refused before it is parsed.
    const deep = await loadError(await workspaceWith(`formatVersion: 2\nhosts: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`));
    expect(deep.message).toMatch(/workspace\.yaml is not valid YAML: nested too deeply at line 2, column \d+ .*: fix or restore the file$/);
  });

  it('refuses to save a document that is not valid in the current format', async () => {
    const dir = await workspaceWith(null);
    const { document } = await loadWorkspaceDocument(dir);
    document.setIn(['settings', 'autosaveMs'], 10);
    await expect(saveWorkspaceDocument(dir, document)).rejects.toThrow(/settings\.autosaveMs/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('inventory settings', () => {
  it('edits settings in the file, keeping its comments, and reads them back', async () => {
    const dir = await workspaceWith(await readFile(FIXTURE));
    const inventory = await HostInventory.load(dir);
    expect(inventory.settings()).toEqual({ autosaveMs: 1500 });

    await inventory.setSettings({ autosaveMs: 3000 });
    await expect(inventory.setSettings({ autosaveMs: 100 })).rejects.toThrow(/workspace settings: autosaveMs: /);

    const reloaded = await HostInventory.load(dir);
    expect(reloaded.settings()).toEqual({ autosaveMs: 3000 });
    expect(reloaded.list().map((host) => host.name)).toEqual(['lab-a', 'lab-b']);
    const text = await readFile(join(dir, 'workspace.yaml'), 'utf8');
    expect(text).toContain('# written by cnlab 0.1');
    expect(text).toContain('# The big box under the desk'); // hosts unchanged: not rewritten
    expect(text).toContain('owner: netlab-team');

    // A changed host is written; the other keys and comments stay.
    reloaded.add({ ...reloaded.getSsh('lab-b'), port: 2200 }, { replace: true });
    await reloaded.save();
    const third = await HostInventory.load(dir);
    expect(third.getSsh('lab-b').port).toBe(2200);
    expect(third.settings().autosaveMs).toBe(3000);
    expect(await readFile(join(dir, 'workspace.yaml'), 'utf8')).toContain('# written by cnlab 0.1');
  });

  it('writes concurrent saves in the order they were asked for', async () => {
    const dir = await workspaceWith(null);
    const inventory = await HostInventory.load(dir);
    await Promise.all(Array.from({ length: 20 }, (_, index) => inventory.setSettings({ autosaveMs: 1000 + index })));
    expect((await HostInventory.load(dir)).settings().autosaveMs).toBe(1019);
  });
});
