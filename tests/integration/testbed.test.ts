// The lab-in-a-box testbed itself: hosts reachable over real OpenSSH, isolated from each other and from the world,
// private per-host state, concurrent testbeds, restarts, host-key changes, crash sweeping and a teardown that leaves nothing.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, sleep, type RunResult } from '../../src-main/core/testbed/exec.ts';
import { BASE_DIR, isAlive, readState } from '../../src-main/core/testbed/state.ts';
import {
  startTestbed,
  sweepStaleTestbeds,
  TESTBED_KEY_PASSPHRASE,
  type Testbed,
} from '../../src-main/core/testbed/testbed.ts';

let testbed: Testbed;

/** The system OpenSSH client, exactly as a person would use the testbed. */
function ssh(bed: Testbed, host: string, command: string, extra: string[] = []): Promise<RunResult> {
  return run('ssh', ['-F', bed.sshConfigPath, '-o', 'BatchMode=yes', ...extra, host, command], { timeoutMs: 15_000 });
}

async function sshOut(bed: Testbed, host: string, command: string, extra: string[] = []): Promise<string> {
  const result = await ssh(bed, host, command, extra);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

async function rootNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  return stdout.trim() ? (JSON.parse(stdout) as { name: string }[]).map((entry) => entry.name) : [];
}

async function rootLinks(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'link']);
  return (JSON.parse(stdout) as { ifname: string }[]).map((link) => link.ifname);
}

/** Everything of one testbed, as the machine shows it: namespaces, links, live processes, its directory. */
async function leftovers(id: string, pids: number[]): Promise<string[]> {
  const prefix = `cnl${id}`;
  return [
    ...(await rootNetns()).filter((name) => name.startsWith(prefix)),
    ...(await rootLinks()).filter((name) => name.startsWith(prefix)),
    ...pids.filter((pid) => isAlive(pid)).map((pid) => `pid ${pid}`),
    ...(existsSync(join(BASE_DIR, id)) ? [join(BASE_DIR, id)] : []),
  ];
}

function recordedPids(dir: string): number[] {
  const state = readState(dir);
  return (state?.hosts ?? []).flatMap((host) => [host.pid1?.pid, host.unshare?.pid]).filter((pid): pid is number => !!pid);
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 3 });
});

afterAll(async () => {
  await testbed?.teardown();
});

describe('testbed hosts', () => {
  it('answers over OpenSSH with its own hostname', async () => {
    expect(await sshOut(testbed, 'h1', 'hostname')).toBe('h1');
    expect(await sshOut(testbed, 'h2', 'hostname')).toBe('h2');
  });

  it('gives each host a private /run/netns', async () => {
    expect(await sshOut(testbed, 'h1', 'ip netns add x && ip netns list')).toBe('x');
    expect(await sshOut(testbed, 'h2', 'ip netns add x && ip netns list')).toBe('x');
    expect(await rootNetns()).not.toContain('x');
    await sshOut(testbed, 'h1', 'ip netns del x');
    await sshOut(testbed, 'h2', 'ip netns del x');
    expect(await sshOut(testbed, 'h1', 'ip netns list')).toBe('');
  });

  it('gives each host a private /tmp', async () => {
    await sshOut(testbed, 'h1', 'echo one > /tmp/cnlab-testbed-marker');
    expect((await ssh(testbed, 'h2', 'cat /tmp/cnlab-testbed-marker')).code).not.toBe(0);
    expect(existsSync('/tmp/cnlab-testbed-marker')).toBe(false);
  });

  it('has bob and alice; alice may sudo, bob may not', async () => {
    expect(await sshOut(testbed, 'h1', 'id -u bob; id -u alice')).toBe('1001\n1002');
    expect(await sshOut(testbed, 'h1', 'whoami; echo $HOME', ['-l', 'bob'])).toBe('bob\n/run/home/bob');
    expect(await sshOut(testbed, 'h1', 'sudo -n id -u', ['-l', 'alice'])).toBe('0');
    const bob = await ssh(testbed, 'h1', 'sudo -n true', ['-l', 'bob']);
    expect(bob.code).not.toBe(0);
  });

  it('authorizes the passphrase-protected key too', async () => {
    const derived = await run('ssh-keygen', ['-y', '-P', TESTBED_KEY_PASSPHRASE, '-f', testbed.encryptedClientKeyPath]);
    expect(derived.code).toBe(0);
    const authorized = readFileSync(join(testbed.dir, 'authorized_keys'), 'utf8');
    expect(authorized).toContain(derived.stdout.trim().split(' ')[1]);
    expect(readFileSync(testbed.encryptedClientKeyPath, 'utf8')).toContain('OPENSSH PRIVATE KEY');
  });

  it('lets hosts reach each other but nothing beyond the lab', async () => {
    const ping = await testbed.hostExec('h1', ['ping', '-c1', '-W1', testbed.host('h2').address]);
    expect(ping.code).toBe(0);
    expect((await testbed.hostExec('h1', ['ip', 'route', 'show', 'default'])).stdout).toBe('');
    const offLab = await testbed.hostExec('h1', ['ip', 'route', 'get', '192.0.2.1']);
    expect(offLab.stderr).toMatch(/Network is unreachable/);
  });

  it('restarts a host with a fresh process tree', async () => {
    await sshOut(testbed, 'h2', 'ip netns add before-restart');
    const before = testbed.host('h2').pid1;
    await testbed.restartHost('h2');
    expect(testbed.host('h2').pid1).not.toBe(before);
    expect(isAlive(before)).toBe(false);
    expect(await sshOut(testbed, 'h2', 'hostname; ip netns list')).toBe('h2');
  });

  it('serves a new host key after regenerateHostKey, which strict checking refuses', async () => {
    const oldKey = readFileSync(`${testbed.host('h3').hostKeyPath}.pub`, 'utf8');
    await testbed.regenerateHostKey('h3');
    expect(readFileSync(`${testbed.host('h3').hostKeyPath}.pub`, 'utf8')).not.toBe(oldKey);
    const refused = await ssh(testbed, 'h3', 'true');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    expect((await testbed.hostExec('h3', ['hostname'])).stdout.trim()).toBe('h3');
  });
});

describe('testbeds side by side', () => {
  it('gives concurrent testbeds their own subnets, and tears them down completely', async () => {
    const [a, b] = await Promise.all([startTestbed({ hosts: 1 }), startTestbed({ hosts: 1 })]);
    const pids = [...recordedPids(a.dir), ...recordedPids(b.dir)];
    try {
      expect(new Set([a.subnet, b.subnet, testbed.subnet]).size).toBe(3);
      expect(await sshOut(a, 'h1', 'hostname -I')).toBe(a.host('h1').address);
      expect(await sshOut(b, 'h1', 'hostname -I')).toBe(b.host('h1').address);
    } finally {
      await Promise.all([a.teardown(), b.teardown()]);
    }
    expect(await leftovers(a.id, pids)).toEqual([]);
    expect(await leftovers(b.id, pids)).toEqual([]);
  });

  it('sweeps the testbed of a crashed owner at the next start', async () => {
    // `hold` keeps a testbed owned by its own process; SIGKILL leaves it behind, like a crashed test run.
    const root = join(import.meta.dirname, '..', '..');
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['tests/testbed/cli.ts', 'hold', '--hosts', '1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    while (!/press Ctrl-C/.test(output) && child.exitCode === null) await sleep(50);
    const id = /testbed (tb[0-9a-f]{4})/.exec(output)?.[1] ?? '';
    expect(id).not.toBe('');
    const pids = recordedPids(join(BASE_DIR, id));
    expect(pids.length).toBe(2);
    // tsx runs the script in a child node process: that one is the owner; tsx exits when it dies.
    const owner = readState(join(BASE_DIR, id))?.owner.pid ?? 0;
    expect(owner).toBeGreaterThan(1); // never kill(0): that would hit our own process group
    process.kill(owner, 'SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Another testbed starting in parallel may sweep it first; either way it must be gone after a sweep.
    await sweepStaleTestbeds();
    expect(await leftovers(id, pids)).toEqual([]);
  }, 30_000);

  it('tears the main testbed down leaving nothing', async () => {
    const pids = recordedPids(testbed.dir);
    expect(pids.length).toBe(6);
    await testbed.teardown();
    expect(await leftovers(testbed.id, pids)).toEqual([]);
    expect(existsSync(testbed.sshConfigPath)).toBe(false);
  });
});
