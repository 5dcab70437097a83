// Tests of the facts probe: the parser on real captured output and on broken or unusual output,
// and (as root) the whole probe run for real on this machine, checked against independent reads.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import type { ExecOptions, ExecResult, HostExecutor, Privilege } from '../exec/executor';
import {
  DOCKER_INFO_TEMPLATE,
  FACTS_MARKER,
  SCRATCH_NAMESPACE_PREFIX,
  buildFactsScript,
  countCpuList,
  normalizeIp,
  parseHostFactsOutput,
  probeHostFacts,
  type ParseFactsContext,
} from './facts-probe';
import { KERNEL_FEATURES, hostFactsSchema } from './host-facts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

const PRIVILEGED: ParseFactsContext = { probedAt: '2025-01-01T00:00:00.000Z', durationMs: 340, mode: 'privileged' };
const UNPRIVILEGED: ParseFactsContext = { ...PRIVILEGED, mode: 'unprivileged' };

/** Builds probe output from sections, the way the script prints them. */
function output(sections: Record<string, string>, options: { end?: boolean } = {}): string {
  let text = `${FACTS_MARKER}begin 1\n`;
  for (const [name, body] of Object.entries(sections)) text += `\n${FACTS_MARKER}${name}\n${body}\n`;
  if (options.end !== false) text += `\n${FACTS_MARKER}end\n`;
  return text;
}

describe('buildFactsScript', () => {
  it('is valid POSIX sh in both modes', () => {
    for (const privileged of [true, false]) {
      const check = spawnSync('sh', ['-n'], { input: buildFactsScript({ privileged }), encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('creates and traps the scratch namespace only when privileged', () => {
    const privileged = buildFactsScript({ privileged: true, scratchNamespace: 'cnlab-probe-abc123' });
    expect(privileged).toContain('cnlab_ns=cnlab-probe-abc123');
    expect(privileged).toContain("trap 'cnlab_cleanup' EXIT");
    const unprivileged = buildFactsScript({ privileged: false });
    expect(unprivileged).not.toContain('ip netns add');
    expect(unprivileged).not.toContain('link add');
  });

  it('generates a fresh random namespace name per script', () => {
    const names = [1, 2].map(() => /cnlab_ns=(\S+)/.exec(buildFactsScript({ privileged: true }))?.[1]);
    expect(names[0]).toMatch(new RegExp(`^${SCRATCH_NAMESPACE_PREFIX}[0-9a-f]{12}$`));
    expect(names[0]).not.toBe(names[1]);
  });

  it('refuses a namespace name that is not a plain word', () => {
    expect(() => buildFactsScript({ privileged: true, scratchNamespace: "x'; reboot; '" })).toThrow(CnlabError);
  });

  it('uses no IPv4 address outside 198.18.0.0/15', () => {
    const addresses = buildFactsScript({ privileged: true }).match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [];
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(address).toMatch(/^198\.1[89]\./);
  });
});

/**
 * A stand-in `docker` for the script: answers like a daemon-backed client (or like one whose daemon is
 * gone), records every call, and saves the template it was given so quoting can be checked byte for byte.
 */
function fakeDocker(daemon: boolean): { dir: string; calls: () => string[]; template: () => string } {
  const dir = mkdtempSync(join(os.tmpdir(), 'cnlab-fake-docker-'));
  const script = `#!/bin/sh
echo "$1" >> "${dir}/calls"
case "$1" in
  --version) echo 'Docker version 24.0.7, build afdd53b' ;;
  version)
    ${daemon ? '' : 'echo "Cannot connect to the Docker daemon" >&2; exit 1'}
    case "$3" in *APIVersion*) printf '24.0.7\\napi_version=1.43\\n' ;; *) echo 24.0.7 ;; esac ;;
  info)
    printf '%s' "$3" > "${dir}/template"
    printf 'server_version=24.0.7\nswarm_state=inactive\nnetwork_drivers=bridge,host\ncomplete=yes\n' ;;
esac
`;
  writeFileSync(join(dir, 'docker'), script);
  chmodSync(join(dir, 'docker'), 0o755);
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  return { dir, calls: () => read('calls').split('\n').filter(Boolean), template: () => read('template') };
}

function runScriptWith(path: string): string {
  const result = spawnSync('sh', ['-s'], {
    input: buildFactsScript({ privileged: false }),
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path}:${process.env.PATH ?? ''}` },
    timeout: 60_000,
  });
  return result.stdout;
}

describe('the docker-info section of the script', () => {
  it('is present after the docker server check and carries the template', () => {
    const script = buildFactsScript({ privileged: false });
    expect(script).toContain('cnlab_sec docker-info');
    expect(script.indexOf('cnlab_sec docker-info')).toBeGreaterThan(script.indexOf('cnlab_sec tool:docker-server'));
    expect(script).toContain(`docker version --format '{{.Server.Version}}{{"\\n"}}api_version={{.Server.APIVersion}}'`);
    expect(script).toContain('{{join .Plugins.Network ","}}');
    expect(buildFactsScript({ privileged: true })).toContain('cnlab_sec docker-info');
  });

  it('hands docker info the template unchanged and the parser what it printed', () => {
    const docker = fakeDocker(true);
    try {
      const facts = parseHostFactsOutput(runScriptWith(docker.dir), UNPRIVILEGED);
      expect(docker.template()).toBe(DOCKER_INFO_TEMPLATE);
      expect(facts.tools.dockerServer).toBe('24.0.7');
      expect(facts.docker).toMatchObject({ serverVersion: '24.0.7', apiVersion: '1.43', networkDrivers: ['bridge', 'host'] });
    } finally {
      rmSync(docker.dir, { recursive: true, force: true });
    }
  });

  it('does not ask for engine facts when the daemon did not answer', () => {
    const docker = fakeDocker(false);
    try {
      const facts = parseHostFactsOutput(runScriptWith(docker.dir), UNPRIVILEGED);
      expect(docker.calls()).toEqual(['--version', 'version']);
      expect(facts.tools.docker).toBe('24.0.7');
      expect(facts.tools.dockerServer).toBeNull();
      expect(facts.docker).toBeNull();
    } finally {
      rmSync(docker.dir, { recursive: true, force: true });
    }
  });
});

describe('parseHostFactsOutput on the docker-info section', () => {
  /** The captured sections end where the next tool's began: close them as a whole run would. */
  const dockerFixture = (name: string): string => `${FACTS_MARKER}begin 1\n${fixture(name)}\n${FACTS_MARKER}end\n`;
  /** These outputs lack the other sections on purpose: only what is said about Docker matters here. */
  const dockerWarnings = (warnings: readonly string[]): string[] => warnings.filter((warning) => /docker/i.test(warning));

  it('reads an active swarm manager (docker-swarm-manager.out)', () => {
    const facts = parseHostFactsOutput(dockerFixture('docker-swarm-manager.out'), PRIVILEGED);
    expect(dockerWarnings(facts.warnings)).toEqual([]);
    expect(facts.tools.dockerServer).toBe('20.10.24+dfsg1');
    expect(facts.docker).toEqual({
      serverVersion: '20.10.24+dfsg1',
      apiVersion: '1.41',
      storageDriver: 'overlay2',
      cgroupDriver: 'cgroupfs',
      cgroupVersion: '1',
      swarm: { state: 'active', nodeId: 'blntidfrnzf65duh70ckapxpt', controlAvailable: true, managers: 1, nodes: 1 },
      networkDrivers: ['bridge', 'host', 'ipvlan', 'macvlan', 'null', 'overlay'],
      defaultAddressPools: [{ base: '198.19.0.0/16', size: 24 }],
    });
  });

  it('reads a daemon outside any swarm (docker-inactive.out), without counts it does not know', () => {
    const facts = parseHostFactsOutput(dockerFixture('docker-inactive.out'), PRIVILEGED);
    expect(dockerWarnings(facts.warnings)).toEqual([]);
    expect(facts.docker?.swarm).toEqual({ state: 'inactive', nodeId: null, controlAvailable: false, managers: null, nodes: null });
    expect(facts.docker?.serverVersion).toBe('20.10.24+dfsg1');
  });

  it('reads no pools when none are configured, and a pool with an IPv6 base', () => {
    const lines = 'server_version=27.0.1\nswarm_state=inactive\ncomplete=yes';
    expect(parseHostFactsOutput(output({ 'docker-info': lines }), UNPRIVILEGED).docker?.defaultAddressPools).toEqual([]);
    const v6 = parseHostFactsOutput(output({ 'docker-info': `${lines}\npool=fd00:dead::/48 64\npool=10.10.0.0/16 24` }), UNPRIVILEGED);
    expect(v6.docker?.defaultAddressPools).toEqual([
      { base: 'fd00:dead::/48', size: 64 },
      { base: '10.10.0.0/16', size: 24 },
    ]);
  });

  it.each([
    ['no daemon: the section is empty', { 'tool:docker-server': '', 'docker-info': '' }],
    ['no section at all (facts from an older script or a cut run)', {}],
    // What a client prints when it fills the template from an empty struct because no daemon answered.
    ['a template filled without a daemon', { 'docker-info': 'server_version=\nstorage_driver=\nswarm_state=\nnetwork_drivers=\ncomplete=yes' }],
  ])('reports no engine when %s', (_case, sections) => {
    const facts = parseHostFactsOutput(output(sections), UNPRIVILEGED);
    expect(facts.docker).toBeNull();
    expect(dockerWarnings(facts.warnings)).toEqual([]);
  });

  it('turns garbage into null without throwing', () => {
    const garbage = 'x=\n=y\n\u0000\u00ff\ufffd\nserver_version=<no value>\n}}}\ntemplate: :1:17: executing "" at <.ServerVersion>\npool=lots\n';
    const facts = parseHostFactsOutput(output({ 'tool:docker-server': garbage, 'docker-info': garbage }), UNPRIVILEGED);
    expect(facts.docker).toBeNull();
    expect(facts.tools.dockerServer).toBeNull();
    expect(hostFactsSchema.safeParse(facts).success).toBe(true);
  });

  it('keeps what it can read of a daemon that answered with odd values', () => {
    const odd = [
      'server_version=25.0.3',
      'api_version=one',
      'storage_driver=over lay',
      'cgroup_driver=systemd',
      'cgroup_version=two',
      'swarm_state=Active!',
      'swarm_node_id=../../etc',
      'swarm_control_available=yes',
      'swarm_managers=-1',
      'network_drivers=bridge,,bridge, host ,a b,weaveworks/net-plugin:2.8.1',
      'pool=198.19.0.0/16/24',
      'pool=300.1.1.1/8 24',
      'pool=10.0.0.0/8 33',
      'pool=10.0.0.0/8 24',
      'complete=yes',
    ].join('\n');
    const facts = parseHostFactsOutput(output({ 'docker-info': odd }), UNPRIVILEGED);
    expect(facts.docker).toEqual({
      serverVersion: '25.0.3',
      apiVersion: null,
      storageDriver: null,
      cgroupDriver: 'systemd',
      cgroupVersion: null,
      swarm: { state: 'unknown', nodeId: null, controlAvailable: false, managers: null, nodes: null },
      networkDrivers: ['bridge', 'host', 'weaveworks/net-plugin:2.8.1'],
      defaultAddressPools: [{ base: '10.0.0.0/8', size: 24 }],
    });
    expect(hostFactsSchema.safeParse(facts).success).toBe(true);
  });

  it('warns when an older client stopped at a field it lacks, and keeps the lines before it', () => {
    // A 19.03 client has no CgroupVersion: text/template prints up to the failing action, then stops.
    const cut = 'server_version=19.03.15\nstorage_driver=overlay2\nswarm_state=inactive\nnetwork_drivers=bridge,host\ncgroup_version=';
    const facts = parseHostFactsOutput(output({ 'docker-info': cut }), UNPRIVILEGED);
    expect(facts.docker).toMatchObject({ serverVersion: '19.03.15', storageDriver: 'overlay2', cgroupVersion: null, defaultAddressPools: [] });
    expect(facts.warnings.join('\n')).toContain('older docker client lacks a field');
  });

  it('still reads facts saved before the probe asked the daemon', () => {
    const facts: Record<string, unknown> = { ...parseHostFactsOutput(dockerFixture('docker-inactive.out'), PRIVILEGED) };
    delete facts.docker;
    const parsed = hostFactsSchema.parse(facts);
    expect(parsed.docker).toBeUndefined();
  });
});

describe('parseHostFactsOutput on captured output', () => {
  it('reads a privileged run as root (root-privileged.out)', () => {
    const facts = parseHostFactsOutput(fixture('root-privileged.out'), PRIVILEGED);
    expect(facts.warnings).toEqual([]);
    expect(facts.probeMode).toBe('privileged');
    expect(facts.scratchNamespace).toEqual({ name: 'cnlab-probe-fixture0001', removed: true });
    expect(facts.hostname).toBe('vm');
    expect(facts.os).toEqual({
      id: 'debian',
      name: 'Debian GNU/Linux',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
      version: '12 (bookworm)',
      versionId: '12',
    });
    expect(facts.kernel).toEqual({ release: '6.18.44-fc-v595', configSource: '/proc/config.gz' });
    expect(facts.arch).toBe('x86_64');
    expect(facts.cpu).toEqual({ model: 'Intel(R) Xeon(R) Processor', count: 2, online: '0-1' });
    expect(facts.memoryBytes).toBe(24684096 * 1024);
    expect(facts.virtualization).toEqual({ kind: 'container', technology: 'docker', hypervisor: 'kvm', source: 'systemd-detect-virt' });
    expect(facts.nics.map((nic) => nic.name)).not.toContain('lo');
    expect(facts.nics.find((nic) => nic.name === 'eth0')).toEqual({
      name: 'eth0',
      mtu: 1400,
      state: 'UP',
      mac: '02:fc:00:00:00:01',
      speedMbps: null, // virtio reports -1
      driver: 'virtio_net',
      kind: null,
      addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'],
      isManagement: true,
    });
    expect(facts.nics.find((nic) => nic.name === 'ifb0')).toMatchObject({ driver: null, kind: 'ifb', isManagement: false });
    expect(facts.defaultRoute).toEqual({ dev: 'eth0', via: '192.0.2.1', family: 'inet' });
    expect(facts.management).toEqual({ address: null, nic: 'eth0', source: 'default-route' });
    for (const feature of ['bridge', 'veth', 'macvlan', 'vxlan', 'tbf', 'htb'] as const) {
      expect(facts.kernelFeatures[feature]).toEqual({ supported: true, source: 'trial' });
    }
    for (const feature of ['ipvlan', 'ipip', 'gre', 'wireguard', 'geneve', 'dummy'] as const) {
      expect(facts.kernelFeatures[feature]).toEqual({ supported: false, source: 'trial', reason: 'Error: Unknown device type.' });
    }
    expect(facts.kernelFeatures.netem).toEqual({ supported: false, source: 'trial', reason: 'Error: Specified qdisc kind is unknown.' });
    expect(facts.tools).toEqual({
      iproute2: '6.1.0',
      iperf3: '3.12',
      sockperf: '3.7-no.git',
      netperf: null,
      qperf: null,
      ping: '20221126',
      nft: '1.0.6',
      iptables: '1.8.9',
      iptablesBackend: 'nf_tables',
      docker: '28.2.2',
      dockerServer: null,
      bird: null,
      etcd: null,
    });
    expect(facts.cniPluginsDir).toBe('/usr/lib/cni');
    expect(facts.cniPlugins).toContain('macvlan');
    expect(facts.cniPlugins).toHaveLength(16);
    expect(facts.privilege).toEqual({ user: 'root', uid: 0, kind: 'root' });
  });

  it('reads an unprivileged run from the kernel config (nobody-unprivileged.out)', () => {
    const facts = parseHostFactsOutput(fixture('nobody-unprivileged.out'), UNPRIVILEGED);
    expect(facts.warnings).toEqual([]);
    expect(facts.scratchNamespace).toBeNull();
    expect(facts.privilege).toEqual({ user: 'nobody', uid: 65534, kind: 'none' });
    expect(facts.kernelFeatures.macvlan).toEqual({ supported: true, source: 'kernel-config', reason: 'CONFIG_MACVLAN=y' });
    expect(facts.kernelFeatures.ipvlan).toEqual({ supported: false, source: 'kernel-config', reason: 'CONFIG_IPVLAN is not set' });
    // NET_IPGRE is absent from the config because what it depends on is off.
    expect(facts.kernelFeatures.gre).toMatchObject({ supported: false, source: 'kernel-config', reason: expect.stringContaining('CONFIG_NET_IPGRE_DEMUX is not set') });
    expect(facts.kernelFeatures.netem).toMatchObject({ supported: false, source: 'kernel-config' });
    // Docker's complaint about root's config file must not hide the version line.
    expect(facts.tools.docker).toBe('28.2.2');
    expect(facts.nics.find((nic) => nic.name === 'eth0')?.driver).toBe('virtio_net');
  });

  it('finds the management NIC from SSH_CONNECTION even through sudo (sudo-ssh-privileged.out)', () => {
    const facts = parseHostFactsOutput(fixture('sudo-ssh-privileged.out'), PRIVILEGED);
    expect(facts.management).toEqual({ address: '192.0.2.2', nic: 'eth0', source: 'ssh-connection' });
    expect(facts.nics.filter((nic) => nic.isManagement).map((nic) => nic.name)).toEqual(['eth0']);
    // root running sudo stays root
    expect(facts.privilege.kind).toBe('root');
  });

  it('prefers the address cnlab dialled when a NIC carries it, in any spelling', () => {
    const facts = parseHostFactsOutput(fixture('sudo-ssh-privileged.out'), { ...PRIVILEGED, managementAddress: 'FD00:0::2' });
    expect(facts.management).toEqual({ address: 'fd00::2', nic: 'eth0', source: 'context' });
    const byName = parseHostFactsOutput(fixture('sudo-ssh-privileged.out'), { ...PRIVILEGED, managementAddress: 'lab1.example' });
    expect(byName.management.source).toBe('ssh-connection');
  });

  it('falls back to the kernel config when the privileged script was not root (nobody-privileged-script.out)', () => {
    const facts = parseHostFactsOutput(fixture('nobody-privileged-script.out'), PRIVILEGED);
    expect(facts.warnings.join('\n')).toContain('trial needs root');
    expect(facts.scratchNamespace).toBeNull();
    expect(facts.kernelFeatures.vxlan).toEqual({ supported: true, source: 'kernel-config', reason: 'CONFIG_VXLAN=y' });
  });

  it('never throws on any prefix of a real output', () => {
    const text = fixture('root-privileged.out');
    for (let cut = FACTS_MARKER.length; cut < text.length; cut += 7) {
      const facts = parseHostFactsOutput(text.slice(0, cut), PRIVILEGED);
      expect(hostFactsSchema.safeParse(facts).success).toBe(true);
    }
    expect(parseHostFactsOutput(text.slice(0, text.length / 2), PRIVILEGED).warnings.join('\n')).toContain('cut short');
  });
});

describe('parseHostFactsOutput on broken and unusual output', () => {
  it('throws command-failed only when there is no marker at all', () => {
    let thrown: unknown;
    try {
      parseHostFactsOutput('sudo: a password is required\n', PRIVILEGED);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CnlabError);
    expect((thrown as CnlabError).code).toBe('command-failed');
  });

  it('turns a bare begin marker into an all-unknown record', () => {
    const facts = parseHostFactsOutput(`${FACTS_MARKER}begin 1\n`, UNPRIVILEGED);
    expect(facts.os.id).toBeNull();
    expect(facts.cpu.count).toBeNull();
    expect(facts.virtualization).toEqual({ kind: 'unknown', source: 'none' });
    expect(facts.defaultRoute).toBeNull();
    expect(facts.management.source).toBe('none');
    for (const feature of KERNEL_FEATURES) expect(facts.kernelFeatures[feature].supported).toBe('unknown');
    expect(facts.tools.iperf3).toBeNull();
    expect(facts.privilege).toEqual({ user: null, uid: null, kind: 'none' });
  });

  it('survives garbage in every section', () => {
    const garbage = 'x=\n=y\n\u0000\u00ff\ufffd\n[{"ifname": 3}\n}}}\nresult macvlan maybe\nMemTotal: lots kB\nonline=9-2\n';
    const names = ['identity', 'os-release', 'cpu', 'memory', 'virt', 'mgmt', 'ip-addr', 'nic-sys', 'route4', 'route6', 'kconfig', 'modules', 'trial', 'cni', 'tool:iperf3'];
    const facts = parseHostFactsOutput(output(Object.fromEntries(names.map((name) => [name, garbage]))), PRIVILEGED);
    expect(facts.cpu).toEqual({ model: null, count: null, online: null });
    expect(facts.memoryBytes).toBeNull();
    expect(facts.nics).toEqual([]);
    expect(facts.tools.iperf3).toBe('unknown');
    expect(facts.kernelFeatures.macvlan.supported).toBe('unknown');
    expect(facts.warnings.join('\n')).toContain("could not read the NICs' addresses");
  });

  it('lists NICs from /sys when `ip -j` is not available', () => {
    const facts = parseHostFactsOutput(
      output({ 'ip-addr': 'error=this ip (iproute2) has no JSON output (-j)', 'nic-sys': 'nic lo - \nnic ens3 25000 ice\nnic br0 - ' }),
      UNPRIVILEGED,
    );
    expect(facts.nics).toEqual([
      { name: 'ens3', mtu: null, state: null, mac: null, speedMbps: 25000, driver: 'ice', kind: null, addresses: [], isManagement: false },
      { name: 'br0', mtu: null, state: null, mac: null, speedMbps: null, driver: null, kind: null, addresses: [], isManagement: false },
    ]);
    expect(facts.warnings.join('\n')).toContain('no JSON output');
  });

  it('reports a kernel lacking macvlan from the trial, with the failing command as the reason', () => {
    const facts = parseHostFactsOutput(
      output({ trial: 'netns=cnlab-probe-0\nresult veth ok\nresult macvlan fail Error: Unknown device type.\nremoved=yes', kconfig: 'source=/proc/config.gz\nCONFIG_MACVLAN=y' }),
      PRIVILEGED,
    );
    // The trial wins over the config: it is what this kernel actually does.
    expect(facts.kernelFeatures.macvlan).toEqual({ supported: false, source: 'trial', reason: 'Error: Unknown device type.' });
    expect(facts.kernelFeatures.veth).toEqual({ supported: true, source: 'trial' });
    expect(facts.kernelFeatures.vxlan.supported).toBe('unknown');
  });

  it('treats a refused trial as no evidence and uses the config instead', () => {
    const facts = parseHostFactsOutput(
      output({
        trial: 'netns=cnlab-probe-0\nresult macvlan fail RTNETLINK answers: Operation not permitted\nresult ipvlan skip no veth or dummy device to stack it on\nremoved=yes',
        kconfig: 'source=/boot/config-6.1.0\nCONFIG_MACVLAN=y',
      }),
      PRIVILEGED,
    );
    expect(facts.kernelFeatures.macvlan).toEqual({ supported: true, source: 'kernel-config', reason: 'CONFIG_MACVLAN=y' });
    expect(facts.kernelFeatures.ipvlan).toEqual({ supported: 'unknown', source: 'unknown', reason: 'trial skipped: no veth or dummy device to stack it on' });
  });

  it('reports a scratch namespace the script saw survive', () => {
    const facts = parseHostFactsOutput(output({ trial: 'netns=cnlab-probe-0\nresult veth ok\nremoved=no' }), PRIVILEGED);
    expect(facts.scratchNamespace).toEqual({ name: 'cnlab-probe-0', removed: false });
    expect(facts.warnings.join('\n')).toContain('still present');
  });

  it('decides =m by whether the module is installed', () => {
    const kconfig = 'source=/boot/config-6.1.0-13-amd64\nCONFIG_MACVLAN=m\nCONFIG_IPVLAN=m\nCONFIG_VXLAN=m\n# CONFIG_GENEVE is not set\nCONFIG_NET_SCHED=y\nCONFIG_NET_SCH_NETEM=m';
    const modules = 'dir=/lib/modules/6.1.0-13-amd64\nfile=macvlan\nloaded=vxlan';
    const facts = parseHostFactsOutput(output({ kconfig, modules }), UNPRIVILEGED);
    expect(facts.kernel.configSource).toBe('/boot/config-6.1.0-13-amd64');
    expect(facts.kernelFeatures.macvlan).toEqual({ supported: true, source: 'kernel-config', reason: 'CONFIG_MACVLAN=m, module macvlan is installed' });
    expect(facts.kernelFeatures.ipvlan).toEqual({
      supported: false,
      source: 'kernel-config',
      reason: 'CONFIG_IPVLAN=m but module ipvlan is not installed under /lib/modules/6.1.0-13-amd64',
    });
    // Loaded counts even if the file has gone (e.g. after a kernel package upgrade).
    expect(facts.kernelFeatures.vxlan.supported).toBe(true);
    expect(facts.kernelFeatures.geneve).toEqual({ supported: false, source: 'kernel-config', reason: 'CONFIG_GENEVE is not set' });
    expect(facts.kernelFeatures.netem.supported).toBe(false);
    // Absent from the config and no parent known to be off: not guessed.
    expect(facts.kernelFeatures.wireguard).toMatchObject({ supported: 'unknown', source: 'unknown' });
  });

  it('marks all qdiscs unsupported when CONFIG_NET_SCHED is off', () => {
    const facts = parseHostFactsOutput(output({ kconfig: 'source=/proc/config.gz\n# CONFIG_NET_SCHED is not set' }), UNPRIVILEGED);
    for (const feature of ['netem', 'tbf', 'htb'] as const) {
      expect(facts.kernelFeatures[feature]).toMatchObject({ supported: false, reason: expect.stringContaining('CONFIG_NET_SCHED is not set') });
    }
  });

  it('reports every feature unknown when no kernel config is readable', () => {
    const facts = parseHostFactsOutput(output({ kconfig: 'source=none', modules: 'dir=none' }), UNPRIVILEGED);
    for (const feature of KERNEL_FEATURES) {
      expect(facts.kernelFeatures[feature]).toMatchObject({ supported: 'unknown', source: 'unknown', reason: expect.stringContaining('not readable') });
    }
  });

  it.each([
    ['iproute2', 'ip utility, iproute2-6.1.0, libbpf 1.1.0', '6.1.0'],
    ['iproute2', 'ip utility, iproute2-ss200127', 'ss200127'],
    ['iproute2', 'ip utility, iproute2-5.15.0, libbpf 0.5.0', '5.15.0'],
    ['iperf3', 'iperf 3.12 (cJSON 1.7.15)\nLinux host 6.1.0 #1 SMP x86_64', '3.12'],
    ['iperf3', 'iperf 3.1.3', '3.1.3'],
    ['sockperf', 'sockperf: == version #3.7-no.git ==', '3.7-no.git'],
    ['sockperf', 'sockperf, version 3.10-0.git7d9f4ac1e0b5\n   compiled 2023-01-01', '3.10-0.git7d9f4ac1e0b5'],
    ['netperf', 'Netperf version 2.7.0', '2.7.0'],
    ['qperf', 'qperf 0.4.11', '0.4.11'],
    ['ping', 'ping utility, iputils-s20180629', '20180629'],
    ['ping', 'ping from iputils 20240117', '20240117'],
    ['ping', 'ping: invalid option -- \'V\'\nBusyBox v1.36.1 (2023-11-07) multi-call binary.', 'busybox-1.36.1'],
    ['nft', 'nftables v1.0.9 (Old Doc Yak #3)', '1.0.9'],
    ['docker', 'Docker version 24.0.7, build afdd53b', '24.0.7'],
    ['docker', 'podman version 4.3.1', '4.3.1'],
    ['bird', 'BIRD version 2.0.12', '2.0.12'],
    ['etcd', 'etcd Version: 3.5.9\nGit SHA: bdbbde998\nGo Version: go1.19.9', '3.5.9'],
    ['qperf', 'Segmentation fault', 'unknown'],
    ['iperf3', '@missing', null],
  ])('reads %s from %j', (tool, text, expected) => {
    const facts = parseHostFactsOutput(output({ [`tool:${tool}`]: text }), UNPRIVILEGED);
    expect(facts.tools[tool as 'iperf3']).toBe(expected);
  });

  it.each([
    ['iptables v1.8.9 (nf_tables)', '1.8.9', 'nf_tables'],
    ['iptables v1.8.7 (legacy)', '1.8.7', 'legacy'],
    ['iptables v1.6.1', '1.6.1', 'legacy'],
    ['iptables v1.8.2', '1.8.2', 'unknown'],
    ['@missing', null, null],
  ])('reads iptables %j', (text, version, backend) => {
    const facts = parseHostFactsOutput(output({ 'tool:iptables': text }), UNPRIVILEGED);
    expect([facts.tools.iptables, facts.tools.iptablesBackend]).toEqual([version, backend]);
  });

  it('reports a docker server only when it answered', () => {
    expect(parseHostFactsOutput(output({ 'tool:docker-server': '\n24.0.7' }), UNPRIVILEGED).tools.dockerServer).toBe('24.0.7');
    expect(parseHostFactsOutput(output({ 'tool:docker-server': '' }), UNPRIVILEGED).tools.dockerServer).toBeNull();
  });

  it.each([
    ['sdv_vm=none\nsdv_container=none', { kind: 'bare-metal', source: 'systemd-detect-virt' }],
    ['sdv_vm=vmware\nsdv_container=none', { kind: 'vm', technology: 'vmware', source: 'systemd-detect-virt' }],
    ['sdv_vm=none\nsdv_container=lxc', { kind: 'container', technology: 'lxc', source: 'systemd-detect-virt' }],
    ['dmi_vendor=QEMU\ndmi_product=Standard PC (Q35 + ICH9, 2009)', { kind: 'vm', technology: 'qemu', source: 'dmi' }],
    ['dmi_vendor=Microsoft Corporation\ndmi_product=Virtual Machine', { kind: 'vm', technology: 'microsoft', source: 'dmi' }],
    ['dmi_vendor=Dell Inc.\ndmi_product=PowerEdge R650\nmarker=docker', { kind: 'container', technology: 'docker', source: 'marker-file' }],
    // A physical vendor with no hypervisor flag is still not proof of bare metal.
    ['dmi_vendor=Dell Inc.\ndmi_product=PowerEdge R650', { kind: 'unknown', source: 'none' }],
    ['sdv_vm=\nsdv_container=', { kind: 'unknown', source: 'none' }],
  ])('classifies virtualization from %j', (virt, expected) => {
    expect(parseHostFactsOutput(output({ virt }), UNPRIVILEGED).virtualization).toEqual(expected);
  });

  it('uses the hypervisor CPU flag when nothing else says', () => {
    const facts = parseHostFactsOutput(output({ cpu: 'hypervisor_flag=yes', virt: 'dmi_vendor=' }), UNPRIVILEGED);
    expect(facts.virtualization).toEqual({ kind: 'vm', source: 'cpuinfo' });
  });

  it('reads sudo identity as the login user', () => {
    const facts = parseHostFactsOutput(output({ identity: 'uid=0\nuser=root\nsudo_user=alice\nsudo_uid=1000' }), PRIVILEGED);
    expect(facts.privilege).toEqual({ user: 'alice', uid: 1000, kind: 'sudo' });
  });

  it('matches an IPv6 SSH_CONNECTION with a zone, and picks the lowest-metric default route', () => {
    const ipAddr = JSON.stringify([
      { ifname: 'lo', link_type: 'loopback', addr_info: [{ local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eno1', mtu: 1500, operstate: 'UP', address: 'AA:BB:CC:DD:EE:FF', addr_info: [{ local: '2001:db8::10', prefixlen: 64 }] },
      { ifname: 'eno2', mtu: 9000, operstate: 'UP', address: '00:11:22:33:44:55', linkinfo: { info_kind: 'bond' }, addr_info: [] },
    ]);
    const route4 = JSON.stringify([
      { dst: 'default', gateway: '198.18.0.1', dev: 'eno2', metric: 200 },
      { dst: 'default', gateway: '198.18.1.1', dev: 'eno1', metric: 100 },
    ]);
    const facts = parseHostFactsOutput(output({ mgmt: 'ssh_connection=2001:db8::99 51234 2001:db8:0::10%eno1 22', 'ip-addr': ipAddr, route4 }), PRIVILEGED);
    expect(facts.management).toEqual({ address: '2001:db8::10', nic: 'eno1', source: 'ssh-connection' });
    expect(facts.nics.map((nic) => [nic.name, nic.mac, nic.kind, nic.isManagement])).toEqual([
      ['eno1', 'aa:bb:cc:dd:ee:ff', null, true],
      ['eno2', '00:11:22:33:44:55', 'bond', false],
    ]);
    expect(facts.defaultRoute).toEqual({ dev: 'eno1', via: '198.18.1.1', family: 'inet' });
  });

  it('handles quoted os-release values', () => {
    const facts = parseHostFactsOutput(output({ 'os-release': 'NAME="Weird \\"OS\\""\nID=weird\nPRETTY_NAME=\'Weird 1\'\nVERSION_ID=1' }), UNPRIVILEGED);
    expect(facts.os).toEqual({ id: 'weird', name: 'Weird "OS"', prettyName: 'Weird 1', version: '1', versionId: '1' });
  });
});

describe('helpers', () => {
  it('counts CPU lists', () => {
    expect(countCpuList('0')).toBe(1);
    expect(countCpuList('0-3,6,8-9')).toBe(7);
    expect(countCpuList('3-1')).toBeNull();
    expect(countCpuList('')).toBeNull();
  });

  it('normalizes IP addresses', () => {
    expect(normalizeIp('::ffff:198.18.0.5')).toBe('198.18.0.5');
    expect(normalizeIp('[FE80::1%eth0]')).toBe('fe80::1');
    expect(normalizeIp('host.example')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Real run on this machine.

function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: performance.now() - started,
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** A minimal local executor; `asNobody` drops to uid 65534 to play an unprivileged login. */
function localExecutor(asNobody = false): HostExecutor {
  const wrap = (args: string[]): [string, string[]] =>
    asNobody ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...args]] : [args[0] ?? 'sh', args.slice(1)];
  return {
    hostName: 'local',
    exec: (command: string, options?: ExecOptions) => run(...wrap(['sh', '-c', command]), options ?? {}),
    runScript: (script: string, options?: Omit<ExecOptions, 'stdin'>) => run(...wrap(['sh', '-s']), { ...options, input: script }),
    privilege: (): Promise<Privilege> => Promise.resolve(asNobody ? { kind: 'none', user: 'nobody' } : { kind: 'root' }),
    close: () => Promise.resolve(),
  };
}

async function ipJson(args: readonly string[]): Promise<unknown[]> {
  const result = await run('ip', ['-j', ...args]);
  return JSON.parse(result.stdout || '[]') as unknown[];
}

async function linkNames(): Promise<Set<string>> {
  const links = (await ipJson(['link', 'show'])) as { ifname: string }[];
  return new Set(links.map((link) => link.ifname).filter((name) => name !== 'lo'));
}

async function netnsNames(): Promise<string[]> {
  const result = await run('ip', ['netns', 'list']);
  return result.stdout.split('\n').map((line) => line.split(' ')[0] ?? '').filter(Boolean);
}

/** The test's own trial: a stacked link on a veth in a scratch namespace of its own. */
async function independentTrial(type: 'macvlan' | 'ipvlan'): Promise<boolean> {
  const namespace = `cnlab-test-${randomBytes(4).toString('hex')}`;
  const added = await run('ip', ['netns', 'add', namespace]);
  if (added.code !== 0) throw new Error(`cannot create ${namespace}: ${added.stderr}`);
  try {
    const veth = await run('ip', ['-n', namespace, 'link', 'add', 'tv0', 'type', 'veth', 'peer', 'name', 'tv1']);
    if (veth.code !== 0) throw new Error(`no veth for the independent trial: ${veth.stderr}`);
    const mode = type === 'macvlan' ? 'bridge' : 'l2';
    const stacked = await run('ip', ['-n', namespace, 'link', 'add', 'tm0', 'link', 'tv0', 'type', type, 'mode', mode]);
    return stacked.code === 0;
  } finally {
    await run('ip', ['netns', 'del', namespace]);
    expect(await netnsNames()).not.toContain(namespace);
  }
}

const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).status === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).status === 0;
const SKIP_REASON = 'needs root and iproute2 on the machine running the tests (run the unit tests as root to include it)';

describe('probeHostFacts on this machine', () => {
  it('privileged probe agrees with what the machine reports independently', { timeout: 60_000 }, async (context) => {
    if (!isRoot || !hasIp) context.skip(SKIP_REASON);
    const namesBefore = await linkNames();
    const facts = await probeHostFacts(localExecutor());
    const namesAfter = await linkNames();

    expect(facts.probeMode).toBe('privileged');
    expect(Number.isNaN(Date.parse(facts.probedAt))).toBe(false);
    expect(facts.probeDurationMs).toBeGreaterThan(0);
    expect(facts.kernel.release).toBe(os.release());
    expect(facts.cpu.count).toBe(os.cpus().length);
    expect(facts.hostname).toBe(os.hostname());
    expect(facts.memoryBytes).toBeGreaterThan(0);

    // Other tests may add or remove links while we probe: judge only what was stable around the probe.
    const probed = new Set(facts.nics.map((nic) => nic.name));
    for (const name of namesBefore) if (namesAfter.has(name)) expect(probed).toContain(name);
    for (const name of probed) expect(namesBefore.has(name) || namesAfter.has(name)).toBe(true);

    for (const feature of ['macvlan', 'ipvlan'] as const) {
      expect(facts.kernelFeatures[feature].source).toBe('trial');
      expect(facts.kernelFeatures[feature].supported, feature).toBe(await independentTrial(feature));
    }
    expect(facts.kernelFeatures.veth).toEqual({ supported: true, source: 'trial' });

    const defaultRoute = (await ipJson(['-4', 'route', 'show', 'default'])) as { dev?: string }[];
    if (defaultRoute[0]?.dev && !process.env.SSH_CONNECTION) {
      expect(facts.nics.find((nic) => nic.isManagement)?.name).toBe(defaultRoute[0].dev);
    }

    expect(facts.scratchNamespace?.name).toMatch(new RegExp(`^${SCRATCH_NAMESPACE_PREFIX}`));
    expect(facts.scratchNamespace?.removed).toBe(true);
    expect(await netnsNames()).not.toContain(facts.scratchNamespace?.name);
    expect(facts.warnings).toEqual([]);
  });

  it('unprivileged probe reads the kernel config and creates nothing', { timeout: 60_000 }, async (context) => {
    if (!isRoot || !hasIp || !hasSetpriv) context.skip(`${SKIP_REASON}; also needs setpriv`);
    const namespacesBefore = await netnsNames();
    const facts = await probeHostFacts(localExecutor(true));
    expect(facts.probeMode).toBe('unprivileged');
    expect(facts.scratchNamespace).toBeNull();
    expect(facts.privilege).toEqual({ user: 'nobody', uid: 65534, kind: 'none' });
    for (const feature of KERNEL_FEATURES) expect(facts.kernelFeatures[feature].source).not.toBe('trial');
    expect(facts.kernel.release).toBe(os.release());
    const created = (await netnsNames()).filter((name) => name.startsWith(SCRATCH_NAMESPACE_PREFIX) && !namespacesBefore.includes(name));
    expect(created).toEqual([]);
  });
});
