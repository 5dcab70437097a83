// The SSH host layer against real sshd on the testbed: authentication, host-key verification,
// jump hosts, streaming, cancel and timeout that really end the remote process, reconnects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../../src-main/core/errors';
import { startTestbed, TESTBED_KEY_PASSPHRASE, TESTBED_PASSWORD, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { hostKeyFingerprint, openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { rejectedCnlabError as failure } from '../support/cnlab-error';

let testbed: Testbed;
let fixture: ServiceFixture;
const scratch = mkdtempSync(join(tmpdir(), 'cnlab-ssh-'));
const strayKey = join(scratch, 'not-authorized');

/** Processes inside a testbed host whose command line contains the marker. */
async function processesWith(host: string, marker: string): Promise<string[]> {
  const { stdout } = await testbed.hostExec(host, ['ps', '-eo', 'pid=,args=']);
  // Only the processes themselves, not the shell whose command line mentions them.
  return stdout.split('\n').filter((line) => line.trim().replace(/^\d+\s+/, '').startsWith(marker));
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 3 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strayKey]);
  fixture = await openTestService(
    [
      testbedHost(testbed, 'h1'),
      testbedHost(testbed, 'h2'),
      testbedHost(testbed, 'h3'),
      testbedHost(testbed, 'h3-via-h1', { address: testbed.host('h3').address, jump: 'h1' }),
      testbedHost(testbed, 'h1-password', { auth: { type: 'password', passwordEnv: 'TB_PASSWORD' } }),
      testbedHost(testbed, 'h1-encrypted', { auth: { type: 'key', keyFile: testbed.encryptedClientKeyPath, passphraseEnv: 'TB_PASSPHRASE' } }),
      testbedHost(testbed, 'h1-no-passphrase', { auth: { type: 'key', keyFile: testbed.encryptedClientKeyPath } }),
      testbedHost(testbed, 'h1-bob', { user: 'bob' }),
      testbedHost(testbed, 'h1-alice', { user: 'alice' }),
      testbedHost(testbed, 'h1-nosuchuser', { user: 'nosuchuser' }),
      testbedHost(testbed, 'h1-stray-key', { auth: { type: 'key', keyFile: strayKey } }),
      testbedHost(testbed, 'h1-closed-port', { port: 2222 }),
      testbedHost(testbed, 'h2-unknown-key', { knownHostsFiles: [] }),
      testbedHost(testbed, 'nowhere', { address: testbed.subnet.replace(/\.0\/24$/, '.99') }, 'h1'),
      testbedHost(testbed, 'bad-dns', { address: 'no-such-host.invalid' }, 'h1'),
    ],
    { TB_PASSWORD: TESTBED_PASSWORD, TB_PASSPHRASE: TESTBED_KEY_PASSPHRASE },
    { connectTimeoutMs: 4000 },
  );
});

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

describe('authentication', () => {
  it('logs in with a key and runs a command on the right host', async () => {
    const result = await fixture.service.executor('h1').exec('hostname');
    expect(result).toMatchObject({ code: 0, stdout: 'h1\n' });
  });

  it('logs in with a password taken from an environment variable', async () => {
    const result = await fixture.service.executor('h1-password').exec('id -un');
    expect(result.stdout).toBe('root\n');
  });

  it('logs in with an encrypted key and its passphrase', async () => {
    expect((await fixture.service.executor('h1-encrypted').exec('hostname')).stdout).toBe('h1\n');
  });

  it('names the key and the fix when an encrypted key has no passphrase', async () => {
    const error = await failure(fixture.service.executor('h1-no-passphrase').exec('true'));
    expect(error.code).toBe('key-encrypted');
    expect(error.message).toContain(testbed.encryptedClientKeyPath);
    expect(error.message).toContain('passphrase');
  });

  it('refuses a wrong user and a key the host does not accept, naming the host', async () => {
    const wrongUser = await failure(fixture.service.executor('h1-nosuchuser').exec('true'));
    expect(wrongUser.code).toBe('auth-failed');
    expect(wrongUser.message).toMatch(/host h1-nosuchuser: authentication failed for user nosuchuser/);
    const wrongKey = await failure(fixture.service.executor('h1-stray-key').exec('true'));
    expect(wrongKey.code).toBe('auth-failed');
    expect(wrongKey.message).toContain(strayKey);
  });
});

describe('ssh-agent', () => {
  it('logs in with a key held by ssh-agent', async () => {
    const socket = join(scratch, 'agent.sock');
    const agentOutput = execFileSync('ssh-agent', ['-s', '-a', socket]).toString();
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agentOutput)?.[1]);
    const agentFixture = await openTestService([testbedHost(testbed, 'h1', { auth: { type: 'agent', socket } })]);
    try {
      execFileSync('ssh-add', ['-q', testbed.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      expect((await agentFixture.service.executor('h1').exec('hostname')).stdout).toBe('h1\n');
    } finally {
      await agentFixture.dispose();
      if (agentPid > 1) process.kill(agentPid, 'SIGTERM');
    }
  });
});

describe('privilege', () => {
  it('detects root, passwordless sudo and neither', async () => {
    expect(await fixture.service.executor('h1').privilege()).toEqual({ kind: 'root' });
    expect(await fixture.service.executor('h1-alice').privilege()).toEqual({ kind: 'sudo', user: 'alice' });
    expect(await fixture.service.executor('h1-bob').privilege()).toEqual({ kind: 'none', user: 'bob' });
  });

  it('runs privileged commands through sudo -n for a sudo user', async () => {
    const result = await fixture.service.executor('h1-alice').exec('id -u', { privileged: true });
    expect(result.stdout).toBe('0\n');
  });

  it('refuses a privileged command for a user without root or sudo, with the fix', async () => {
    const error = await failure(fixture.service.executor('h1-bob').exec('ip netns add x', { privileged: true }));
    expect(error.code).toBe('not-privileged');
    expect(error.message).toBe(
      'host h1-bob: user bob needs root or passwordless sudo to manage network namespaces: log in as root or allow bob `sudo -n`',
    );
  });
});

describe('host keys', () => {
  it('returns an unknown key as an explicit decision with the SHA256 fingerprint, then trusts it', async () => {
    const error = await failure(fixture.service.executor('h2-unknown-key').exec('true'));
    expect(error.code).toBe('host-key-unknown');
    const expected = hostKeyFingerprint(testbed, 'h2');
    expect(expected).toMatch(/^SHA256:/);
    expect(error.details.fingerprint).toBe(expected);
    expect(error.message).toContain(expected);

    await fixture.service.trustPresentedKey(error);
    expect((await fixture.service.executor('h2-unknown-key').exec('hostname')).stdout).toBe('h2\n');
    expect(readFileSync(join(fixture.configDir, 'known_hosts'), 'utf8')).toContain(testbed.host('h2').address);
  });

  it('never trusts a changed or revoked key through the trust call', async () => {
    const changed = new CnlabError('host-key-changed', 'x', { host: 'h2' });
    await expect(fixture.service.trustPresentedKey(changed)).rejects.toThrow(/only an unknown host key/);
  });
});

describe('jump host', () => {
  it('reaches a host through another testbed host', async () => {
    const result = await fixture.service.executor('h3-via-h1').exec('hostname; echo "$SSH_CONNECTION"');
    const [hostname, sshConnection] = result.stdout.trim().split('\n');
    expect(hostname).toBe('h3');
    // sshd on h3 sees the connection coming from h1, not from the runner.
    expect(sshConnection?.split(' ')[0]).toBe(testbed.host('h1').address);
  });
});

describe('exec', () => {
  it('streams stdout lines while the command still runs', async () => {
    const arrivals: { line: string; at: number }[] = [];
    const started = Date.now();
    const result = await fixture.service.executor('h1').exec('echo one; sleep 0.6; echo two', {
      onStdoutLine: (line) => arrivals.push({ line, at: Date.now() - started }),
    });
    expect(arrivals.map((a) => a.line)).toEqual(['one', 'two']);
    expect((arrivals[1]?.at ?? 0) - (arrivals[0]?.at ?? 0)).toBeGreaterThan(400);
    expect(result.stdout).toBe('one\ntwo\n');
  });

  it('separates stderr and reports the exit code', async () => {
    const result = await fixture.service.executor('h1').exec('echo out; echo err >&2; exit 7');
    expect(result).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('runs a batched script sent on stdin in one round trip', async () => {
    const script = Array.from({ length: 200 }, (_, i) => `echo line-${i}`).join('\n');
    const result = await fixture.service.executor('h1').runScript(script);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(200);
    expect(result.stdout.startsWith('line-0\n')).toBe(true);
  });

  it('runs many commands at once on one connection without exceeding sshd MaxSessions', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => fixture.service.executor('h1').exec(`sleep 0.2; echo ${i}`)));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
  });

  it('cancel with an AbortSignal kills the remote process group', async () => {
    const marker = 'sleep 301.25';
    const controller = new AbortController();
    const running = failure(fixture.service.executor('h1').exec(`${marker} & ${marker}; wait`, { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await processesWith('h1', marker);
    controller.abort();
    expect(before).toHaveLength(2);
    const error = await running;
    expect(error.code).toBe('cancelled');
    expect(await processesWith('h1', marker)).toEqual([]);
  });

  it('a timeout stops the remote command and says so', async () => {
    const marker = 'sleep 302.5';
    const started = Date.now();
    const error = await failure(fixture.service.executor('h1').exec(marker, { timeoutMs: 700 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toContain('host h1');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await processesWith('h1', marker)).toEqual([]);
  });
});

describe('connection failures', () => {
  it('reconnects after the host sshd was restarted', async () => {
    const executor = fixture.service.executor('h2');
    expect((await executor.exec('hostname')).stdout).toBe('h2\n');
    await testbed.restartHost('h2');
    expect((await executor.exec('hostname')).stdout).toBe('h2\n');
  });

  it('reports a lost connection when sshd dies mid-command, without hanging', async () => {
    const executor = fixture.service.executor('h3');
    expect((await executor.exec('true')).code).toBe(0);
    const running = failure(executor.exec('sleep 30'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await testbed.stopHost('h3');
    const error = await running;
    expect(error.code).toBe('connection-lost');
    expect(error.message).toContain('host h3');
    expect(Date.now() - started).toBeLessThan(5000);
    await testbed.startHost('h3');
  });

  it('names a closed port', async () => {
    const error = await failure(fixture.service.executor('h1-closed-port').exec('true'));
    expect(error.code).toBe('connection-refused');
    expect(error.message).toContain(':2222');
  });

  it('gives up on an unreachable address within the connect timeout', async () => {
    const started = Date.now();
    const error = await failure(fixture.service.executor('nowhere').exec('true'));
    expect(['host-unreachable', 'connect-timeout']).toContain(error.code);
    expect(error.message).toMatch(/^host nowhere: /);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('names a DNS failure', async () => {
    const started = Date.now();
    const error = await failure(fixture.service.executor('bad-dns').exec('true'));
    expect(['dns-failure', 'connect-timeout']).toContain(error.code);
    expect(error.message).toContain('no-such-host.invalid');
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('refuses a changed host key, naming both fingerprints', async () => {
    const before = hostKeyFingerprint(testbed, 'h2');
    await testbed.regenerateHostKey('h2');
    const after = hostKeyFingerprint(testbed, 'h2');
    expect(after).not.toBe(before);
    await fixture.service.forget('h2');
    const error = await failure(fixture.service.executor('h2').exec('true'));
    expect(error.code).toBe('host-key-changed');
    expect(error.message).toContain(before);
    expect(error.message).toContain(after);
    await expect(fixture.service.trustPresentedKey(error)).rejects.toThrow();
  });
});
