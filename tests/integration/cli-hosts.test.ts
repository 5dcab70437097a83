// `cnlab hosts …` run as a user would run the built CLI, against real sshd on the testbed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestbed, TESTBED_PASSWORD, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { assertCliBuilt, runCli } from '../support/run-cli';

let testbed: Testbed;
const scratch = mkdtempSync(join(tmpdir(), 'cnlab-cli-'));
const env = {
  HOME: join(scratch, 'home'),
  CNLAB_WORKSPACE: join(scratch, 'workspace'),
  CNLAB_CONFIG_DIR: join(scratch, 'config'),
  CNLAB_CONNECT_TIMEOUT_MS: '4000',
  TB_PASSWORD: TESTBED_PASSWORD,
};
const cli = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
});

afterAll(async () => {
  await testbed?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

describe('cnlab hosts', () => {
  it('starts with an empty default workspace and says what to do first', async () => {
    const run = await cli('hosts', 'list');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no hosts yet');
  });

  it('refuses an unknown host key without --trust-new-key and does not save the host', async () => {
    const h1 = testbed.host('h1');
    const run = await cli('hosts', 'add', 'h1', '--address', h1.address, '--key', testbed.clientKeyPath);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/host h1: 198\.1[89]\.[\d.]+ presented ssh-ed25519 key SHA256:[A-Za-z0-9+/]{43}, which no known_hosts file lists/);
    expect(run.stderr).toContain('--trust-new-key');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse((await cli('--json', 'hosts', 'list')).stdout)).toEqual([]);
  });

  it('adds a host with --trust-new-key, printing the fingerprint it trusted', async () => {
    const h1 = testbed.host('h1');
    const run = await cli('--json', 'hosts', 'add', 'h1', '--address', h1.address, '--key', testbed.clientKeyPath, '--trust-new-key', '--label', 'vm');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/trusting host h1's new key ssh-ed25519 SHA256:/);
    const body = JSON.parse(run.stdout) as { host: { name: string; label: string }; check: { privilege: { kind: string }; connectMs: number } };
    expect(body.host).toMatchObject({ name: 'h1', label: 'vm' });
    expect(body.check.privilege.kind).toBe('root');
    expect(readFileSync(join(env.CNLAB_CONFIG_DIR, 'known_hosts'), 'utf8')).toContain(h1.address);
  });

  it('adds a password host through a jump host and never writes the password', async () => {
    const h2 = testbed.host('h2');
    const run = await cli('hosts', 'add', 'h2', '--address', h2.address, '--password-env', 'TB_PASSWORD', '--jump', 'h1', '--trust-new-key');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/added host h2 \(root@.*\)\nconnected in [\d.]+ ms, round trip [\d.]+ ms, privilege: root/);
    const workspaceFile = readFileSync(join(env.CNLAB_WORKSPACE, 'workspace.yaml'), 'utf8');
    expect(workspaceFile).toContain('passwordEnv: TB_PASSWORD');
    expect(workspaceFile).not.toContain(TESTBED_PASSWORD);
  });

  it('adds this machine with --local', async () => {
    const run = await cli('hosts', 'add', 'here', '--local');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('added host here (this machine)');
  });

  it('lists hosts as JSON only on stdout', async () => {
    const run = await cli('--json', 'hosts', 'list');
    expect(run.code).toBe(0);
    const hosts = JSON.parse(run.stdout) as { name: string; kind: string; jump?: string }[];
    expect(hosts.map((h) => h.name)).toEqual(['h1', 'h2', 'here']);
    expect(hosts[1]).toMatchObject({ kind: 'ssh', jump: 'h1' });
  });

  it('probes all hosts in parallel and caches the facts', async () => {
    const run = await cli('--json', 'hosts', 'probe', '--all');
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as { host: string; ok: boolean; facts: { hostname: string } }[];
    expect(results.map((r) => [r.host, r.ok])).toEqual([['h1', true], ['h2', true], ['here', true]]);
    expect(results[0]?.facts.hostname).toBe('h1');
    expect(results[1]?.facts.hostname).toBe('h2');
    const list = JSON.parse((await cli('--json', 'hosts', 'list')).stdout) as { factsProbedAt: string | null }[];
    expect(list.every((h) => typeof h.factsProbedAt === 'string')).toBe(true);
  });

  it('prints a readable facts summary without --json', async () => {
    const run = await cli('hosts', 'probe', 'h1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^h1: /);
    expect(run.stdout).toMatch(/kernel/i);
    expect(run.stdout).toMatch(/macvlan/);
  });

  it('imports the testbed ssh_config; imported hosts trust its known_hosts', async () => {
    const run = await cli('--workspace', join(scratch, 'imported'), 'hosts', 'import-ssh-config', testbed.sshConfigPath);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('imported h1, h2');
    const check = await cli('--workspace', join(scratch, 'imported'), 'hosts', 'check', 'h2');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/host h2: connected in/);
  });

  it("uses the testbed's own workspace, whose inventory lists its hosts", async () => {
    const run = await cli('--workspace', testbed.workspaceDir, '--json', 'hosts', 'probe', '--all');
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as { host: string; ok: boolean }[];
    expect(results).toEqual([expect.objectContaining({ host: 'h1', ok: true }), expect.objectContaining({ host: 'h2', ok: true })]);
  });

  it('removes a host, refusing while another host jumps through it', async () => {
    const refused = await cli('hosts', 'remove', 'h1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('host h1 is the jump host of h2');
    expect((await cli('hosts', 'remove', 'h2')).code).toBe(0);
    expect((await cli('hosts', 'remove', 'h1')).code).toBe(0);
    expect(JSON.parse((await cli('--json', 'hosts', 'list')).stdout).map((h: { name: string }) => h.name)).toEqual(['here']);
  });

  it('exits 2 on usage errors and 1 on failures, with one line and no stack trace', async () => {
    const usage = await cli('hosts', 'add', 'x');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give --address');
    const unknownCommand = await cli('hosts', 'frobnicate');
    expect(unknownCommand.code).toBe(2);
    const badName = await cli('hosts', 'add', 'a;reboot', '--address', '198.18.0.1', '--no-check', '--key', testbed.clientKeyPath);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/host a;reboot: name: a host name has/);
    const refused = await cli('hosts', 'add', 'closed', '--address', testbed.host('h1').address, '--port', '2222', '--key', testbed.clientKeyPath);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('connection refused');
  });
});
