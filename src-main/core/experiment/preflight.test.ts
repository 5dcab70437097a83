// Tests of the preflight: runPreflight over test-double executors that replay output captured on the
// testbed (so unreachable, unknown and failing hosts can be mixed with good ones), and the pure findings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import type { ExecResult, HostExecutor, Privilege } from '../exec/executor';
import { tQuantile } from '../stats';
import {
  compareOffloads,
  hostFindings,
  hostOffloadFindings,
  mtuFindings,
  noiseFinding,
  runPreflight,
  toHostState,
  type HostPreflightState,
  type PreflightHosts,
} from './preflight';
import { PREFLIGHT_MARKER, parsePreflightOutput } from './preflight-script';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const ROOT_OUTPUT = fixture('preflight-testbed-root-busy-port.out');

interface FakeHost {
  privilege?: Privilege | CnlabError;
  output?: string | CnlabError;
  code?: number;
}

/** A HostService stand-in: each host answers privilege() and runScript() from the table. */
function fakeHosts(table: Record<string, FakeHost>, scripts: string[] = []): PreflightHosts {
  const hosts: PreflightHosts = {
    executor(name: string): HostExecutor {
      const host = table[name];
      if (!host) throw new CnlabError('not-found', `host ${name} is not in the inventory (known: ${Object.keys(table).join(', ')}): add it with \`cnlab hosts add\``);
      return {
        hostName: name,
        privilege: () => (host.privilege instanceof CnlabError ? Promise.reject(host.privilege) : Promise.resolve(host.privilege ?? { kind: 'root' })),
        runScript: (script: string): Promise<ExecResult> => {
          scripts.push(script);
          if (host.output instanceof CnlabError) return Promise.reject(host.output);
          return Promise.resolve({ code: host.code ?? 0, signal: null, stdout: host.output ?? ROOT_OUTPUT, stderr: '', durationMs: 600 });
        },
        exec: () => Promise.reject(new Error('not used')),
        close: () => Promise.resolve(),
      };
    },
  };
  return hosts;
}

const unreachable = new CnlabError('connection-refused', 'host h2: connection refused at 198.18.0.12:22: check that sshd runs there and listens on port 22');

describe('runPreflight', () => {
  it('reports an unreachable host as an error naming it and the SSH problem, and still checks the others', async () => {
    const report = await runPreflight(fakeHosts({ h1: {}, h2: { privilege: unreachable } }), { hosts: ['h1', 'h2'], tools: { h1: ['iperf3'], h2: ['iperf3'] } });
    expect(report.ok).toBe(false);
    const finding = report.findings.find((candidate) => candidate.code === 'unreachable');
    expect(finding).toMatchObject({ severity: 'error', host: 'h2' });
    expect(finding?.message).toContain('h2');
    expect(finding?.message).toContain('connection refused at 198.18.0.12:22');
    expect(finding?.fix).toContain('cnlab hosts check h2');
    expect(report.hosts.map((host) => [host.host, host.reachable])).toEqual([
      ['h1', true],
      ['h2', false],
    ]);
    expect(report.hosts[0]?.tools['iperf3']).toBe('/usr/bin/iperf3');
    expect(report.findings[0]?.severity).toBe('error'); // errors first
    expect(Number.isNaN(Date.parse(report.checkedAt))).toBe(false);
  });

  it('sends each host its own tools and port range, each tool looked up once', async () => {
    const scripts: string[] = [];
    await runPreflight(fakeHosts({ h1: {}, h2: {} }, scripts), { hosts: ['h1'], tools: { h1: ['iperf3', 'iperf3'], h2: ['sockperf'] }, ports: { h1: { from: 5200, to: 5300 } } });
    expect(scripts).toHaveLength(2);
    expect(scripts[0]?.match(/cnlab_tool iperf3\n/g)).toHaveLength(1);
    expect(scripts[0]).toContain('-ge 5200');
    expect(scripts[1]).toContain('cnlab_tool sockperf');
    expect(scripts[1]).not.toContain('-ge 5200');
  });

  it('names a host missing from the inventory, and a host whose script failed', async () => {
    const timeout = new CnlabError('timeout', 'host h2: the command did not finish within 60000 ms');
    const report = await runPreflight(fakeHosts({ h1: {}, h2: { output: timeout } }), { hosts: ['h1', 'h2', 'h9'], tools: {} });
    expect(report.findings.find((finding) => finding.host === 'h9')).toMatchObject({ severity: 'error', code: 'unknown-host' });
    expect(report.findings.find((finding) => finding.host === 'h2')).toMatchObject({ severity: 'error', code: 'preflight-failed' });
    expect(report.hosts.find((host) => host.host === 'h2')).toMatchObject({ reachable: true, privilege: 'root' });
  });

  it('reports a host whose connection drops during the script as unreachable, not as a script failure', async () => {
    const lost = new CnlabError('connection-lost', 'host h1: the connection to 198.18.0.11:22 closed');
    const report = await runPreflight(fakeHosts({ h1: { output: lost } }), { hosts: ['h1'], tools: {} });
    expect(report.findings.map((finding) => [finding.code, finding.host])).toEqual([['unreachable', 'h1']]);
    expect(report.hosts[0]?.reachable).toBe(false);
  });

  it('rejects when cancelled instead of reporting every host as failed', async () => {
    const cancelled = new CnlabError('cancelled', 'host h1: cancelled');
    await expect(runPreflight(fakeHosts({ h1: { output: cancelled } }), { hosts: ['h1'], tools: {} })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('refuses a malformed request before contacting any host', async () => {
    const scripts: string[] = [];
    await expect(runPreflight(fakeHosts({ h1: {} }, scripts), { hosts: ['h1'], tools: { h1: ['rm -rf /'] } })).rejects.toMatchObject({ code: 'invalid-input' });
    expect(scripts).toEqual([]);
  });

  it('reports a host without root or sudo as not privileged, with the fix', async () => {
    const report = await runPreflight(fakeHosts({ 'h2-bob': { privilege: { kind: 'none', user: 'bob' }, output: fixture('preflight-testbed-bob.out') } }), {
      hosts: ['h2-bob'],
      tools: {},
    });
    const finding = report.findings.find((candidate) => candidate.code === 'not-privileged');
    expect(finding).toMatchObject({ severity: 'error', host: 'h2-bob' });
    expect(finding?.message).toContain('bob');
    expect(finding?.fix).toMatch(/root|sudo/);
    expect(report.hosts[0]).toMatchObject({ privilege: 'none', user: 'bob' });
  });

  it('warns about a truncated script output', async () => {
    const truncated = ROOT_OUTPUT.slice(0, ROOT_OUTPUT.indexOf(`${PREFLIGHT_MARKER}end`));
    const report = await runPreflight(fakeHosts({ h1: { output: truncated, code: 143 } }), { hosts: ['h1'], tools: {} });
    expect(report.findings.find((finding) => finding.code === 'preflight-incomplete')).toMatchObject({ severity: 'warning', host: 'h1' });
  });
});

const rootParsed = parsePreflightOutput(ROOT_OUTPUT);

function state(overrides: Partial<HostPreflightState> = {}): HostPreflightState {
  return { ...toHostState('h1', { kind: 'root' }, rootParsed), ...overrides };
}

describe('hostFindings', () => {
  it('names the heavy process (not the preflight itself) and the port in use with its owner', () => {
    const findings = hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {}, ports: { h1: { from: 5990, to: 6000 } } });
    const busy = findings.find((finding) => finding.code === 'busy-host');
    expect(busy?.message).toContain('sh -c while :; do :; done');
    expect(busy?.message).toMatch(/pid \d+/);
    const ports = findings.filter((finding) => finding.code === 'port-in-use');
    expect(ports).toHaveLength(1);
    expect(ports[0]?.message).toContain('TCP port 5999');
    expect(ports[0]?.message).toContain('iperf3');
    expect(ports[0]?.fix).toContain('port range');
  });

  it('reports no port when the range holds none, and none without a range', () => {
    expect(hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {}, ports: { h1: { from: 7000, to: 7100 } } }).some((f) => f.code === 'port-in-use')).toBe(false);
    expect(hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {} }).some((f) => f.code === 'port-in-use')).toBe(false);
  });

  it('excludes the preflight script, its children and its login chain from the busy processes', () => {
    const self = 500;
    const parsed = {
      ...rootParsed,
      busy: {
        self,
        ancestors: [499, 1],
        processes: [
          { pid: self, ppid: 499, cpuPercent: 90, command: 'sh -s' },
          { pid: 501, ppid: self, cpuPercent: 90, command: 'awk' },
          { pid: 499, ppid: 1, cpuPercent: 90, command: 'sshd' },
          { pid: 77, ppid: 1, cpuPercent: 19, command: 'idle-ish' },
          { pid: 78, ppid: 1, cpuPercent: 150, command: 'stress-ng' },
        ],
      },
    };
    expect(toHostState('h1', { kind: 'root' }, parsed).busyProcesses).toEqual([{ pid: 78, command: 'stress-ng', cpuPercent: 150 }]);
  });

  it('says a governor that is not performance is a warning, no governor at all only info', () => {
    const slow = { ...rootParsed, governors: { cpu0: 'powersave', cpu1: 'powersave', cpu2: 'performance' } };
    const warning = hostFindings(toHostState('h1', { kind: 'root' }, slow), slow, { hosts: ['h1'], tools: {} }).find((f) => f.code === 'governor');
    expect(warning).toMatchObject({ severity: 'warning', host: 'h1' });
    expect(warning?.message).toContain('powersave on 2 of 3 CPUs');
    expect(warning?.fix).toContain('performance');
    const fast = { ...rootParsed, governors: { cpu0: 'performance' } };
    expect(hostFindings(toHostState('h1', { kind: 'root' }, fast), fast, { hosts: ['h1'], tools: {} }).some((f) => f.code === 'governor')).toBe(false);
    expect(hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {} }).find((f) => f.code === 'governor')?.severity).toBe('info');
  });

  it('says which tools a host lacks and offers the apt package, with the non-free note for netperf', () => {
    const finding = hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {} }).find((f) => f.code === 'tool-missing');
    expect(finding?.message).toBe('h1 lacks netperf (not found by `command -v`)');
    expect(finding?.fix).toContain('netperf with apt on h1 if you agree');
    expect(finding?.fix).toContain('non-free');
    expect(finding?.details).toMatchObject({ missing: ['netperf'], installable: { netperf: 'netperf' }, packageManager: 'apt' });
  });

  it('does not offer an install where no package is known for the manager', () => {
    const alpine = state({ packageManager: 'apk', tools: { sockperf: null, iperf3: null } });
    const finding = hostFindings(alpine, rootParsed, { hosts: ['h1'], tools: {} }).find((f) => f.code === 'tool-missing');
    expect(finding?.fix).toContain('iperf3 with apk');
    expect(finding?.fix).toContain('sockperf: cnlab knows no Alpine package');
    expect(finding?.details).toMatchObject({ installable: { iperf3: 'iperf3' }, unavailable: [{ tool: 'sockperf' }] });
  });

  it('tells that offloads are unknown without ethtool, as info', () => {
    const finding = hostFindings(state(), rootParsed, { hosts: ['h1'], tools: {} }).find((f) => f.code === 'offloads-unknown');
    expect(finding).toMatchObject({ severity: 'info', host: 'h1' });
    expect(finding?.fix).toContain('ethtool');
  });
});

const nic = (name: string, mtu: number, offloads: Record<string, 'on' | 'off'> = {}) => ({ name, mtu, offloads, management: true, physical: true });

describe('cross-host findings', () => {
  it('warns when the underlay NICs have different MTUs, naming each', () => {
    const findings = mtuFindings([state({ host: 'h1', nics: [nic('eth0', 1500)] }), state({ host: 'h2', nics: [nic('ens3', 9000)] }), state({ host: 'h3', reachable: false, nics: [] })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('h1 eth0 1500, h2 ens3 9000');
    expect(findings[0]?.fix).toContain('mtu 1500');
    expect(mtuFindings([state({ host: 'h1', nics: [nic('eth0', 1500)] }), state({ host: 'h2', nics: [nic('ens3', 1500)] })])).toEqual([]);
  });

  it('warns when the underlay NICs differ in GRO, and only about what differs', () => {
    const findings = hostOffloadFindings([
      state({ host: 'h1', nics: [nic('eth0', 1500, { gro: 'on', gso: 'on' })] }),
      state({ host: 'h2', nics: [nic('eth0', 1500, { gro: 'off', gso: 'on' })] }),
    ]);
    expect(findings.map((finding) => finding.details?.['feature'])).toEqual(['gro']);
    expect(findings[0]?.message).toContain('h1 eth0 on, h2 eth0 off');
  });
});

describe('compareOffloads', () => {
  it('is silent when every mode has the same offloads', () => {
    expect(compareOffloads({ bridge: { gro: 'on', tso: 'on' }, macvlan: { gro: 'on', tso: 'on' } })).toEqual([]);
  });

  it('warns per setting that differs between modes, naming the modes and the ethtool fix', () => {
    const findings = compareOffloads({ bridge: { 'h1 veth0 gro': 'on', 'h1 veth0 tso': 'on' }, vxlan: { 'h1 veth0 gro': 'off', 'h1 veth0 tso': 'on' }, host: {} });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', code: 'offload-mismatch' });
    expect(findings[0]?.message).toContain('bridge on, vxlan off');
    expect(findings[0]?.fix).toContain('ethtool -K DEV gro');
  });
});

describe('noiseFinding', () => {
  it('says nothing when the warm-up is steady enough for the planned repetitions', () => {
    expect(noiseFinding('bridge × 1500 B', [100, 101, 99, 100], 10)).toBeNull();
  });

  it('says nothing without spread to judge', () => {
    expect(noiseFinding('bridge', [100], 3)).toBeNull();
    expect(noiseFinding('bridge', [], 3)).toBeNull();
  });

  it('warns with the repetitions that would reach ±5%, computed with Student t', () => {
    const finding = noiseFinding('bridge × 1500 B', [100, 80, 120, 90, 110], 5);
    expect(finding).toMatchObject({ severity: 'warning', code: 'noisy', host: null });
    expect(finding?.message).toContain('cell bridge × 1500 B');
    expect(finding?.message).toMatch(/CV 15\.8% over 5 runs/);
    const suggested = finding?.details?.['suggestedRepetitions'] as number;
    const cv = finding?.details?.['cv'] as number;
    const halfWidth = (n: number): number => (tQuantile(0.975, n - 1) * cv) / Math.sqrt(n);
    expect(halfWidth(suggested)).toBeLessThanOrEqual(0.05);
    expect(halfWidth(suggested - 1)).toBeGreaterThan(0.05);
    expect(finding?.fix).toContain(`raise the repetitions to ${suggested}`);
  });

  it('says that no count will do when the noise is extreme', () => {
    const finding = noiseFinding('ping', [1, 100, 3, 250], 3);
    expect(finding?.details?.['suggestedRepetitions']).toBeNull();
    expect(finding?.fix).toContain('remove the source of the noise first');
  });

  it('refuses NaN samples loudly (a broken parser)', () => {
    expect(() => noiseFinding('bridge', [1, Number.NaN], 3)).toThrow(CnlabError);
  });
});
