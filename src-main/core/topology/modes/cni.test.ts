// The cni backend's plan: host steps kept from iproute2 (plus forwarding, a fixed bridge MAC and the
// plugin check), per container a namespace and one step of plugin ADDs with a DEL per ADD in the
// ledger, the same addresses as iproute2, and the refusals when plugins are missing.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderApplyScript } from '../apply-script';
import { renderCniCheckScript, parseCniChecks } from '../cni-check-script';
import { labNames } from '../naming';
import type { LabPlan, PlanStep } from '../plan';
import { planLab, type PlanContext } from '../planner';
import { contextFor, IPVLAN_SUPPORTED, specOf } from '../planner.test-support';
import type { TopologyInput } from '../topology-schema';
import { configPrintf, CNI_HOST_STEP } from './cni';
import { bridgeConfig, ipamConfig } from './cni-config';

type Input = Omit<TopologyInput, 'v'>;
const H3 = ['h1', 'h2', 'h3'];

function plan(input: Input, context: PlanContext = contextFor(input.hosts)): LabPlan {
  return planLab(specOf(input), context);
}

function steps(result: LabPlan, host: string): PlanStep[] {
  const found = result.hosts.find((entry) => entry.host === host);
  if (!found) throw new Error(`no plan for ${host}`);
  return found.steps;
}

function step(result: LabPlan, host: string, id: string): PlanStep {
  const found = steps(result, host).find((entry) => entry.id === id);
  if (!found) throw new Error(`no step ${id} on ${host}`);
  return found;
}

function shellText(entry: PlanStep): string {
  return entry.run.map((command) => (command.kind === 'shell' ? command.text : '')).join('\n');
}

/** The configs a container step writes, as the shell would write them for `version`. */
function writtenConfigs(entry: PlanStep, version = '1.0.0'): unknown[] {
  const prints = shellText(entry)
    .split('\n')
    .filter((line) => line.startsWith("printf '%s%s%s"))
    .map((line) => line.slice(0, line.lastIndexOf(' > ')));
  return prints.map((line) => {
    const run = spawnSync('sh', ['-c', `cnlab_cni_version=${version}; ${line}`], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as unknown;
  });
}

function refusal(input: Input, context: PlanContext = contextFor(input.hosts)): string[] {
  try {
    plan(input, context);
  } catch (error) {
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a refusal');
}

const bridgeLab: Input = {
  name: 'lab',
  backend: 'cni',
  hosts: ['h1'],
  networks: [
    { name: 'lan', mode: 'bridge' },
    { name: 'iso', mode: 'none' },
  ],
  containers: [
    { name: 'c', count: 2, host: 'h1', networks: ['lan'] },
    { name: 'z', host: 'h1', networks: ['iso'] },
    { name: 'p', host: 'h1', shareNetnsWith: 'c1' },
  ],
};

describe('bridge under cni', () => {
  const result = plan(bridgeLab);
  const names = labNames('lab');
  const bridge = names.link('b', 'lan');

  it('keeps the host steps, adds forwarding (the plugin turns it on) and the plugin check', () => {
    expect(steps(result, 'h1').map((entry) => entry.id)).toEqual([
      'host/forwarding',
      'net/lan',
      CNI_HOST_STEP,
      'c1/netns',
      'c1/cni',
      'c2/netns',
      'c2/cni',
      'z/netns',
      'z/cni',
    ]);
    expect(step(result, 'h1', 'host/forwarding').creates[0]?.kind).toBe('sysctl');
  });

  it('gives the bridge a fixed MAC before any port, so CHECK finds the MAC the plugin recorded', () => {
    const lines = step(result, 'h1', 'net/lan').run.flatMap((command) => (command.kind === 'ip-batch' ? command.lines : []));
    expect(lines[0]).toBe(`link add ${bridge} type bridge`);
    expect(lines.at(-1)).toMatch(new RegExp(`^link set dev ${bridge} address 02(:[0-9a-f]{2}){5}$`));
  });

  it('creates the namespace only: lo comes up by the loopback plugin', () => {
    expect(step(result, 'h1', 'c1/netns').run).toEqual([{ kind: 'ip-batch', netns: null, lines: ['netns add cnl-lab-c1'] }]);
    expect(step(result, 'h1', 'c1/netns').creates.map((entry) => entry.kind)).toEqual(['netns']);
  });

  it('runs loopback then bridge per container, each with a DEL of the same config in the ledger', () => {
    const cni = step(result, 'h1', 'c1/cni');
    expect(cni.phase).toBe('cni');
    expect(cni.creates).toEqual([
      {
        kind: 'cni',
        name: 'c1/lo/loopback',
        undo:
          '[ ! -f /run/cnlab/lab/cni/config/c1-lo.json ] || CNI_COMMAND=DEL CNI_CONTAINERID=lab-c1 CNI_NETNS=/run/netns/cnl-lab-c1 CNI_IFNAME=lo CNI_PATH=/usr/lib/cni /usr/lib/cni/loopback < /run/cnlab/lab/cni/config/c1-lo.json >/dev/null 2>&1',
      },
      {
        kind: 'cni',
        name: 'c1/eth0/bridge',
        undo:
          '[ ! -f /run/cnlab/lab/cni/config/c1-eth0.json ] || CNI_COMMAND=DEL CNI_CONTAINERID=lab-c1 CNI_NETNS=/run/netns/cnl-lab-c1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge < /run/cnlab/lab/cni/config/c1-eth0.json >/dev/null 2>&1',
      },
    ]);
    const text = shellText(cni);
    expect(text).toContain(
      '{ CNI_COMMAND=ADD CNI_CONTAINERID=lab-c1 CNI_NETNS=/run/netns/cnl-lab-c1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge < /run/cnlab/lab/cni/config/c1-eth0.json > /run/cnlab/lab/cni/results/c1-eth0.json || { cat /run/cnlab/lab/cni/results/c1-eth0.json >&2; false; }; }',
    );
    expect(text.indexOf('CNI_IFNAME=lo')).toBeLessThan(text.indexOf('CNI_IFNAME=eth0'));
    expect(text).toContain("printf '%s\\n' 'c1\teth0\tbridge\t/usr/lib/cni\tlab-c1\t/run/netns/cnl-lab-c1\t/run/cnlab/lab/cni/config/c1-eth0.json\t/run/cnlab/lab/cni/results/c1-eth0.json' >> /run/cnlab/lab/cni/attachments");
  });

  it('writes configs with the planned address in host-local limited to it, state under the lab folder', () => {
    expect(writtenConfigs(step(result, 'h1', 'c2/cni'))).toEqual([
      { cniVersion: '1.0.0', name: 'cnlab-lab-lo', type: 'loopback' },
      bridgeConfig(
        'cnlab-lab-lan',
        bridge,
        null,
        ipamConfig({ subnet: '198.19.0.0/24', address: '198.19.0.3', gateway: '198.19.0.1', routes: [], dataDir: '/run/cnlab/lab/cni/host-local' }),
      ),
    ]);
  });

  it('writes the version the host step chose', () => {
    expect(writtenConfigs(step(result, 'h1', 'c1/cni'), '0.4.0').map((config) => (config as { cniVersion: string }).cniVersion)).toEqual(['0.4.0', '0.4.0']);
  });

  it('gives a none container the loopback plugin only', () => {
    const z = step(result, 'h1', 'z/cni');
    expect(z.creates.map((entry) => entry.name)).toEqual(['z/lo/loopback']);
  });

  it('plans nothing for a container sharing a namespace', () => {
    expect(steps(result, 'h1').some((entry) => entry.id.startsWith('p/'))).toBe(false);
    expect(result.containers.find((container) => container.name === 'p')?.netns).toBe('cnl-lab-c1');
  });

  it('leaves the host end of the veth unnamed in the plan: the bridge plugin names it', () => {
    expect(result.containers[0]?.interfaces).toEqual([{ network: 'lan', ifname: 'eth0', address: '198.19.0.2/24', hostDevice: null }]);
  });

  it('asks only the plugins it uses for their versions, and picks 1.0.0 or 0.4.0', () => {
    const text = shellText(step(result, 'h1', CNI_HOST_STEP));
    expect(text).toContain('for cnlab_p in bridge host-local loopback; do');
    expect(text).toContain('for cnlab_v in 1.0.0 0.4.0; do');
    expect(text).toContain('mkdir -p /run/cnlab/lab/cni/config /run/cnlab/lab/cni/results');
  });

  it('renders an apply script that sh parses', () => {
    const { script } = renderApplyScript(labNames('lab'), { host: 'h1', steps: steps(result, 'h1') }, { fingerprint: 'f', timings: false });
    expect(spawnSync('sh', ['-n'], { input: script }).status).toBe(0);
    // Every ledger entry is written before the first plugin runs.
    expect(script.lastIndexOf('\ncni\t')).toBeLessThan(script.indexOf('CNI_COMMAND=ADD'));
  });
});

describe('the same topology on both backends', () => {
  const input: Input = {
    name: 'lab',
    hosts: H3,
    networks: [
      { name: 'ov', mode: 'vxlan' },
      { name: 'rt', mode: 'routed' },
      { name: 'mv', mode: 'macvlan' },
      { name: 'nn', mode: 'nat', options: { publish: [80] } },
      { name: 'lan', mode: 'bridge' },
      { name: 'iso', mode: 'none' },
      { name: 'hn', mode: 'host' },
    ],
    containers: [
      { name: 'a', count: 2, host: 'h1', networks: ['ov', 'nn', 'lan'] },
      { name: 'b', host: 'h2', networks: ['ov', 'mv', 'rt'] },
      { name: 'c', host: 'h3', networks: ['ov', 'rt', 'mv'], addresses: { mv: '198.19.5.40' } },
      { name: 'z', host: 'h2', networks: ['iso'] },
      { name: 'h', host: 'h3', networks: ['hn'] },
    ],
  };
  const iproute2 = plan(input);
  const cni = plan({ ...input, backend: 'cni' });

  it('gives every container the same interfaces and addresses', () => {
    const strip = (result: LabPlan) => result.containers.map((container) => ({ ...container, interfaces: container.interfaces.map(({ hostDevice: _, ...rest }) => rest) }));
    expect(strip(cni)).toEqual(strip(iproute2));
    expect(cni.expectations).toEqual(iproute2.expectations);
    expect(cni.fingerprint).not.toBe(iproute2.fingerprint);
  });

  it('keeps every host-level step of iproute2 (VTEP, peers, routes, nat table)', () => {
    for (const host of H3) {
      const own = steps(iproute2, host).filter((entry) => entry.container === undefined).map((entry) => entry.id);
      const kept = steps(cni, host).filter((entry) => entry.container === undefined).map((entry) => entry.id);
      expect(kept.filter((id) => id !== CNI_HOST_STEP)).toEqual(own);
    }
    expect(steps(cni, 'h1').map((entry) => entry.id)).toContain('host/nat');
  });

  it('gives vxlan and routed interfaces the peer routes, the nat one the default route, the overlay its MTU', () => {
    const [, ov, nn, lan] = writtenConfigs(step(cni, 'h1', 'a1/cni')) as { mtu?: number; ipam: { routes?: unknown } }[];
    expect(ov?.mtu).toBe(1350);
    expect(ov?.ipam.routes).toEqual([
      { dst: '198.19.1.0/24', gw: '198.19.0.1' },
      { dst: '198.19.2.0/24', gw: '198.19.0.1' },
    ]);
    expect(nn?.ipam.routes).toEqual([{ dst: '0.0.0.0/0', gw: '198.19.6.1' }]);
    expect(lan?.ipam.routes).toBeUndefined();
    const rt = (writtenConfigs(step(cni, 'h2', 'b/cni')) as { type: string; ipam: { routes?: unknown } }[])[3];
    expect(rt?.ipam.routes).toEqual([{ dst: '198.19.4.0/24', gw: '198.19.3.1' }]);
  });

  it('puts macvlan on the parent NIC with the network subnet and no gateway', () => {
    const configs = writtenConfigs(step(cni, 'h3', 'c/cni')) as Record<string, unknown>[];
    expect(configs[3]).toEqual({
      cniVersion: '1.0.0',
      name: 'cnlab-lab-mv',
      type: 'macvlan',
      master: 'eth0',
      mode: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: '198.19.5.0/24', rangeStart: '198.19.5.40', rangeEnd: '198.19.5.40' }]], dataDir: '/run/cnlab/lab/cni/host-local' },
    });
  });

  it('plans nothing on a host for a host-mode container', () => {
    expect(steps(cni, 'h3').some((entry) => entry.id.startsWith('h/'))).toBe(false);
  });
});

describe('ipvlan under cni', () => {
  it('runs the ipvlan plugin in the configured mode where the kernel has ipvlan', () => {
    const result = plan(
      { name: 'lab', backend: 'cni', hosts: ['h1'], networks: [{ name: 'ipv', mode: 'ipvlan', options: { ipvlanMode: 'l3' } }], containers: [{ name: 'a', host: 'h1', networks: ['ipv'] }] },
      contextFor(['h1'], { h1: { features: IPVLAN_SUPPORTED } }),
    );
    expect(writtenConfigs(step(result, 'h1', 'a/cni'))[1]).toMatchObject({ type: 'ipvlan', master: 'eth0', mode: 'l3' });
    // No bridge plugin, so nothing turns forwarding on.
    expect(steps(result, 'h1').map((entry) => entry.id)).toEqual([CNI_HOST_STEP, 'a/netns', 'a/cni']);
  });
});

describe('refusals under cni', () => {
  const macvlanLab: Input = {
    name: 'lab',
    backend: 'cni',
    hosts: ['h1', 'h2'],
    networks: [{ name: 'mv', mode: 'macvlan' }],
    containers: [
      { name: 'a', host: 'h1', networks: ['mv'] },
      { name: 'b', host: 'h2', networks: ['mv'] },
    ],
  };

  it('names the host and the missing plugin', () => {
    const context = contextFor(['h1', 'h2']);
    const facts = context.facts.h2;
    if (!facts) throw new Error('no facts');
    facts.cniPlugins = facts.cniPlugins.filter((name) => name !== 'macvlan');
    expect(refusal(macvlanLab, context)).toEqual(['cni backend needs the macvlan plugin on host h2: it is not in /usr/lib/cni: install containernetworking-plugins']);
    // The iproute2 backend needs no plugin at all.
    expect(() => plan({ ...macvlanLab, backend: 'iproute2' }, context)).not.toThrow();
  });

  it('names the host without a plugin folder', () => {
    const context = contextFor(['h1', 'h2']);
    const facts = context.facts.h1;
    if (!facts) throw new Error('no facts');
    facts.cniPluginsDir = null;
    facts.cniPlugins = [];
    expect(refusal(macvlanLab, context)).toEqual([
      'cni backend needs the CNI plugins on host h1: none found in /opt/cni/bin, /usr/lib/cni or /usr/libexec/cni: install containernetworking-plugins or use backend: iproute2',
    ]);
  });

  it('asks for static where an address needs it', () => {
    const context = contextFor(['h1', 'h2']);
    const facts = context.facts.h1;
    if (!facts) throw new Error('no facts');
    facts.cniPlugins = facts.cniPlugins.filter((name) => name !== 'static');
    const input: Input = { ...macvlanLab, networks: [{ name: 'mv', mode: 'macvlan', subnet: '198.19.9.0/24' }], containers: [{ name: 'a', host: 'h1', networks: ['mv'], addresses: { mv: '198.19.9.1' } }] };
    expect(refusal(input, context)).toEqual(['cni backend needs the static plugin on host h1: it is not in /usr/lib/cni: install containernetworking-plugins']);
  });

  it('refuses a plugin folder it would not pass to a shell', () => {
    const context = contextFor(['h1', 'h2']);
    const facts = context.facts.h1;
    if (!facts) throw new Error('no facts');
    facts.cniPluginsDir = '/opt/cni bin;reboot';
    expect(refusal(macvlanLab, context)[0]).toMatch(/^cni backend: the CNI plugin folder "\/opt\/cni bin;reboot" on host h1 has characters/);
  });

  it('refuses shaped container links, which the plugins create only as they run', () => {
    const input: Input = { ...macvlanLab, networks: [{ name: 'mv', mode: 'macvlan', shaping: { rate: '100mbit' } }] };
    const context = contextFor(['h1', 'h2'], { h1: { features: { tbf: { supported: true, source: 'trial' }, htb: { supported: true, source: 'trial' } } }, h2: { features: { tbf: { supported: true, source: 'trial' }, htb: { supported: true, source: 'trial' } } } });
    expect(refusal(input, context)).toContain(
      'network mv: shaping of container links is not supported with backend cni yet (the CNI plugins create the links, and name the host ends, only as they run): use backend iproute2 for shaped links, or shape the underlay with underlayShaping',
    );
  });

  it('keeps hostile names out of the shell: names are validated before they reach a config', () => {
    expect(() => specOf({ ...macvlanLab, networks: [{ name: "mv';reboot", mode: 'macvlan' }] })).toThrow();
  });
});

describe('config printf', () => {
  it('passes JSON with quotes and dollars through as one word', () => {
    const config = { cniVersion: '1.0.0', name: `x'$(id)"\`;`, type: 'loopback' } as const;
    const run = spawnSync('sh', ['-c', `cnlab_cni_version=1.0.0; ${configPrintf(config)}`], { encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual(config);
  });
});

describe('CNI CHECK script', () => {
  it('parses in sh and reads the lab index', () => {
    const script = renderCniCheckScript(labNames('lab'));
    expect(spawnSync('sh', ['-n'], { input: script }).status).toBe(0);
    expect(script).toContain("index=/run/cnlab/lab/cni/attachments");
  });

  it('reports each attachment, with the plugin message for a failure and a note when nothing was applied', () => {
    const stdout = [
      '@@cnlab-cni-check c1 lo loopback 0 ',
      '@@cnlab-cni-check c1 eth0 bridge 1 {     "code": 999,     "msg": "Bridge interface cb Mac doesn\'t match: 02:00:00:00:00:01" }',
      'noise',
    ].join('\n');
    expect(parseCniChecks('h1', stdout)).toEqual([
      { host: 'h1', container: 'c1', ifname: 'lo', plugin: 'loopback', ok: true, message: '' },
      { host: 'h1', container: 'c1', ifname: 'eth0', plugin: 'bridge', ok: false, message: "Bridge interface cb Mac doesn't match: 02:00:00:00:00:01" },
    ]);
    expect(parseCniChecks('h2', '@@cnlab-cni-none\n')).toEqual([
      { host: 'h2', container: '', ifname: '', plugin: '', ok: false, message: 'host h2 holds no CNI attachments of this lab: apply it with backend: cni first' },
    ]);
  });
});
