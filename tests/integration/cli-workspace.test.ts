// `cnlab workspace` as a user runs it: new, info, upgrade of a version-1 file (original kept, said once),
// save-as (not the applied labs), recent, and the refusals with their fixes.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { writeSyntheticRuns } from '../support/synthetic-runs';

const V1_FIXTURE = join(__dirname, '..', '..', 'src-main', 'core', 'workspace', 'fixtures', 'workspace-v1.yaml');
let scratch: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  assertCliBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-cli-workspace-'));
  env = { HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config') };
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, env);

describe('cnlab workspace', () => {
  it('creates a workspace and tells what it holds', async () => {
    const dir = join(scratch, 'lab1.cnlab');
    const created = await cli(['workspace', 'new', dir]);
    expect(created.code, created.stderr).toBe(0);
    expect(readFileSync(join(dir, 'workspace.yaml'), 'utf8')).toMatch(/^formatVersion: 2\b/m);
    await writeSyntheticRuns(dir, 3);
    const info = await cli(['--workspace', dir, '--json', 'workspace', 'info']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ dir, formatVersion: 2, hosts: [], runs: 3, imports: [], settings: { autosaveMs: 1500 }, upgrade: null });
    const again = await cli(['workspace', 'new', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`is already a workspace: use it with --workspace ${dir}`);
  });

  it('upgrades a version-1 workspace once, keeping the original', async () => {
    const dir = join(scratch, 'old.cnlab');
    mkdirSync(dir);
    copyFileSync(V1_FIXTURE, join(dir, 'workspace.yaml'));
    const upgraded = await cli(['--workspace', dir, 'workspace', 'upgrade']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toBe(`upgraded from format 1 to 2; the original is kept as ${join(dir, 'workspace.v1.yaml.bak')}\n`);
    expect(readFileSync(join(dir, 'workspace.v1.yaml.bak'), 'utf8')).toBe(readFileSync(V1_FIXTURE, 'utf8'));
    const info = await cli(['--workspace', dir, 'workspace', 'info']);
    expect(info.stdout).toMatch(/hosts +lab-a, lab-b/);
    expect((await cli(['--workspace', dir, 'workspace', 'upgrade'])).stdout).toBe(`${dir} is already format 2: nothing to do\n`);
  });

  it('copies with save-as, leaving applied labs behind, and refuses a non-empty target', async () => {
    const dir = join(scratch, 'lab1.cnlab');
    mkdirSync(join(dir, 'labs'));
    writeFileSync(join(dir, 'labs', 'lab.json'), '{}');
    const copy = join(scratch, 'copy.cnlab');
    const copied = await cli(['--workspace', dir, 'workspace', 'save-as', copy]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(readdirSync(copy).sort()).toEqual(['runs', 'workspace.yaml']);
    expect(existsSync(join(copy, 'labs'))).toBe(false);
    const refused = await cli(['--workspace', dir, 'workspace', 'save-as', copy]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is not empty: choose a new or empty folder for the copy');
    const missing = await cli(['--workspace', join(scratch, 'nothing'), 'workspace', 'info']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('create one with `cnlab workspace new');
  });

  it('lists recent workspaces (none before the console opened one)', async () => {
    const recent = await cli(['workspace', 'recent']);
    expect(recent.code).toBe(0);
    expect(recent.stdout).toBe('no workspace opened in the console yet\n');
  });
});
