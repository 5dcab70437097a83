// Tests of the package table, the rendered install commands and installTools' recording, over a test
// double executor: a real install cannot run here (the testbed hosts have no network to a mirror), so
// what is checked is exactly which commands would run, privileged, in which order, and what is recorded.
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import type { ExecOptions, ExecResult, HostExecutor } from '../exec/executor';
import type { HostService } from '../hosts/host-service';
import { installCommands, installTools, packageFor, parseManager, planInstall } from './package-install';

describe('planInstall', () => {
  it('maps tools to their packages per manager, one package once', () => {
    expect(planInstall('apt', ['iperf3', 'ping', 'ip', 'tc'])).toMatchObject({ packages: ['iperf3', 'iputils-ping', 'iproute2'], unavailable: [] });
    expect(planInstall('dnf', ['ip', 'tc']).packages).toEqual(['iproute', 'iproute-tc']);
    expect(planInstall('zypper', ['iperf3']).byTool).toEqual({ iperf3: 'iperf' });
  });

  it('keeps the repository note (netperf is non-free on Debian) and offers nothing it does not know', () => {
    expect(planInstall('apt', ['netperf']).notes.join(' ')).toContain('non-free');
    const apk = planInstall('apk', ['netperf', 'frobnicate']);
    expect(apk.packages).toEqual([]);
    expect(apk.unavailable.map((entry) => entry.tool)).toEqual(['netperf', 'frobnicate']);
    expect(apk.unavailable[1]?.reason).toContain('cnlab knows no apk package that provides frobnicate');
    expect(planInstall(null, ['iperf3']).unavailable[0]?.reason).toContain('none of apt-get, dnf, zypper, apk');
  });

  it('names sockperf where it is packaged and says so where it is not', () => {
    expect(packageFor('apt', 'sockperf').package).toBe('sockperf');
    expect(packageFor('zypper', 'sockperf')).toMatchObject({ package: null });
  });
});

describe('installCommands', () => {
  it('renders each manager non-interactively with every package name quoted', () => {
    expect(installCommands('apt', ['iperf3', 'sockperf']).install).toBe(
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 iperf3 sockperf',
    );
    expect(installCommands('dnf', ['iperf3'])).toEqual({ install: 'dnf install -y iperf3', refresh: null });
    expect(installCommands('zypper', ['iperf']).install).toBe('zypper --non-interactive install --no-recommends iperf');
    expect(installCommands('apk', ['iperf3']).install).toBe('apk add --no-progress iperf3');
    expect(installCommands('apt', ["x'; reboot; '"]).install).toContain(`'x'\\''; reboot; '\\'''`);
  });

  it('refuses an empty package list', () => {
    expect(() => installCommands('apt', [])).toThrow(CnlabError);
  });

  it('reads the detected manager', () => {
    expect(parseManager('apt\n')).toBe('apt');
    expect(parseManager('')).toBeNull();
    expect(parseManager('yum')).toBeNull();
  });
});

interface Call {
  command: string;
  privileged: boolean;
}

/** An executor whose answers come from `respond`; records every call. */
function fakeExecutor(respond: (command: string, calls: Call[]) => Partial<ExecResult> | Error): { hosts: Pick<HostService, 'executor'>; calls: Call[] } {
  const calls: Call[] = [];
  const executor: HostExecutor = {
    hostName: 'h1',
    exec(command: string, options: ExecOptions = {}) {
      calls.push({ command, privileged: options.privileged === true });
      const answer = respond(command, calls);
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '', durationMs: 1, ...answer });
    },
    runScript: () => Promise.reject(new Error('not used')),
    privilege: () => Promise.resolve({ kind: 'root' }),
    close: () => Promise.resolve(),
  };
  const hosts: Pick<HostService, 'executor'> = { executor: () => executor };
  return { hosts, calls };
}

describe('installTools (test double: no real package manager runs)', () => {
  it('detects apt, installs privileged, checks the tools afterwards and records the commands', async () => {
    const { hosts, calls } = fakeExecutor((command) => (command.includes('apt-get') && command.startsWith('if command -v') ? { stdout: 'apt\n' } : {}));
    const record = await installTools(hosts, 'h1', ['iperf3', 'ping']);
    expect(record).toMatchObject({ host: 'h1', packageManager: 'apt', packages: ['iperf3', 'iputils-ping'], stillMissing: [], unavailable: [], ok: true });
    expect(record.commands).toEqual([
      { command: 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 iperf3 iputils-ping', exitCode: 0, outputTail: '' },
    ]);
    const install = calls.find((call) => call.command.includes('apt-get install'));
    expect(install?.privileged).toBe(true);
  });

  it('refreshes the index and retries once when the first install fails, recording all three', async () => {
    let installs = 0;
    const { hosts } = fakeExecutor((command) => {
      if (command.startsWith('if command -v')) return { stdout: 'apt\n' };
      if (command.includes('apt-get install')) return ++installs === 1 ? { code: 100, stderr: 'E: Unable to locate package iperf3' } : { code: 0 };
      return {};
    });
    const record = await installTools(hosts, 'h1', ['iperf3']);
    expect(record.commands.map((command) => [command.command.split(' ').slice(1, 3).join(' '), command.exitCode])).toEqual([
      ['apt-get install', 100],
      ['apt-get update', 0],
      ['apt-get install', 0],
    ]);
    expect(record.commands[0]?.outputTail).toContain('Unable to locate package');
    expect(record.ok).toBe(true);
  });

  it('is not ok when a tool is still missing afterwards, or has no package', async () => {
    const { hosts } = fakeExecutor((command) => {
      if (command.startsWith('if command -v')) return { stdout: 'apk\n' };
      if (command.includes('|| echo')) return { stdout: 'sockperf\n' };
      return {};
    });
    const record = await installTools(hosts, 'h1', ['iperf3', 'sockperf']);
    expect(record).toMatchObject({ packageManager: 'apk', packages: ['iperf3'], stillMissing: ['sockperf'], ok: false });
    expect(record.unavailable[0]?.tool).toBe('sockperf');
  });

  it('installs nothing on a host without a known package manager', async () => {
    const { hosts, calls } = fakeExecutor(() => ({}));
    const record = await installTools(hosts, 'h1', ['iperf3']);
    expect(record).toMatchObject({ packageManager: 'none', commands: [], ok: false });
    expect(calls.some((call) => call.command.includes('install'))).toBe(false);
  });

  it('lets a not-privileged error of the install through to the caller', async () => {
    const { hosts } = fakeExecutor((command) => {
      if (command.startsWith('if command -v')) return { stdout: 'dnf\n' };
      return new CnlabError('not-privileged', 'host h1: user bob needs root or passwordless sudo');
    });
    await expect(installTools(hosts, 'h1', ['iperf3'])).rejects.toMatchObject({ code: 'not-privileged' });
  });

  it('refuses a tool name that is not a program name before contacting the host', async () => {
    const { hosts, calls } = fakeExecutor(() => ({}));
    await expect(installTools(hosts, 'h1', ['iperf3 && reboot'])).rejects.toMatchObject({ code: 'invalid-input' });
    expect(calls).toEqual([]);
  });
});
