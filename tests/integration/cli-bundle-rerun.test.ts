// `cnlab bundle rerun` as two labs exchange results: lab A measures a small matrix on its hosts (h1, h2)
// and exports a bundle; lab B, whose inventory names the hosts x1 and x2, re-runs the bundle with
// --map h1=x1,h2=x2. The bundle is imported once (reused on a second rerun), the new run completes on B's
// hosts with the bundle's seed, the comparison names every cell, and nothing is left on the hosts.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src-main/core/experiment/run-store';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { experimentLeftovers } from '../support/lab-checks';
import { assertCliBuilt, runCli } from '../support/run-cli';

let testbed: Testbed;
let workspaceB: string;

function env(): NodeJS.ProcessEnv {
  return { HOME: join(testbed.dir, 'home'), CNLAB_CONFIG_DIR: join(testbed.dir, 'cnlab-config') };
}

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
  // Lab B: the same machines under other names.
  workspaceB = join(testbed.dir, 'workspace-b');
  mkdirSync(workspaceB);
  const inventory = readFileSync(join(testbed.workspaceDir, 'workspace.yaml'), 'utf8');
  writeFileSync(join(workspaceB, 'workspace.yaml'), inventory.replace(/name: h1\b/, 'name: x1').replace(/name: h2\b/, 'name: x2'));
}, 120_000);

afterAll(async () => {
  await testbed?.teardown();
});

describe('cnlab bundle rerun', () => {
  it("measures lab A's bundle again on lab B's hosts and compares every cell", async () => {
    const file = join(testbed.dir, 'small.yaml');
    writeFileSync(file, `v: 1\nkind: experiment\nname: small\nhosts: [h1, h2]\nplacement: { server: h1, client: h2 }\nmodes:\n  - { mode: bridge, placement: { server: h1, client: h1 } }\n  - vxlan\nworkload: { tool: iperf3, protocol: tcp, duration: 1 }\nrepetitions: 2\nwarmup: 0\nbaseline: bridge\n`);
    const run = await runCli(['--workspace', testbed.workspaceDir, 'run', file], env(), 180_000);
    expect(run.code, run.stderr).toBe(0);
    const [runId] = readdirSync(join(testbed.workspaceDir, 'runs')).filter((name) => name !== 'index.json');
    const bundle = join(testbed.dir, 'lab-a.tar.gz');
    expect((await runCli(['--workspace', testbed.workspaceDir, 'bundle', 'export', runId ?? '', '-o', bundle], env())).code).toBe(0);

    const unmapped = await runCli(['--workspace', workspaceB, 'bundle', 'rerun', bundle, '--map', 'h9=x1'], env());
    expect(unmapped.code).not.toBe(0);
    expect(unmapped.stderr).toMatch(/--map names h9, which the experiment does not use \(its hosts: h1, h2\)/);
    expect(existsSync(join(workspaceB, 'imports'))).toBe(false);

    const rerun = await runCli(['--workspace', workspaceB, 'bundle', 'rerun', bundle, '--map', 'h1=x1,h2=x2'], env(), 180_000);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/imported imports\/lab-a \(every checksum verified\)/);
    expect(rerun.stdout).toMatch(new RegExp(`\\(here\\) against imports/lab-a/${runId ?? ''} \\(the bundle\\)`));
    expect(rerun.stdout).toMatch(/^bridge +throughputBitsPerSecond +[\d.]+ Gbit\/s +[\d.]+ Gbit\/s +[+−-]?[\d.]+ %/m);
    expect(rerun.stdout).toMatch(/^vxlan +throughputBitsPerSecond/m);

    const newRuns = readdirSync(join(workspaceB, 'runs')).filter((name) => name !== 'index.json');
    expect(newRuns).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(workspaceB, 'runs', newRuns[0] ?? '', 'run.json'), 'utf8')) as RunRecord;
    const original = JSON.parse(readFileSync(join(workspaceB, 'imports', 'lab-a', 'runs', runId ?? '', 'run.json'), 'utf8')) as RunRecord;
    expect(record.state).toBe('completed');
    expect(record.seed).toBe(original.seed);
    expect(record.experiment.hosts).toEqual(['x1', 'x2']);
    expect(record.hostMap).toEqual({ h1: 'x1', h2: 'x2' });
    expect(await experimentLeftovers(testbed)).toEqual([]);

    // A second rerun of the same file reuses the import instead of making imports/lab-a-2.
    cpSync(bundle, join(testbed.dir, 'copy.tar.gz'));
    const again = await runCli(['--workspace', workspaceB, '--json', 'bundle', 'rerun', join(testbed.dir, 'copy.tar.gz'), '--map', 'h1=x1,h2=x2'], env(), 180_000);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(join(workspaceB, 'imports'))).toEqual(['lab-a']);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, bundleRun: `imports/lab-a/${runId ?? ''}`, state: 'completed' });
  }, 400_000);
});
