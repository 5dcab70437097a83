// DemoLab's decisions without root: refusal with a reason, the sudo path (command and remembered state),
// and missing tools named with their packages. Starting the real testbed is tests/integration/demo-lab.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { missingTestbedTools } from '../testbed/testbed';
import { DemoLab, demoHosts, type DemoLabStarted } from './demo-lab';
import type { PrivilegeProbe } from './privilege';

const noRootNoSudo: PrivilegeProbe = { platform: 'linux', isRoot: () => false, passwordlessSudo: () => Promise.resolve(false) };
const sudoOnly: PrivilegeProbe = { platform: 'linux', isRoot: () => false, passwordlessSudo: () => Promise.resolve(true) };

const answer: DemoLabStarted = {
  id: 'tb0fff',
  dir: '/tmp/cnlab-testbed/tb0fff',
  hosts: [],
  topologyName: 'demo',
  topologyText: 'v: 1',
};

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'cnlab-demo-lab-unit-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('DemoLab', () => {
  it('refuses to start without root or sudo, with the reason, and starts nothing', async () => {
    const lab = new DemoLab({ stateDir, privilege: noRootNoSudo, sudo: () => Promise.reject(new Error('must not run')) });
    expect((await lab.availability()).reason).toMatch(/needs root.*start the console with sudo/);
    await expect(lab.start()).rejects.toMatchObject({ code: 'not-privileged', message: expect.stringContaining('needs root') as string });
    expect(await lab.current()).toBeNull();
  });

  it('starts through sudo as the CLI for this user and process, then stops that testbed through sudo', async () => {
    const calls: string[][] = [];
    const sudo = (args: readonly string[]): Promise<unknown> => {
      calls.push([...args]);
      return Promise.resolve(args[1] === 'up' ? answer : { stopped: answer.id });
    };
    const lab = new DemoLab({ stateDir, privilege: sudoOnly, sudo });
    expect(await lab.availability()).toEqual({ available: true });
    expect(await lab.start()).toEqual(answer);
    expect(calls[0]).toEqual(['demo-lab', 'up', '--json', '--owner-uid', String(process.getuid?.()), '--owner-pid', String(process.pid), '--hosts', '3']);
    expect(JSON.parse(readFileSync(join(stateDir, 'demo-lab.json'), 'utf8'))).toEqual(answer);
    await lab.stop();
    expect(calls[1]).toEqual(['demo-lab', 'down', '--json', '--testbed', 'tb0fff']);
    expect(existsSync(join(stateDir, 'demo-lab.json'))).toBe(false);
  });

  it('forgets a remembered demo whose testbed is gone', async () => {
    const lab = new DemoLab({ stateDir, privilege: sudoOnly, sudo: () => Promise.resolve(answer) });
    await lab.start();
    // tb0fff never ran on this machine: its state.json does not exist.
    expect(await lab.current()).toBeNull();
    expect(existsSync(join(stateDir, 'demo-lab.json'))).toBe(false);
  });

  it('names the package to install for each missing tool', () => {
    const missing = missingTestbedTools((path) => !path.endsWith('/sshd') && !path.endsWith('/unshare'));
    expect(missing).toEqual([
      { tool: 'unshare', pkg: 'util-linux' },
      { tool: 'sshd', pkg: 'openssh-server' },
    ]);
  });

  it('makes inventory entries demo-hN with key auth and the testbed known_hosts', () => {
    const hosts = demoHosts({
      id: 'tb0001',
      clientKeyPath: '/tmp/cnlab-testbed/tb0001/id_ed25519',
      knownHostsPath: '/tmp/cnlab-testbed/tb0001/known_hosts',
      hosts: [{ name: 'h1', address: '198.18.4.11', port: 22, netns: 'cnltb0001-h1', pid1: 1, hostKeyPath: '' }],
    });
    expect(hosts).toEqual([
      expect.objectContaining({
        name: 'demo-h1',
        kind: 'ssh',
        address: '198.18.4.11',
        port: 22,
        user: 'root',
        auth: { type: 'key', keyFile: '/tmp/cnlab-testbed/tb0001/id_ed25519' },
        knownHostsFiles: ['/tmp/cnlab-testbed/tb0001/known_hosts'],
      }),
    ]);
  });
});
