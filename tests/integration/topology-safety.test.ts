// Safety on hosts: a failure half-way rolls back every host, foreign objects are never touched,
// teardown works without the topology file, sweep cleans up after a killed CLI, and 200 containers
// apply in one batch.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../../src-main/core/errors';
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft, leftoversOn } from '../support/lab-checks';
import { assertCliBuilt, CLI_BIN, runCli } from '../support/run-cli';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
const scratch = mkdtempSync(join(tmpdir(), 'cnlab-safety-'));

const threeHostVxlan = (name: string): string =>
  `v: 1\nname: ${name}\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: ov, mode: vxlan }\ncontainers:\n  - { name: a, count: 4, host: h1, networks: [ov] }\n  - { name: b, count: 4, host: h2, networks: [ov] }\n  - { name: c, count: 4, host: h3, networks: [ov] }\n`;

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 3 });
  fixture = await openTestService(['h1', 'h2', 'h3'].map((name) => testbedHost(testbed, name)));
  await fixture.service.inventory.save();
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

const cliEnv = (): NodeJS.ProcessEnv => ({ HOME: fixture.homeDir, CNLAB_WORKSPACE: fixture.workspaceDir, CNLAB_CONFIG_DIR: fixture.configDir });

describe('rollback', () => {
  it('a step failing half-way on the second host rolls back every host completely', async () => {
    const spec = parseTopologyText(threeHostVxlan('rb1'));
    const plan = await labs.plan(spec);
    const h2Steps = plan.hosts.find((host) => host.host === 'h2')?.steps ?? [];
    const middle = h2Steps[Math.floor(h2Steps.length / 2)]?.id ?? '';
    expect(middle).not.toBe('');
    const error = await labs.apply(spec, { failAfter: { host: 'h2', stepId: middle } }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CnlabError);
    expect((error as CnlabError).message).toContain(`host h2: step ${middle}`);
    expect((error as CnlabError).message).toContain('injected fault');
    expect((error as CnlabError).message).toContain('everything applied on every host was rolled back');
    expect(await expectNothingLeft(testbed, 'rb1')).toEqual([]);
  });

  it('refuses to create over an object it did not make, and leaves that object alone', async () => {
    const spec = parseTopologyText(threeHostVxlan('rb2'));
    const plan = await labs.plan(spec);
    const link = plan.hosts.find((host) => host.host === 'h2')?.steps.flatMap((step) => step.creates).find((entry) => entry.kind === 'link')?.name ?? '';
    expect(link).not.toBe('');
    // Someone else's link that happens to have cnlab's name (veth: this kernel may lack dummy).
    await testbed.hostExec('h2', ['ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'foreign0']);
    try {
      const error = await labs.apply(spec).then(() => null, (e: unknown) => e);
      expect((error as CnlabError).message).toContain('already exist on this host');
      expect(await expectNothingLeft(testbed, 'rb2')).toEqual([]);
      const still = await testbed.hostExec('h2', ['ip', 'link', 'show', 'dev', link]);
      expect(still.code).toBe(0);
    } finally {
      await testbed.hostExec('h2', ['ip', 'link', 'del', link]);
    }
  });

  it('re-applying an unchanged topology changes nothing', async () => {
    const spec = parseTopologyText(threeHostVxlan('same1'));
    expect((await labs.apply(spec)).status).toBe('applied');
    const again = await labs.apply(spec);
    expect(again.status).toBe('unchanged');
    await labs.teardown('same1');
    expect(await expectNothingLeft(testbed, 'same1')).toEqual([]);
  });
});

describe('teardown and sweep', () => {
  it('tears down from the ledgers after the topology file was deleted', async () => {
    const file = join(scratch, 'gone.yaml');
    writeFileSync(file, threeHostVxlan('gone1'));
    const apply = await runCli(['topology', 'apply', file], cliEnv(), 60_000);
    expect(apply.code).toBe(0);
    rmSync(file);
    rmSync(join(fixture.workspaceDir, 'labs', 'gone1.json'));
    const teardown = await runCli(['topology', 'teardown', 'gone1'], cliEnv(), 60_000);
    expect(teardown.code).toBe(0);
    expect(await expectNothingLeft(testbed, 'gone1')).toEqual([]);
  });

  it('sweeps what an apply killed with SIGKILL left behind', async () => {
    const file = join(scratch, 'killed.yaml');
    writeFileSync(file, `v: 1\nname: kill1\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 150, host: h1, networks: [lan] }\n`);
    const child = spawn(process.execPath, [CLI_BIN, 'topology', 'apply', '--timings', file], { env: { PATH: process.env.PATH, ...cliEnv() }, stdio: ['ignore', 'ignore', 'pipe'] });
    // Kill as soon as the host reports its first finished steps: the apply is then surely half-way.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        if (/c3\/\w+ ok/.test(chunk.toString())) resolve();
      });
      setTimeout(resolve, 20_000);
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    // The remote script dies at its next write once sshd closed the session.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await leftoversOn(testbed, 'h1', 'kill1');
    expect(before.netns.length).toBeGreaterThan(0);

    const dry = await runCli(['--json', 'sweep', '--host', 'h1', '--dry-run'], cliEnv(), 60_000);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual([{ host: 'h1', found: [{ kind: 'lab', name: 'kill1' }] }]);
    expect((await leftoversOn(testbed, 'h1', 'kill1')).netns.length).toBe(before.netns.length);

    const swept = await runCli(['sweep', '--all'], cliEnv(), 60_000);
    expect(swept.code).toBe(0);
    expect(swept.stdout).toContain('[h1] removed: lab kill1');
    expect(await expectNothingLeft(testbed, 'kill1')).toEqual([]);
  });
});

describe('scale', () => {
  it('applies 200 bridge containers on one host in one batch and verifies them', async () => {
    const spec = parseTopologyText(`v: 1\nname: big1\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 200, host: h1, networks: [lan] }\n`);
    const applied = await labs.apply(spec);
    try {
      expect(applied.record.containers).toHaveLength(200);
      const netns = (await testbed.hostExec('h1', ['ip', 'netns', 'list'])).stdout.split('\n').filter((line) => line.startsWith('cnl-big1-'));
      expect(netns).toHaveLength(200);
      const outcomes = await labs.verify('big1');
      expect(outcomes.length).toBeGreaterThanOrEqual(200);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    } finally {
      await labs.teardown('big1');
    }
    expect(await expectNothingLeft(testbed, 'big1')).toEqual([]);
  }, 120_000);
});
