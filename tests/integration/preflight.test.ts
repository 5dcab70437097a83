// The experiment preflight over real SSH on testbed hosts: real tools, a real listener, a real busy
// process, a user without sudo and a stopped host, each checked against what the host itself reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTools, runPreflight, type PreflightFinding, type PreflightReport } from '../../src-main/core/experiment/preflight';
import type { RunResult } from '../../src-main/core/testbed/exec.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService([testbedHost(testbed, 'h1'), testbedHost(testbed, 'h2'), testbedHost(testbed, 'h1-bob', { user: 'bob' })]);
});

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

async function onHost(host: string, script: string): Promise<RunResult> {
  return testbed.hostExec(host, ['sh', '-c', script]);
}

function findingsOf(report: PreflightReport, code: string, host?: string | null): PreflightFinding[] {
  return report.findings.filter((finding) => finding.code === code && (host === undefined || finding.host === host));
}

/**
 * Runs a command on a host over cnlab's own executor until the returned stop() aborts it: the executor
 * kills exactly that command's process group. A time limit ends it even if the test dies first.
 */
function startOnHost(host: string, command: string): { stop(): Promise<void> } {
  const controller = new AbortController();
  const done = fixture.service
    .executor(host)
    .exec(command, { signal: controller.signal, timeoutMs: 60_000 })
    .catch(() => undefined);
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('preflight of testbed hosts', () => {
  it('passes two good hosts, with the tool paths, NIC MTUs and ports the hosts themselves report', async () => {
    const report = await runPreflight(fixture.service, { hosts: ['h1', 'h2'], tools: { h1: ['iperf3'], h2: ['iperf3', 'ip'] } });
    expect(report.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    expect(report.ok).toBe(true);
    for (const host of ['h1', 'h2']) {
      const state = report.hosts.find((candidate) => candidate.host === host);
      expect(state).toMatchObject({ reachable: true, privilege: 'root' });
      expect(state?.tools['iperf3']).toBe((await onHost(host, 'command -v iperf3')).stdout.trim());
      const mtu = Number((await onHost(host, 'cat /sys/class/net/eth0/mtu')).stdout);
      expect(state?.nics.find((nic) => nic.name === 'eth0')).toMatchObject({ mtu, management: true });
      expect(state?.portsInUse).toContain(22); // the host's sshd
      expect(state?.cpuCount).toBe(Number((await onHost(host, 'nproc --all')).stdout));
    }
    // Governors: the same presence this machine shows; without cpufreq it is information, never an error.
    const hasCpufreq = (await onHost('h1', 'ls /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')).code === 0;
    if (!hasCpufreq) expect(findingsOf(report, 'governor', 'h1')[0]?.severity).toBe('info');
  });

  it('says which host lacks which tool, and what the package manager would install', async () => {
    const absent = (await onHost('h1', 'command -v netperf')).code !== 0 ? 'netperf' : 'cnlab-no-such-tool';
    const report = await runPreflight(fixture.service, { hosts: ['h1', 'h2'], tools: { h1: ['iperf3', absent], h2: ['iperf3'] } });
    expect(report.ok).toBe(false);
    const [missing, ...others] = findingsOf(report, 'tool-missing');
    expect(others).toEqual([]);
    expect(missing).toMatchObject({ severity: 'error', host: 'h1' });
    expect(missing?.message).toContain(absent);
    expect(missing?.message).toContain('h1');
    expect(report.hosts.find((host) => host.host === 'h1')?.tools).toMatchObject({ [absent]: null });
    if ((await onHost('h1', 'command -v apt-get')).code === 0 && absent === 'netperf') {
      expect(missing?.fix).toContain('netperf with apt on h1');
      expect(missing?.fix).toContain('non-free');
    }
  });

  it('warns about a port in the experiment range that a process already listens on, naming it', async () => {
    const server = startOnHost('h1', 'exec iperf3 -s -p 5999');
    try {
      await waitFor(async () => (await onHost('h1', "grep -q ':176F .* 0A ' /proc/net/tcp /proc/net/tcp6")).code === 0, 'iperf3 to listen on h1:5999');
      const report = await runPreflight(fixture.service, { hosts: ['h1'], tools: {}, ports: { h1: { from: 5990, to: 6010 } } });
      const [port] = findingsOf(report, 'port-in-use', 'h1');
      expect(port?.severity).toBe('warning');
      expect(port?.message).toContain('port 5999');
      expect(port?.message).toContain('iperf3');
      expect(port?.fix).toBeTruthy();
      expect(report.ok).toBe(true); // a warning, not an error
    } finally {
      await server.stop();
    }
    const after = await runPreflight(fixture.service, { hosts: ['h1'], tools: {}, ports: { h1: { from: 5990, to: 6010 } } });
    expect(findingsOf(after, 'port-in-use')).toEqual([]);
  });

  it('warns about another heavy process on a measured host, and not about its own script', async () => {
    const loop = startOnHost('h2', "exec sh -c 'while :; do :; done'");
    try {
      await waitFor(async () => (await onHost('h2', "pgrep -f 'while :; do :; done'")).code === 0, 'the busy loop on h2');
      const report = await runPreflight(fixture.service, { hosts: ['h1', 'h2'], tools: {} });
      const [busy] = findingsOf(report, 'busy-host', 'h2');
      expect(busy?.severity).toBe('warning');
      expect(busy?.message).toContain('while :; do :; done');
      expect(findingsOf(report, 'busy-host', 'h1')).toEqual([]);
      const processes = report.hosts.find((host) => host.host === 'h2')?.busyProcesses ?? [];
      expect(processes.every((process) => !process.command.includes('cnlab_'))).toBe(true);
    } finally {
      await loop.stop();
    }
  });

  it('warns when the hosts underlay MTUs differ, and about GRO differing when ethtool is there', async () => {
    const originalMtu = (await onHost('h2', 'cat /sys/class/net/eth0/mtu')).stdout.trim();
    const hasEthtool = (await onHost('h2', 'command -v ethtool')).code === 0;
    const originalGro = hasEthtool ? /generic-receive-offload: (on|off)/.exec((await onHost('h2', 'ethtool -k eth0')).stdout)?.[1] : undefined;
    try {
      await onHost('h2', 'ip link set dev eth0 mtu 1400');
      if (originalGro) await onHost('h2', `ethtool -K eth0 gro ${originalGro === 'on' ? 'off' : 'on'}`);
      const report = await runPreflight(fixture.service, { hosts: ['h1', 'h2'], tools: {} });
      const [mtu] = findingsOf(report, 'mtu-mismatch', null);
      expect(mtu?.message).toContain(`h1 eth0 ${(await onHost('h1', 'cat /sys/class/net/eth0/mtu')).stdout.trim()}`);
      expect(mtu?.message).toContain('h2 eth0 1400');
      if (originalGro) {
        const [gro] = findingsOf(report, 'offload-mismatch', null);
        expect(gro?.message).toContain('GRO');
        expect(report.hosts.find((host) => host.host === 'h2')?.nics[0]?.offloads['gro']).toBe(originalGro === 'on' ? 'off' : 'on');
      } else {
        expect(findingsOf(report, 'offloads-unknown', 'h2')[0]?.severity).toBe('info');
      }
    } finally {
      await onHost('h2', `ip link set dev eth0 mtu ${originalMtu}`);
      if (originalGro) await onHost('h2', `ethtool -K eth0 gro ${originalGro}`);
    }
  });

  it('reports a user without root or sudo as not privileged', async () => {
    const report = await runPreflight(fixture.service, { hosts: ['h1-bob'], tools: { 'h1-bob': ['iperf3'] } });
    const [finding] = findingsOf(report, 'not-privileged', 'h1-bob');
    expect(finding?.severity).toBe('error');
    expect(finding?.message).toContain('bob');
    expect(finding?.fix).toContain('sudo');
    expect(report.hosts[0]).toMatchObject({ reachable: true, privilege: 'none', user: 'bob' });
    expect(report.hosts[0]?.tools['iperf3']).toMatch(/iperf3$/);
  });

  it('reports a no-op apt install of an installed tool as ok, recording the command and its exit code', async (context) => {
    // Only where apt-get already has iperf3 at its newest version: the testbed has no network to a mirror,
    // so a real download cannot be tested here (package-install.test.ts checks the rendered commands).
    const simulated = await onHost('h1', 'command -v apt-get >/dev/null && apt-get install -s iperf3 2>&1');
    context.skip(simulated.code !== 0 || !/is already the newest version/.test(simulated.stdout), 'apt-get would have to download iperf3');
    const record = await installTools(fixture.service, 'h1', ['iperf3']);
    expect(record).toMatchObject({ host: 'h1', packageManager: 'apt', packages: ['iperf3'], stillMissing: [], ok: true });
    expect(record.commands).toHaveLength(1);
    expect(record.commands[0]).toMatchObject({ exitCode: 0 });
    expect(record.commands[0]?.command).toContain('apt-get install -y');
  }, 180_000);

  it('reports a stopped host as unreachable, naming it, while the other host is still checked', async () => {
    await testbed.stopHost('h2');
    const report = await runPreflight(fixture.service, { hosts: ['h1', 'h2'], tools: { h1: ['iperf3'], h2: ['iperf3'] } });
    expect(report.ok).toBe(false);
    const [down] = findingsOf(report, 'unreachable', 'h2');
    expect(down?.severity).toBe('error');
    expect(down?.message).toContain('h2');
    expect(down?.message).not.toMatch(/\n\s+at /); // no stack trace
    expect(report.hosts.find((host) => host.host === 'h2')).toMatchObject({ reachable: false });
    expect(report.hosts.find((host) => host.host === 'h1')).toMatchObject({ reachable: true, tools: { iperf3: expect.stringMatching(/iperf3$/) as string } });
    expect(report.findings.filter((finding) => finding.severity === 'error').map((finding) => finding.host)).toEqual(['h2']);
  });
});
