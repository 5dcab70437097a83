// `cnlab bundle export|verify|import` and `cnlab report` as a user runs them, on runs written by the real
// run store: the bundle verifies and carries report.html and chart SVGs, a flipped byte is named, an
// import lands in a new folder of the workspace each time.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { writeSyntheticRuns } from '../support/synthetic-runs';

let scratch: string;
let workspace: string;
let env: NodeJS.ProcessEnv;
let ids: string[];

beforeAll(async () => {
  assertCliBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-cli-bundle-'));
  workspace = join(scratch, 'ws');
  env = { HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config'), CNLAB_WORKSPACE: workspace };
  ids = await writeSyntheticRuns(workspace, 2);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('cnlab bundle', () => {
  it('exports runs, verifies the bundle, and imports it into a new folder each time', async () => {
    const bundle = join(scratch, 'two.tar.gz');
    const exported = await runCli(['bundle', 'export', ...ids, '-o', bundle], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/wrote .*two\.tar\.gz: 2 runs/);

    const verified = await runCli(['--json', 'bundle', 'verify', bundle], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, manifest: { bundleFormat: 1, runs: [{ runId: ids[0], toolVersions: {}, deployed: {} }, { runId: ids[1] }] } });

    for (const folder of ['two', 'two-2']) {
      const imported = await runCli(['bundle', 'import', bundle], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain(join(workspace, 'imports', folder));
      expect(readdirSync(join(workspace, 'imports', folder, 'runs')).sort()).toEqual(ids);
    }
    const imported = join(workspace, 'imports', 'two');
    expect(readdirSync(imported).sort()).toEqual(['charts', 'manifest.json', 'report.html', 'results.csv', 'runs']);
    for (const id of ids) expect(readdirSync(join(imported, 'charts', id)).sort()).toEqual(['ci-bars.svg', 'sizes.svg']);
    const svg = readFileSync(join(imported, 'charts', ids[0] ?? '', 'ci-bars.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*bridge[\s\S]*macvlan[\s\S]*vxlan[\s\S]*<\/svg>$/);
    const report = readFileSync(join(imported, 'report.html'), 'utf8');
    expect(report).toContain(ids[1]);
    expect(report.match(/<svg/g)?.length).toBe(4);
  });

  it('writes report.html for runs with `cnlab report`', async () => {
    const file = join(scratch, 'report.html');
    const result = await runCli(['report', ids[0] ?? '', '-o', file], env);
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    expect(html).toMatch(/<section class="table" data-table="throughput">/);
    expect(html).not.toContain(ids[1]);
  });

  it('names the modified file when a byte was flipped, and writes nothing on import', async () => {
    const bundle = join(scratch, 'flipped.tar.gz');
    expect((await runCli(['bundle', 'export', ids[0] ?? '', '-o', bundle], env)).code).toBe(0);
    const tar = gunzipSync(readFileSync(bundle));
    const at = tar.indexOf('"throughputBitsPerSecond"');
    tar[at + 2] = tar[at + 2] === 0x68 ? 0x48 : 0x68;
    writeFileSync(bundle, gzipSync(tar));
    const verified = await runCli(['bundle', 'verify', bundle], env);
    expect(verified.code).not.toBe(0);
    expect(verified.stderr).toMatch(new RegExp(`runs/${ids[0]}/samples\\.jsonl does not match its checksum`));
    const imported = await runCli(['bundle', 'import', bundle], env);
    expect(imported.code).not.toBe(0);
    expect(readdirSync(join(workspace, 'imports')).filter((name) => name.startsWith('flipped'))).toEqual([]);
  });

  it('refuses an unknown run with the fix', async () => {
    const result = await runCli(['bundle', 'export', '20990101-nothing', '-o', join(scratch, 'x.tar.gz')], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no run 20990101-nothing .*cnlab runs list/);
  });
});
