// The planner's output per mode, on one host and on three: step ids and order, the exact ip lines, the
// ledger with its undo, planned containers, the verify matrix, the fingerprint, names and quoting.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labNames, MAX_IFNAME } from './naming';
import type { LabPlan } from './plan';
import { canonicalJson, planLab } from './planner';
import { contextFor, IPVLAN_SUPPORTED, specOf, hostPlanOf as host, stepOf as step } from './planner.test-support';
import { parseTopologyText, type TopologyInput } from './topology-schema';

type Input = Omit<TopologyInput, 'v'>;
const names = labNames('lab');
const H3 = ['h1', 'h2', 'h3'];

function plan(input: Input, context = contextFor(input.hosts)): LabPlan {
  return planLab(specOf(input), context);
}



const ids = (result: LabPlan, hostName: string): string[] => host(result, hostName).steps.map((entry) => entry.id);

describe('namespace, none, host and container modes', () => {
  const result = plan({
    name: 'lab',
    hosts: ['h1'],
    networks: [
      { name: 'iso', mode: 'none' },
      { name: 'hn', mode: 'host' },
      { name: 'br', mode: 'bridge' },
    ],
    containers: [
      { name: 'z', host: 'h1', networks: ['iso'], cpuset: '0-1' },
      { name: 'hm', host: 'h1', networks: ['hn'] },
      { name: 'a', host: 'h1', networks: ['br'] },
      { name: 'p', host: 'h1', shareNetnsWith: 'a', cpuset: '1' },
      { name: 'bare', host: 'h1' },
    ],
  });

  it('gives a none container a namespace with loopback up, and its undo', () => {
    expect(step(result, 'h1', 'z/netns')).toEqual({
      id: 'z/netns',
      phase: 'netns',
      container: 'z',
      description: 'create namespace cnl-lab-z with loopback up',
      creates: [{ kind: 'netns', name: 'cnl-lab-z', undo: 'ip netns pids cnl-lab-z 2>/dev/null | xargs -r kill -KILL 2>/dev/null; ip netns del cnl-lab-z' }],
      run: [
        { kind: 'ip-batch', netns: null, lines: ['netns add cnl-lab-z'] },
        { kind: 'ip-batch', netns: 'cnl-lab-z', lines: ['link set lo up'] },
      ],
    });
    expect(ids(result, 'h1').filter((id) => id.startsWith('z/'))).toEqual(['z/netns']);
    expect(result.containers[0]).toEqual({
      name: 'z',
      host: 'h1',
      netns: 'cnl-lab-z',
      sharesWith: null,
      cpuset: '0-1',
      interfaces: [{ network: 'iso', ifname: 'lo', address: null, hostDevice: null }],
    });
  });

  it('plans nothing for host mode and shows the management NIC and address', () => {
    expect(ids(result, 'h1').some((id) => id.startsWith('hm/'))).toBe(false);
    expect(result.containers[1]).toEqual({
      name: 'hm',
      host: 'h1',
      netns: null,
      sharesWith: null,
      cpuset: null,
      interfaces: [{ network: 'hn', ifname: 'eth0', address: '192.0.2.11/24', hostDevice: null }],
    });
  });

  it("plans nothing for container mode and shows the owner's namespace and interfaces", () => {
    expect(ids(result, 'h1').some((id) => id.startsWith('p/'))).toBe(false);
    const owner = result.containers[2];
    expect(result.containers[3]).toEqual({ name: 'p', host: 'h1', netns: 'cnl-lab-a', sharesWith: 'a', cpuset: '1', interfaces: owner?.interfaces });
  });

  it('gives a container without networks just its namespace', () => {
    expect(ids(result, 'h1').filter((id) => id.startsWith('bare/'))).toEqual(['bare/netns']);
    expect(result.containers[4]?.interfaces).toEqual([]);
  });

  it('expects none isolated, skips pairs inside one namespace, and has host mode ping from the host', () => {
    expect(result.expectations).toEqual([{ from: 'z', to: 'a', address: '198.19.0.2', network: 'iso', reachable: false }]);
    const two = plan({
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'hn', mode: 'host' }],
      containers: [
        { name: 'x', host: 'h1', networks: ['hn'] },
        { name: 'y', host: 'h1', networks: ['hn'] },
        { name: 'w', host: 'h2', networks: ['hn'] },
      ],
    });
    expect(two.expectations.map((entry) => `${entry.from}>${entry.to}@${entry.address}:${entry.reachable}`)).toEqual([
      'x>w@192.0.2.12:true',
      'y>w@192.0.2.12:true',
      'w>x@192.0.2.11:true',
      'w>y@192.0.2.11:true',
    ]);
  });
});

describe('bridge mode', () => {
  const input: Input = {
    name: 'lab',
    hosts: H3,
    networks: [
      { name: 'br', mode: 'bridge', options: { mtu: 1400 } },
      { name: 'br2', mode: 'bridge' },
    ],
    containers: [
      { name: 'c', host: 'h1', count: 2, networks: ['br'] },
      { name: 'd', host: 'h2', networks: ['br', 'br2'] },
      { name: 'e', host: 'h1', networks: ['br2'] },
    ],
  };
  const result = plan(input);
  const br = names.link('b', 'br');
  const veth = names.link('v', 'c1/br');

  it('orders host steps before container steps, per host', () => {
    expect(ids(result, 'h1')).toEqual([
      'net/br',
      'net/br2',
      'c1/netns',
      'c1/links',
      'c1/addresses',
      'c1/link-up',
      'c2/netns',
      'c2/links',
      'c2/addresses',
      'c2/link-up',
      'e/netns',
      'e/links',
      'e/addresses',
      'e/link-up',
    ]);
    expect(ids(result, 'h2')).toEqual(['net/br', 'net/br2', 'd/netns', 'd/links', 'd/addresses', 'd/link-up']);
    expect(host(result, 'h3').steps).toEqual([]);
  });

  it('creates the bridge with the gateway of the host block, tagged and in the ledger', () => {
    expect(step(result, 'h1', 'net/br')).toEqual({
      id: 'net/br',
      phase: 'host',
      description: `bridge ${br} for network br, gateway 198.19.0.1`,
      creates: [
        { kind: 'link', name: br, undo: `ip link del ${br}` },
        // Where Docker runs, its FORWARD DROP would stop the bridge's frames: accepted in DOCKER-USER.
        { kind: 'iptables-rule', name: `DOCKER-USER -i ${br}`, undo: `iptables -w -D DOCKER-USER -i ${br} -j ACCEPT 2>/dev/null; true` },
        { kind: 'iptables-rule', name: `DOCKER-USER -o ${br}`, undo: `iptables -w -D DOCKER-USER -o ${br} -j ACCEPT 2>/dev/null; true` },
      ],
      run: [
        {
          kind: 'ip-batch',
          netns: null,
          lines: [`link add ${br} mtu 1400 type bridge`, `link set dev ${br} alias cnlab:lab`, `addr add 198.19.0.1/24 dev ${br}`, `link set ${br} up`],
        },
        {
          kind: 'shell',
          text: [
            'if command -v iptables >/dev/null 2>&1 && iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then',
            `  iptables -w -I DOCKER-USER -i ${br} -j ACCEPT &&`,
            `  iptables -w -I DOCKER-USER -o ${br} -j ACCEPT`,
            'fi',
          ].join('\n'),
        },
      ],
    });
    expect(step(result, 'h2', 'net/br').run[0]).toMatchObject({ lines: expect.arrayContaining([`addr add 198.19.1.1/24 dev ${br}`]) as unknown });
  });

  it('attaches a veth per container, addresses it inside, brings it up without routes and announces it', () => {
    expect(step(result, 'h1', 'c1/links')).toEqual({
      id: 'c1/links',
      phase: 'links',
      container: 'c1',
      description: 'create eth0',
      creates: [{ kind: 'link', name: veth, undo: `ip link del ${veth}` }],
      run: [
        {
          kind: 'ip-batch',
          netns: null,
          lines: [
            `link add ${veth} mtu 1400 type veth peer name eth0 netns cnl-lab-c1 mtu 1400`,
            `link set dev ${veth} alias cnlab:lab`,
            `link set ${veth} master ${br}`,
            `link set ${veth} up`,
          ],
        },
      ],
    });
    expect(step(result, 'h1', 'c1/addresses').run).toEqual([{ kind: 'ip-batch', netns: 'cnl-lab-c1', lines: ['addr add 198.19.0.2/24 dev eth0'] }]);
    expect(step(result, 'h1', 'c1/link-up').run).toEqual([
      { kind: 'ip-batch', netns: 'cnl-lab-c1', lines: ['link set eth0 up'] },
      { kind: 'shell', text: 'nsenter --net=/run/netns/cnl-lab-c1 arping -q -U -c 1 -I eth0 198.19.0.2 || true', background: true },
    ]);
  });

  it('numbers interfaces by the position of the network in the container', () => {
    const links = step(result, 'h2', 'd/links').run[0];
    expect(links).toMatchObject({ lines: expect.arrayContaining([`link add ${names.link('v', 'd/br2')} type veth peer name eth1 netns cnl-lab-d`]) as unknown });
    expect(result.containers.find((entry) => entry.name === 'd')?.interfaces).toEqual([
      { network: 'br', ifname: 'eth0', address: '198.19.1.2/24', hostDevice: names.link('v', 'd/br') },
      { network: 'br2', ifname: 'eth1', address: '198.19.3.2/24', hostDevice: names.link('v', 'd/br2') },
    ]);
  });

  it('expects reachability on one host only, and separate bridges isolated', () => {
    const brPairs = result.expectations.filter((entry) => entry.network === 'br' && entry.from !== 'd' && entry.to !== 'd');
    expect(brPairs.every((entry) => entry.reachable)).toBe(true);
    expect(result.expectations.filter((entry) => entry.network === 'br' && (entry.from === 'd' || entry.to === 'd')).every((entry) => !entry.reachable)).toBe(true);
    expect(result.expectations.find((entry) => entry.network === 'br2' && entry.from === 'c1')).toEqual({
      from: 'c1',
      to: 'e',
      address: '198.19.2.2',
      network: 'br2',
      reachable: false,
    });
  });
});

describe('nat mode', () => {
  const result = plan({
    name: 'lab',
    hosts: ['h1', 'h2'],
    networks: [
      { name: 'n', mode: 'nat', options: { publish: [80, 53] } },
      { name: 'm', mode: 'nat', options: { hostPortBase: 30000 } },
    ],
    containers: [
      { name: 'c', host: 'h1', count: 2, networks: ['n', 'm'] },
      { name: 'd', host: 'h2', networks: ['n'] },
    ],
  });
  const n = names.link('b', 'n');
  const m = names.link('b', 'm');

  it('enables forwarding once, creates the bridges, then the nft table', () => {
    expect(ids(result, 'h1').slice(0, 4)).toEqual(['host/forwarding', 'net/n', 'net/m', 'host/nat']);
    expect(step(result, 'h1', 'host/forwarding')).toEqual({
      id: 'host/forwarding',
      phase: 'host',
      description: 'enable IPv4 forwarding',
      creates: [{ kind: 'sysctl', name: 'net.ipv4.ip_forward', undo: 'sysctl -qw net.ipv4.ip_forward=0' }],
      run: [{ kind: 'shell', text: 'sysctl -qw net.ipv4.ip_forward=1' }],
    });
  });

  it('masquerades, publishes ports on the management address and keeps nat networks apart', () => {
    const nat = step(result, 'h1', 'host/nat');
    expect(nat.creates).toEqual([{ kind: 'nft-table', name: 'cnlab_lab', undo: 'nft delete table ip cnlab_lab' }]);
    expect(nat.phase).toBe('nat');
    const dnat = [
      'ip daddr 192.0.2.11 tcp dport 20000 dnat to 198.19.0.2:80',
      'ip daddr 192.0.2.11 udp dport 20000 dnat to 198.19.0.2:80',
      'ip daddr 192.0.2.11 tcp dport 20001 dnat to 198.19.0.2:53',
      'ip daddr 192.0.2.11 udp dport 20001 dnat to 198.19.0.2:53',
      'ip daddr 192.0.2.11 tcp dport 20002 dnat to 198.19.0.3:80',
      'ip daddr 192.0.2.11 udp dport 20002 dnat to 198.19.0.3:80',
      'ip daddr 192.0.2.11 tcp dport 20003 dnat to 198.19.0.3:53',
      'ip daddr 192.0.2.11 udp dport 20003 dnat to 198.19.0.3:53',
    ].map((rule) => `    ${rule}`);
    const ruleset = [
      'add table ip cnlab_lab',
      'delete table ip cnlab_lab',
      'table ip cnlab_lab {',
      '  chain postrouting {',
      '    type nat hook postrouting priority 100; policy accept;',
      `    ip saddr 198.19.0.0/24 oifname != "${n}" masquerade`,
      `    ip saddr 198.19.2.0/24 oifname != "${m}" masquerade`,
      '  }',
      '  chain prerouting {',
      '    type nat hook prerouting priority -100; policy accept;',
      ...dnat,
      '  }',
      '  chain output {',
      '    type nat hook output priority -100; policy accept;',
      ...dnat,
      '  }',
      '  chain forward {',
      '    type filter hook forward priority 0; policy accept;',
      `    iifname "${n}" oifname "${m}" drop`,
      `    iifname "${m}" oifname "${n}" drop`,
      '  }',
      '}',
    ].join('\n');
    expect(nat.run).toEqual([{ kind: 'shell', text: `printf '%s\\n' '${ruleset}' | nft -f -` }]);
  });

  it('gives the first nat network the default route and records the published ports', () => {
    expect(step(result, 'h1', 'c1/link-up').run[0]).toEqual({
      kind: 'ip-batch',
      netns: 'cnl-lab-c1',
      lines: ['link set eth0 up', 'link set eth1 up', 'route add default via 198.19.0.1'],
    });
    const c2 = result.containers.find((entry) => entry.name === 'c2');
    expect(c2?.interfaces[0]?.publishedPorts).toEqual([
      { container: 80, host: 20002 },
      { container: 53, host: 20003 },
    ]);
    expect(c2?.interfaces[1]?.publishedPorts).toBeUndefined();
    expect(result.containers.find((entry) => entry.name === 'd')?.interfaces[0]?.publishedPorts).toEqual([
      { container: 80, host: 20000 },
      { container: 53, host: 20001 },
    ]);
  });

  it('is a valid sh command that hands nft the ruleset verbatim', () => {
    const text = (step(result, 'h1', 'host/nat').run[0] as { text: string }).text;
    const check = spawnSync('sh', ['-c', text.replace('| nft -f -', '')], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('type nat hook postrouting priority 100; policy accept;\n');
  });
});

describe('vxlan mode (static control plane)', () => {
  const result = plan({
    name: 'lab',
    hosts: H3,
    networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 7 } }],
    containers: [
      { name: 'a', host: 'h1', networks: ['ov'] },
      { name: 'b', host: 'h2', networks: ['ov'] },
      { name: 'c', host: 'h3', networks: ['ov'] },
      { name: 'a2', host: 'h1', networks: ['ov'] },
    ],
  });
  const br = names.link('b', 'ov');
  const vtep = names.link('x', 'ov');
  const macOf = (hostName: string): string => {
    const line = (step(result, hostName, 'net/ov/vtep').run[0] as { lines: string[] }).lines[0] ?? '';
    return /address (\S+)/.exec(line)?.[1] ?? '';
  };

  it('plans forwarding, bridge, VTEP and peer entries on every host', () => {
    for (const hostName of H3) expect(ids(result, hostName).slice(0, 4)).toEqual(['host/forwarding', 'net/ov', 'net/ov/vtep', 'net/ov/peers']);
  });

  it('sizes bridge, VTEP and veths at the underlay MTU minus 50', () => {
    expect((step(result, 'h1', 'net/ov').run[0] as { lines: string[] }).lines[0]).toBe(`link add ${br} mtu 1350 type bridge`);
    expect((step(result, 'h1', 'a/links').run[0] as { lines: string[] }).lines[0]).toBe(
      `link add ${names.link('v', 'a/ov')} mtu 1350 type veth peer name eth0 netns cnl-lab-a mtu 1350`,
    );
  });

  it('creates the VTEP with a derived locally administered MAC and the block .0/32', () => {
    const mac = macOf('h2');
    expect(mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(new Set(H3.map(macOf)).size).toBe(3);
    expect(step(result, 'h2', 'net/ov/vtep')).toEqual({
      id: 'net/ov/vtep',
      phase: 'host',
      description: `VXLAN device ${vtep} (VNI 7) for network ov on eth0`,
      creates: [{ kind: 'link', name: vtep, undo: `ip link del ${vtep}` }],
      run: [
        {
          kind: 'ip-batch',
          netns: null,
          lines: [
            `link add ${vtep} address ${mac} type vxlan id 7 dstport 4789 local 192.0.2.12 dev eth0 nolearning`,
            `link set dev ${vtep} alias cnlab:lab`,
            `addr add 198.19.1.0/32 dev ${vtep}`,
            `link set dev ${vtep} mtu 1350`,
            `link set dev ${vtep} up`,
          ],
        },
      ],
    });
  });

  it('writes neighbour, FDB and route entries for each peer, which die with the VTEP', () => {
    expect(step(result, 'h1', 'net/ov/peers')).toEqual({
      id: 'net/ov/peers',
      phase: 'routes',
      description: 'neighbour, FDB and route entries of network ov towards h2, h3',
      creates: [],
      run: [
        {
          kind: 'ip-batch',
          netns: null,
          lines: [
            `neigh replace 198.19.1.0 lladdr ${macOf('h2')} dev ${vtep} nud permanent`,
            `route add 198.19.1.0/24 via 198.19.1.0 dev ${vtep} onlink`,
            `neigh replace 198.19.2.0 lladdr ${macOf('h3')} dev ${vtep} nud permanent`,
            `route add 198.19.2.0/24 via 198.19.2.0 dev ${vtep} onlink`,
          ],
        },
        {
          kind: 'shell',
          text: `bridge fdb append ${macOf('h2')} dev ${vtep} dst 192.0.2.12 && bridge fdb append ${macOf('h3')} dev ${vtep} dst 192.0.2.13`,
        },
      ],
    });
  });

  it("routes every other host's block via the local gateway inside the container", () => {
    expect(step(result, 'h1', 'a2/link-up').run[0]).toEqual({
      kind: 'ip-batch',
      netns: 'cnl-lab-a2',
      lines: ['link set eth0 up', 'route add 198.19.1.0/24 via 198.19.0.1', 'route add 198.19.2.0/24 via 198.19.0.1'],
    });
  });

  it('expects every pair across hosts to reach each other', () => {
    expect(result.expectations).toHaveLength(12);
    expect(result.expectations.every((entry) => entry.reachable)).toBe(true);
  });

  it('plans a single-host overlay without peers', () => {
    const single = plan({ name: 'lab', hosts: ['h1'], networks: [{ name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }] });
    expect(ids(single, 'h1')).toEqual(['host/forwarding', 'net/ov', 'net/ov/vtep', 'a/netns', 'a/links', 'a/addresses', 'a/link-up']);
  });
});

describe('routed mode (static control plane)', () => {
  const result = plan({
    name: 'lab',
    hosts: H3,
    networks: [{ name: 'rt', mode: 'routed' }],
    containers: [
      { name: 'a', host: 'h1', networks: ['rt'] },
      { name: 'b', host: 'h2', networks: ['rt'] },
      { name: 'c', host: 'h3', networks: ['rt'] },
    ],
  });

  it('routes each peer block via the peer underlay address, with an undo per route', () => {
    expect(ids(result, 'h2').slice(0, 3)).toEqual(['host/forwarding', 'net/rt', 'net/rt/routes']);
    expect(step(result, 'h2', 'net/rt/routes')).toEqual({
      id: 'net/rt/routes',
      phase: 'routes',
      description: 'routes of network rt to the blocks of h1, h3',
      creates: [
        { kind: 'route', name: '198.19.0.0/24 via 192.0.2.11', undo: 'ip route del 198.19.0.0/24 via 192.0.2.11' },
        { kind: 'route', name: '198.19.2.0/24 via 192.0.2.13', undo: 'ip route del 198.19.2.0/24 via 192.0.2.13' },
      ],
      run: [{ kind: 'ip-batch', netns: null, lines: ['route add 198.19.0.0/24 via 192.0.2.11', 'route add 198.19.2.0/24 via 192.0.2.13'] }],
    });
    expect(step(result, 'h2', 'b/link-up').run[0]).toEqual({
      kind: 'ip-batch',
      netns: 'cnl-lab-b',
      lines: ['link set eth0 up', 'route add 198.19.0.0/24 via 198.19.1.1', 'route add 198.19.2.0/24 via 198.19.1.1'],
    });
  });
});

describe('macvlan and ipvlan modes', () => {
  it('creates macvlan devices straight into the namespace on the management NIC, without ledger entries', () => {
    const result = plan({
      name: 'lab',
      hosts: H3,
      networks: [{ name: 'mv', mode: 'macvlan', options: { macvlanMode: 'vepa', mtu: 1300 } }],
      containers: [
        { name: 'a', host: 'h1', networks: ['mv'] },
        { name: 'b', host: 'h1', networks: ['mv'] },
        { name: 'c', host: 'h3', networks: ['mv'] },
      ],
    });
    expect(ids(result, 'h1')).toEqual(['a/netns', 'a/links', 'a/addresses', 'a/link-up', 'b/netns', 'b/links', 'b/addresses', 'b/link-up']);
    expect(step(result, 'h1', 'a/links')).toEqual({
      id: 'a/links',
      phase: 'links',
      container: 'a',
      description: 'create eth0',
      creates: [],
      run: [{ kind: 'ip-batch', netns: null, lines: ['link add eth0 link eth0 netns cnl-lab-a mtu 1300 type macvlan mode vepa'] }],
    });
    expect(step(result, 'h3', 'c/addresses').run).toEqual([{ kind: 'ip-batch', netns: 'cnl-lab-c', lines: ['addr add 198.19.0.4/24 dev eth0'] }]);
    expect(result.containers[0]?.interfaces).toEqual([{ network: 'mv', ifname: 'eth0', address: '198.19.0.2/24', hostDevice: 'eth0' }]);
    expect(result.expectations.map((entry) => `${entry.from}>${entry.to}:${entry.reachable}`)).toEqual([
      'a>b:false',
      'a>c:true',
      'b>a:false',
      'b>c:true',
      'c>a:true',
      'c>b:true',
    ]);
  });

  it('plans ipvlan on a host whose facts say its kernel has it, and announces only in l2', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [
        { name: 'ipv', mode: 'ipvlan', options: { ipvlanMode: 'l3s' } },
        { name: 'ip2', mode: 'ipvlan' },
      ],
      containers: [
        { name: 'a', host: 'h1', networks: ['ipv', 'ip2'] },
        { name: 'b', host: 'h2', networks: ['ipv'] },
      ],
    };
    const result = plan(input, contextFor(['h1', 'h2'], { h1: { features: IPVLAN_SUPPORTED }, h2: { features: IPVLAN_SUPPORTED } }));
    expect(step(result, 'h1', 'a/links').run).toEqual([
      { kind: 'ip-batch', netns: null, lines: ['link add eth0 link eth0 netns cnl-lab-a type ipvlan mode l3s', 'link add eth1 link eth0 netns cnl-lab-a type ipvlan mode l2'] },
    ]);
    expect(step(result, 'h1', 'a/link-up').run[1]).toEqual({
      kind: 'shell',
      text: 'nsenter --net=/run/netns/cnl-lab-a arping -q -U -c 1 -I eth1 198.19.1.2 || true',
      background: true,
    });
    expect(step(result, 'h1', 'a/link-up').run).toHaveLength(2);
    expect(result.expectations.filter((entry) => entry.network === 'ipv').every((entry) => entry.reachable)).toBe(true);
    // The same topology on the fixture's own kernel is refused (validate.test.ts has the message).
    expect(() => plan(input)).toThrow(/ipvlan is not available on host h1/);
  });

  it('uses an explicit parent', () => {
    const result = plan(
      { name: 'lab', hosts: ['h1'], networks: [{ name: 'mv', mode: 'macvlan', options: { parent: 'ifb0' } }], containers: [{ name: 'a', host: 'h1', networks: ['mv'] }] },
    );
    expect((step(result, 'h1', 'a/links').run[0] as { lines: string[] }).lines).toEqual(['link add eth0 link ifb0 netns cnl-lab-a type macvlan mode bridge']);
  });
});

describe('scale', () => {
  const big: Input = {
    name: 'lab',
    hosts: ['h1'],
    networks: [{ name: 'br', mode: 'bridge' }],
    containers: [{ name: 'c', host: 'h1', count: 200, networks: ['br'] }],
  };

  it('plans 200 containers in well under a second', () => {
    const started = performance.now();
    const result = plan(big);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(500);
    expect(host(result, 'h1').steps).toHaveLength(1 + 200 * 4);
    expect(new Set(result.containers.map((entry) => entry.interfaces[0]?.address)).size).toBe(200);
    expect(result.containers[199]?.interfaces[0]?.address).toBe('198.19.0.201/24');
  });

  it('bounds the verify matrix to a ring per network for big labs', () => {
    const result = plan(big);
    expect(result.expectations).toHaveLength(200);
    expect(result.expectations[199]).toMatchObject({ from: 'c200', to: 'c1', reachable: true });
  });
});

describe('names and shell safety', () => {
  /** Words after these ip keywords are interface names. */
  const IFNAME_KEYWORDS = new Set(['dev', 'master', 'name', 'link']);

  it('keeps every interface name within 15 characters, for the longest lab and container names', () => {
    const labName = 'l'.repeat(20);
    const container = 'c'.repeat(31);
    const result = planLab(
      specOf({
        name: labName,
        hosts: H3,
        networks: [
          { name: 'n'.repeat(31), mode: 'vxlan' },
          { name: 'b'.repeat(31), mode: 'nat', options: { publish: [80] } },
          { name: 'm'.repeat(31), mode: 'macvlan' },
          { name: 'r'.repeat(31), mode: 'routed' },
        ],
        containers: H3.map((hostName, index) => ({
          name: `${container.slice(0, 29)}${index}`,
          host: hostName,
          count: 12,
          networks: ['n'.repeat(31), 'b'.repeat(31), 'm'.repeat(31), 'r'.repeat(31)],
        })),
      }),
      contextFor(H3),
    );
    const found = new Set<string>();
    for (const hostPlan of result.hosts) {
      for (const entry of hostPlan.steps) {
        for (const command of entry.run) {
          if (command.kind !== 'ip-batch') continue;
          for (const line of command.lines) {
            const words = line.split(' ');
            words.forEach((word, index) => {
              const previous = words[index - 1] ?? '';
              if (IFNAME_KEYWORDS.has(previous) && !(previous === 'link' && (word === 'add' || word === 'set'))) found.add(word);
              if (previous === 'add' && words[index - 2] === 'link') found.add(word);
              if (previous === 'set' && words[index - 2] === 'link' && word !== 'dev') found.add(word);
            });
          }
        }
        for (const entry2 of entry.creates) if (entry2.kind === 'link') found.add(entry2.name);
      }
    }
    for (const container2 of result.containers) {
      for (const entry of container2.interfaces) {
        found.add(entry.ifname);
        if (entry.hostDevice) found.add(entry.hostDevice);
      }
    }
    expect(found.size).toBeGreaterThan(100);
    expect([...found].filter((name) => name.length > MAX_IFNAME)).toEqual([]);
  });

  it('refuses hostile names in the schema, before any planning', () => {
    const hostile = ['a;reboot', '$(id)', "a'b", 'a\nb', 'a b', '`id`'];
    for (const value of hostile) {
      const base = { v: 1, name: 'lab', hosts: ['h1'], networks: [{ name: 'br', mode: 'bridge' }], containers: [{ name: 'c1', host: 'h1', networks: ['br'] }] };
      const variants = [
        { ...base, name: value },
        { ...base, hosts: [value] },
        { ...base, networks: [{ name: value, mode: 'bridge' }] },
        { ...base, networks: [{ name: 'mv', mode: 'macvlan', options: { parent: value } }] },
        { ...base, containers: [{ name: value, host: 'h1' }] },
        { ...base, containers: [{ name: 'c1', host: value }] },
        { ...base, containers: [{ name: 'c1', host: 'h1', shareNetnsWith: value }] },
        { ...base, containers: [{ name: 'c1', host: 'h1', networks: ['br'], addresses: { br: value } }] },
        { ...base, containers: [{ name: 'c1', host: 'h1', cpuset: value }] },
      ];
      for (const variant of variants) expect(() => parseTopologyText(JSON.stringify(variant)), `${JSON.stringify(value)} in ${JSON.stringify(variant)}`).toThrow(/topology:/);
    }
  });

  it('builds every shell command with the quoting helpers (source scan)', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const files = ['planner.ts', ...readdirSync(join(dir, 'modes')).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts')).map((file) => `modes/${file}`)];
    let shellTexts = 0;
    for (const file of files) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const match of source.matchAll(/kind: 'shell',/g)) {
        shellTexts += 1;
        const text = /text:([\s\S]*?)\}/.exec(source.slice(match.index, match.index + 400))?.[1] ?? '';
        // stepScript (modes/daemons.ts) wraps lines that are themselves built with sh``, shellCommand or quoteShellArg.
        expect(text, `${file}: a shell text must come from sh\`\`, shellCommand, quoteShellArg or stepScript`).toMatch(/shellCommand\(|quoteShellArg\(|\bsh`|\bfdb\b|\bstepScript\(/);
        if (/\bfdb\b/.test(text)) expect(source).toMatch(/fdb\.push\(shellCommand\(/);
      }
      expect(source, `${file} builds shell text from a raw template`).not.toMatch(/text: `[^`]*\$\{/);
    }
    expect(shellTexts).toBeGreaterThanOrEqual(4);
  });

  it('produces shell texts that sh parses, for every mode', () => {
    const result = plan(
      {
        name: 'lab',
        hosts: H3,
        networks: [
          { name: 'ov', mode: 'vxlan' },
          { name: 'n', mode: 'nat', options: { publish: [80] } },
          { name: 'mv', mode: 'macvlan' },
        ],
        containers: H3.map((hostName) => ({ name: `c-${hostName}`, host: hostName, networks: ['ov', 'n', 'mv'] })),
      },
      contextFor(H3),
    );
    const texts = result.hosts.flatMap((hostPlan) => hostPlan.steps.flatMap((entry) => [...entry.run.flatMap((command) => (command.kind === 'shell' ? [command.text] : [])), ...entry.creates.map((created) => created.undo)]));
    expect(texts.length).toBeGreaterThan(10);
    for (const text of texts) expect(spawnSync('sh', ['-n', '-c', text]).status, text).toBe(0);
  });
});

describe('fingerprint', () => {
  const input: Input = { name: 'lab', hosts: ['h1', 'h2'], networks: [{ name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }, { name: 'b', host: 'h2', networks: ['ov'] }] };

  it('is stable for the same inputs and ignores facts the plan does not use', () => {
    const first = plan(input);
    const context = contextFor(['h1', 'h2']);
    for (const facts of Object.values(context.facts)) {
      facts.probedAt = '2030-01-01T00:00:00.000Z';
      facts.tools.iperf3 = '9.9';
      facts.nics.push({ name: 'veth123', mtu: 1500, state: 'UP', mac: null, speedMbps: null, driver: null, kind: 'veth', addresses: [], isManagement: false });
    }
    expect(plan(input, context).fingerprint).toBe(first.fingerprint);
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with the topology and with the facts that shaped the plan', () => {
    const first = plan(input).fingerprint;
    expect(plan({ ...input, networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 9 } }] }).fingerprint).not.toBe(first);
    expect(plan(input, contextFor(['h1', 'h2'], { h2: { mtu: 1500 } })).fingerprint).not.toBe(first);
    expect(plan(input, contextFor(['h1', 'h2'], { h2: { address: '192.0.2.99' } })).fingerprint).not.toBe(first);
  });

  it('hashes canonical JSON, independent of key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }, null] })).toBe('{"a":[{"d":2},null],"b":1}');
  });
});

describe('nat egress expectations', () => {
  it('expects a nat container to reach a host-mode container on another host through masquerading', () => {
    const result = plan({
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [
        { name: 'natnet', mode: 'nat', options: { publish: [5201] } },
        { name: 'hostnet', mode: 'host' },
      ],
      containers: [
        { name: 'server', host: 'h1', networks: ['natnet'] },
        { name: 'client', host: 'h2', networks: ['hostnet'] },
      ],
    });
    expect(result.expectations).toEqual([{ from: 'server', to: 'client', address: '192.0.2.12', network: 'natnet', reachable: true }]);
  });
});
