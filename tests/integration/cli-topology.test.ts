// `cnlab topology …`, `cnlab exec` and `cnlab sweep` run as a user would, with the shipped examples,
// on the testbed's own workspace (its inventory lists h1..h3).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { assertCliBuilt, runCli } from '../support/run-cli';

const examples = join(__dirname, '..', '..', 'examples');
/** Topology examples; experiment-*.yaml are experiment files (tests/integration/experiment-*.test.ts). */
const isTopologyExample = (file: string): boolean => file.endsWith('.yaml') && !file.startsWith('experiment-');
let testbed: Testbed;
const cli = (...args: string[]) => runCli(['--workspace', testbed.workspaceDir, ...args], { HOME: join(testbed.dir, 'home'), CNLAB_CONFIG_DIR: join(testbed.dir, 'cnlab-config') }, 90_000);

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 3 });
}, 120_000);

afterAll(async () => {
  await testbed?.teardown();
});

describe('examples', () => {
  it('every example file is a valid topology for hosts h1..h3', () => {
    const files = readdirSync(examples).filter(isTopologyExample);
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const file of files) {
      const spec = parseTopologyText(readFileSync(join(examples, file), 'utf8'), file);
      expect(spec.hosts.every((host) => ['h1', 'h2', 'h3'].includes(host))).toBe(true);
    }
  });

  it('validates every example against the testbed hosts (ipvlan only where the kernel has it, Docker ones where an engine runs)', async () => {
    for (const file of readdirSync(examples).filter(isTopologyExample)) {
      const run = await cli('topology', 'validate', join(examples, file));
      if (run.code === 0) expect(run.stdout).toContain(': valid');
      // The testbed's hosts run no Docker engine unless a test starts one (topology-docker.test.ts does).
      else if (file.startsWith('docker-')) expect(run.stderr.trim().split('\n').every((line) => /host h\d: runtime docker needs a Docker engine there/.test(line))).toBe(true);
      else expect(`${file}: ${run.stderr}`).toMatch(/mode-ipvlan\.yaml: .*ipvlan is not available on host h\d/);
    }
  });
});

describe('the two-host demo through the CLI', () => {
  const demo = join(examples, 'demo-bridge-vxlan.yaml');

  it('plans: shows the exact script per host, applies nothing', async () => {
    const run = await cli('topology', 'plan', demo);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('# ---- host h1 ----');
    expect(run.stdout).toContain('# ---- host h2 ----');
    expect(run.stdout).toMatch(/netns add cnl-demo-web/);
    expect(run.stdout).toMatch(/type vxlan id 42/);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
  });

  it('applies with progress on stderr and the applied state as JSON', async () => {
    const run = await cli('--json', 'topology', 'apply', '--timings', demo);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('[h1] applied');
    const state = JSON.parse(run.stdout) as { status: string; containers: { name: string; host: string; netns: string; interfaces: { address: string }[] }[]; timings: { container: string | null; phase: string; durationMs: number }[] };
    expect(state.status).toBe('applied');
    expect(state.containers.map((c) => [c.name, c.host])).toEqual([['web', 'h1'], ['db', 'h1'], ['client', 'h2']]);
    expect(state.containers[0]?.interfaces).toHaveLength(2);
    const webPhases = new Set(state.timings.filter((t) => t.container === 'web').map((t) => t.phase));
    expect([...webPhases]).toEqual(['netns', 'links', 'addresses', 'link-up', 'first-reply']);
    expect(state.timings.every((t) => t.durationMs >= 0)).toBe(true);
  });

  it('verifies the ping matrix', async () => {
    const run = await cli('--json', 'topology', 'verify', 'demo');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { passed: number; failed: number };
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(2);
  });

  it('runs a command inside a container', async () => {
    const run = await cli('exec', 'demo', 'client', '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/inet 198\.19\.\d+\.\d+\/24/);
  });

  it('reports status from the hosts\' ledgers', async () => {
    const run = await cli('--json', 'topology', 'status', 'demo');
    const status = JSON.parse(run.stdout) as { hosts: { host: string; state: string; current: boolean }[] };
    expect(status.hosts).toEqual([expect.objectContaining({ host: 'h1', state: 'applied', current: true }), expect.objectContaining({ host: 'h2', state: 'applied', current: true })]);
  });

  it('tears down and leaves nothing', async () => {
    const run = await cli('topology', 'teardown', 'demo');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[h1\] \d+ objects removed/);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
  });

  it('sweep finds nothing on clean hosts', async () => {
    const run = await cli('--json', 'sweep', '--all', '--dry-run');
    expect(JSON.parse(run.stdout)).toEqual([{ host: 'h1', found: [] }, { host: 'h2', found: [] }, { host: 'h3', found: [] }]);
  });
});

describe('bad input', () => {
  it('names hostile names and unknown hosts with the fix, exit 1, no stack trace', async () => {
    const hostile = join(testbed.dir, 'hostile.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(hostile, 'v: 1\nname: "a;reboot"\nhosts: [h1]\ncontainers:\n  - { name: "$(id)", host: h1 }\n');
    const run = await cli('topology', 'validate', hostile);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('name: a name has 1-31 lower-case letters');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const unknownHost = join(testbed.dir, 'unknown-host.yaml');
    writeFileSync(unknownHost, 'v: 1\nname: x\nhosts: [h9]\ncontainers:\n  - { name: c, host: h9 }\n');
    const refused = await cli('topology', 'apply', unknownHost);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('h9, not in the inventory');
    expect((await cli('topology', 'verify', 'nosuchlab')).stderr).toContain('lab nosuchlab is not applied in this workspace');
  });
});
