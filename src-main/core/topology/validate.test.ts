// Every refusal of the planner with its exact message, on facts parsed from the real probe fixtures and
// variants of them; problems are collected and reported together, one per line.
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { planLab, type PlanContext } from './planner';
import { contextFor, eth, fixtureFacts, IPVLAN_SUPPORTED, specOf, variantFacts } from './planner.test-support';
import type { TopologyInput } from './topology-schema';

type Input = Omit<TopologyInput, 'v'>;

function refusal(input: Input, context: PlanContext = contextFor(input.hosts)): string[] {
  try {
    planLab(specOf(input), context);
  } catch (error) {
    expect(error).toBeInstanceOf(CnlabError);
    const cnlab = error as CnlabError;
    expect(cnlab.code).toBe('invalid-input');
    expect(cnlab.details.problems).toEqual(cnlab.message.split('\n'));
    return cnlab.message.split('\n');
  }
  throw new Error('the plan was not refused');
}

const one = (networks: Input['networks'], containers: Input['containers'], extra: Partial<Input> = {}): Input => ({
  name: 'lab',
  hosts: ['h1'],
  networks,
  containers,
  ...extra,
});

describe('structural refusals', () => {
  it('refuses hosts without facts and hosts listed twice', () => {
    expect(refusal({ name: 'lab', hosts: ['h1', 'h9', 'h1'], networks: [], containers: [{ name: 'c1', host: 'h1' }] }, contextFor(['h1']))).toEqual([
      'host h1 is listed twice in hosts: list each host once',
      'host h9 has no probed facts: run `cnlab hosts probe h9`',
    ]);
  });

  it('refuses a container on a host the topology does not list', () => {
    expect(refusal(one([], [{ name: 'c1', host: 'h9' }]))).toEqual([
      "container c1: host h9 is not in the topology's hosts (h1): add it to hosts or use one of them",
    ]);
  });

  it('refuses duplicate container names after count expansion, and duplicate networks', () => {
    expect(
      refusal(
        one(
          [
            { name: 'br', mode: 'bridge' },
            { name: 'br', mode: 'nat' },
          ],
          [
            { name: 'c', host: 'h1', count: 3, networks: ['br'] },
            { name: 'c2', host: 'h1', networks: ['br'] },
          ],
        ),
      ),
    ).toEqual([
      'network br is defined twice: give each network its own name',
      'container name c2 is used twice (by container c with count 3 and by container c2): rename one of them',
    ]);
  });

  it('refuses unknown networks, a network listed twice, and host/none networks combined with others', () => {
    expect(
      refusal(
        one(
          [
            { name: 'br', mode: 'bridge' },
            { name: 'hn', mode: 'host' },
            { name: 'iso', mode: 'none' },
          ],
          [
            { name: 'c1', host: 'h1', networks: ['nope'] },
            { name: 'c2', host: 'h1', networks: ['br', 'br'] },
            { name: 'c3', host: 'h1', networks: ['hn', 'br'] },
            { name: 'w', host: 'h1', count: 2, networks: ['iso', 'br'] },
          ],
        ),
      ),
    ).toEqual([
      'container c1: network nope is not defined (networks: br, hn, iso): add it to networks or fix the name',
      'container c2 lists network br twice: list it once',
      "container c3: network hn (mode host) runs it in the host's own namespace, so it cannot have other networks: list hn alone",
      'container w (count 2): network iso (mode none) leaves it only a loopback interface, so it cannot have other networks: list iso alone',
    ]);
  });

  it('refuses addresses for networks the container is not on, or that have no addresses', () => {
    expect(
      refusal(
        one(
          [
            { name: 'br', mode: 'bridge' },
            { name: 'iso', mode: 'none' },
          ],
          [
            { name: 'c1', host: 'h1', networks: ['br'], addresses: { other: '198.19.0.9' } },
            { name: 'c2', host: 'h1', networks: ['iso'], addresses: { iso: '198.19.0.9' } },
          ],
        ),
      ),
    ).toEqual([
      'container c1: addresses names network other, which the container is not on: add it to networks or remove the address',
      'container c2: network iso (mode none) gives no address to set: remove addresses.iso',
    ]);
  });

  it('refuses shareNetnsWith naming an unknown container, itself, a chain, or another host', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'br', mode: 'bridge' }],
      containers: [
        { name: 'a', host: 'h1', networks: ['br'] },
        { name: 'b', host: 'h1', shareNetnsWith: 'a' },
        { name: 'c', host: 'h1', shareNetnsWith: 'b' },
        { name: 'd', host: 'h1', shareNetnsWith: 'd' },
        { name: 'e', host: 'h1', shareNetnsWith: 'ghost' },
        { name: 'f', host: 'h2', shareNetnsWith: 'a' },
      ],
    };
    expect(refusal(input)).toEqual([
      'container c shares the namespace of b, which itself shares that of a: share with a directly',
      'container d: shareNetnsWith names the container itself: name another container',
      'container e: shareNetnsWith names ghost, which is not a container of this topology: name an existing container',
      'container f is on host h2 but shares the namespace of a on host h1: put both on the same host',
    ]);
  });

  it('refuses a container named net whose step ids would collide with a network named like a step', () => {
    expect(refusal(one([{ name: 'links', mode: 'bridge' }], [{ name: 'net', host: 'h1', networks: ['links'] }]))).toEqual([
      'container net: its plan step net/links would collide with the host step of network links: rename the container or the network',
    ]);
  });

  it('reports structural problems before anything else', () => {
    const input = one([{ name: 'ipv', mode: 'ipvlan' }], [{ name: 'c1', host: 'h1', networks: ['ipv', 'ghost'] }]);
    expect(refusal(input)).toEqual(['container c1: network ghost is not defined (networks: ipv): add it to networks or fix the name']);
  });
});

describe('kernel feature refusals, decided from the facts', () => {
  it('refuses ipvlan on the fixture host, whose kernel lacks it, quoting the probe', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'ipv', mode: 'ipvlan' }],
      containers: [
        { name: 'c1', host: 'h1', networks: ['ipv'] },
        { name: 'c2', host: 'h2', networks: ['ipv'] },
      ],
    };
    expect(refusal(input, contextFor(['h1', 'h2'], { h1: { features: IPVLAN_SUPPORTED } }))).toEqual([
      'network ipv: ipvlan is not available on host h2: its kernel has no ipvlan support (Error: Unknown device type.)',
    ]);
  });

  it('refuses a feature the kernel config lacks (unprivileged probe) and one that could not be probed', () => {
    const context = contextFor(['h1', 'h2']);
    context.facts.h1 = fixtureFacts('nobody-unprivileged.out', 'unprivileged');
    context.facts.h2 = variantFacts({ address: '192.0.2.12', features: { macvlan: { supported: 'unknown', source: 'unknown' } } });
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [
        { name: 'ipv', mode: 'ipvlan' },
        { name: 'mv', mode: 'macvlan' },
      ],
      containers: [
        { name: 'c1', host: 'h1', networks: ['ipv'] },
        { name: 'c2', host: 'h2', networks: ['mv'] },
      ],
    };
    expect(refusal(input, context)).toEqual([
      'network ipv: ipvlan is not available on host h1: its kernel has no ipvlan support (CONFIG_IPVLAN is not set)',
      'network mv: macvlan support on host h2 could not be probed: run `cnlab hosts probe h2` as root or with passwordless sudo so the probe can try it',
    ]);
  });

  it('requires bridge and veth for bridge-based modes and vxlan for the overlay', () => {
    const noBridge = { bridge: { supported: false, source: 'trial', reason: 'Error: Unknown device type.' } } as const;
    const noVxlan = { vxlan: { supported: false, source: 'kernel-config', reason: 'CONFIG_VXLAN is not set' } } as const;
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [
        { name: 'ov', mode: 'vxlan' },
        { name: 'rt', mode: 'routed' },
      ],
      containers: [
        { name: 'c1', host: 'h1', networks: ['ov', 'rt'] },
        { name: 'c2', host: 'h2', networks: ['ov'] },
      ],
    };
    expect(refusal(input, contextFor(['h1', 'h2'], { h1: { features: noBridge }, h2: { features: noVxlan } }))).toEqual([
      'network ov: bridge is not available on host h1: its kernel has no bridge support (Error: Unknown device type.)',
      'network ov: vxlan is not available on host h2: its kernel has no vxlan support (CONFIG_VXLAN is not set)',
      'network rt: bridge is not available on host h1: its kernel has no bridge support (Error: Unknown device type.)',
    ]);
  });

  it('only asks hosts that have containers on the network', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'ipv', mode: 'ipvlan' }],
      containers: [{ name: 'c1', host: 'h1', networks: ['ipv'] }],
    };
    expect(() => planLab(specOf(input), contextFor(['h1', 'h2'], { h1: { features: IPVLAN_SUPPORTED } }))).not.toThrow();
  });

  it('refuses controlPlane etcd and bgp where the probe found no etcd or BIRD (more in modes/control-planes.test.ts)', () => {
    const input = one(
      [
        { name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd' } },
        { name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } },
      ],
      [{ name: 'c1', host: 'h1', networks: ['ov', 'rt'] }],
    );
    expect(refusal(input)).toEqual([
      "network ov (controlPlane etcd): etcd is not installed on host h1, which runs the lab's etcd: install it there (Debian: apt-get install etcd-server etcd-client)",
      'network rt (controlPlane bgp): BIRD is not installed on host h1: install it there (Debian: apt-get install bird2)',
    ]);
  });
});

describe('NIC, MTU and port refusals', () => {
  it('refuses a parent NIC the host does not have', () => {
    const input = one([{ name: 'mv', mode: 'macvlan', options: { parent: 'eth1' } }], [{ name: 'c1', host: 'h1', networks: ['mv'] }]);
    expect(refusal(input)).toEqual(['network mv: parent eth1 does not exist on host h1 (its NICs: ifb0, ifb1, eth0): set options.parent to one of them']);
  });

  it('refuses macvlan passthru on the management NIC, and passthru shared by two containers', () => {
    const passthru = { name: 'mv', mode: 'macvlan', options: { macvlanMode: 'passthru' } } as const;
    expect(refusal(one([passthru], [{ name: 'c1', host: 'h1', networks: ['mv'] }]))).toEqual([
      "network mv: macvlan passthru on eth0 would give host h1's management NIC to one container and cut cnlab's SSH connection: set options.parent to another NIC or use macvlanMode bridge",
    ]);
    const onEth1 = { ...passthru, options: { macvlanMode: 'passthru', parent: 'eth1' } } as const;
    const context = contextFor(['h1'], { h1: { extraNics: [eth('eth1', null)] } });
    expect(refusal(one([onEth1], [{ name: 'c', host: 'h1', count: 2, networks: ['mv'] }]), context)).toEqual([
      'network mv: macvlan passthru gives all of eth1 to one container, but host h1 has 2 containers on it: keep one per host or use macvlanMode bridge',
    ]);
    expect(() => planLab(specOf(one([onEth1], [{ name: 'c1', host: 'h1', networks: ['mv'] }])), context)).not.toThrow();
  });

  it('refuses a macvlan MTU above its parent', () => {
    const input = one([{ name: 'mv', mode: 'macvlan', options: { mtu: 9000 } }], [{ name: 'c1', host: 'h1', networks: ['mv'] }]);
    expect(refusal(input)).toEqual(['network mv: mtu 9000 is larger than the MTU 1400 of its parent eth0 on host h1: lower options.mtu']);
  });

  it('refuses a VXLAN MTU above the smallest underlay minus 50, and underlays leaving less than 1280', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'ov', mode: 'vxlan', options: { mtu: 1400 } }],
      containers: [
        { name: 'c1', host: 'h1', networks: ['ov'] },
        { name: 'c2', host: 'h2', networks: ['ov'] },
      ],
    };
    expect(refusal(input, contextFor(['h1', 'h2'], { h2: { mtu: 1300 } }))).toEqual([
      "network ov: host h2's underlay eth0 has MTU 1300, which leaves 1250 for VXLAN (50 bytes of headers), below the minimum 1280: raise the MTU of eth0 or use mode routed",
      'network ov: mtu 1400 does not fit the underlay: eth0 on host h2 has MTU 1300 and VXLAN takes 50 bytes, so at most 1250: lower options.mtu or use mtu: auto',
    ]);
    expect(refusal(input)).toEqual([
      'network ov: mtu 1400 does not fit the underlay: eth0 on host h1 has MTU 1400 and VXLAN takes 50 bytes, so at most 1350: lower options.mtu or use mtu: auto',
    ]);
  });

  it('refuses nat host ports that collide between networks or run past 65535', () => {
    const input = one(
      [
        { name: 'n1', mode: 'nat', options: { publish: [80, 443] } },
        { name: 'n2', mode: 'nat', options: { publish: [53], hostPortBase: 20003 } },
        { name: 'n3', mode: 'nat', options: { publish: [1, 2, 3], hostPortBase: 65000 } },
      ],
      [{ name: 'c', host: 'h1', count: 200, networks: ['n1', 'n2', 'n3'] }],
    );
    expect(refusal(input)).toEqual([
      "network n2: host ports 20003-20202 on host h1 collide with network n1's 20000-20399: set options.hostPortBase of n2 to 20400 or higher",
      'network n3: host h1 needs host ports 65000-65599, past 65535: lower options.hostPortBase or publish fewer ports',
    ]);
  });

  it('refuses routed mode between hosts that are not on one subnet', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'rt', mode: 'routed' }],
      containers: [
        { name: 'c1', host: 'h1', networks: ['rt'] },
        { name: 'c2', host: 'h2', networks: ['rt'] },
      ],
    };
    const context = contextFor(['h1', 'h2']);
    context.managementAddress.h2 = '203.0.113.7';
    expect(refusal(input, context)).toEqual([
      "network rt: host h2's address 203.0.113.7 is not on any subnet of host h1, and routed mode sends plain packets to it as the next hop: put the hosts on one subnet or use mode vxlan",
    ]);
  });

  it('refuses multi-host modes on a host whose management address is unknown', () => {
    const context = contextFor(['h1']);
    context.managementAddress.h1 = 'h1.lab.example';
    context.facts.h1 = { ...variantFacts(), management: { address: null, nic: 'eth0', source: 'default-route' } };
    const input = one(
      [
        { name: 'n', mode: 'nat' },
        { name: 'hn', mode: 'host' },
      ],
      [
        { name: 'c1', host: 'h1', networks: ['n'] },
        { name: 'c2', host: 'h1', networks: ['hn'] },
      ],
    );
    expect(refusal(input, context)).toEqual([
      "host h1: its management IPv4 address is unknown, and network n (mode nat, its published ports) needs it: give the host's inventory entry its IP address or run `cnlab hosts probe h1`",
    ]);
  });

  it('refuses the same VNI and port twice on one host', () => {
    const input = one(
      [
        { name: 'ov1', mode: 'vxlan' },
        { name: 'ov2', mode: 'vxlan' },
      ],
      [{ name: 'c1', host: 'h1', networks: ['ov1', 'ov2'] }],
    );
    expect(refusal(input)).toEqual(['network ov2: VNI 42 on port 4789 is already used by network ov1: set another options.vni']);
  });
});

describe('address refusals', () => {
  it('refuses a pool or subnet overlapping a host address, the management subnet included', () => {
    const input = one(
      [
        { name: 'br', mode: 'bridge' },
        { name: 'mv', mode: 'macvlan', subnet: '10.1.0.0/16' },
      ],
      [{ name: 'c1', host: 'h1', networks: ['br', 'mv'] }],
      { addressPool: '192.0.0.0/16' },
    );
    const context = contextFor(['h1'], { h1: { extraNics: [eth('eth1', '10.1.2.3/24')] } });
    expect(refusal(input, context)).toEqual([
      'network mv: subnet 10.1.0.0/16 overlaps 10.1.2.3/24 (eth1 on host h1): choose addresses that no host uses',
      'addressPool 192.0.0.0/16 overlaps 192.0.2.11/24 (eth0 on host h1): choose addresses that no host uses',
    ]);
  });

  it("ignores the lab's own links in the facts, so a re-plan after apply is not refused", () => {
    const input = one([{ name: 'br', mode: 'bridge' }], [{ name: 'c1', host: 'h1', networks: ['br'] }]);
    const first = planLab(specOf(input), contextFor(['h1']));
    const bridge = first.containers[0]?.interfaces[0]?.hostDevice ?? '';
    const ownBridge = { ...eth(`${bridge.slice(0, 5)}b123456789`, '198.19.0.1/24'), kind: 'bridge' };
    const again = planLab(specOf(input), contextFor(['h1'], { h1: { extraNics: [ownBridge] } }));
    expect(again.fingerprint).toBe(first.fingerprint);
    const foreign = { ...ownBridge, name: 'cffffb123456789' };
    expect(refusal(input, contextFor(['h1'], { h1: { extraNics: [foreign] } }))).toEqual([
      'addressPool 198.19.0.0/16 overlaps 198.19.0.1/24 (cffffb123456789 on host h1): choose addresses that no host uses',
    ]);
  });

  it('refuses explicit addresses out of the subnet, duplicated or on the gateway', () => {
    const input = one(
      [{ name: 'br', mode: 'bridge' }],
      [
        { name: 'c1', host: 'h1', networks: ['br'], addresses: { br: '10.0.0.2' } },
        { name: 'c2', host: 'h1', networks: ['br'], addresses: { br: '198.19.0.1' } },
        { name: 'w', host: 'h1', count: 2, networks: ['br'], addresses: { br: '198.19.0.7' } },
      ],
    );
    expect(refusal(input)).toEqual([
      'container c1: address 10.0.0.2 on network br is outside 198.19.0.0/24, the block of host h1 on that network: use an address in it or remove it',
      'container c2: address 198.19.0.1 on network br is the gateway of 198.19.0.0/24, the block of host h1 on that network: use another one',
      'container w2: address 198.19.0.7 on network br is already given to container w1: give each container its own address',
    ]);
  });

  it('collects problems of every kind into one refusal', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1', 'h2'],
      addressPool: '198.19.0.0/24',
      networks: [
        { name: 'ipv', mode: 'ipvlan' },
        { name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd' } },
      ],
      containers: [
        { name: 'c1', host: 'h1', networks: ['ipv', 'ov'] },
        { name: 'c2', host: 'h2', networks: ['ov'] },
      ],
    };
    expect(refusal(input)).toEqual([
      'network ipv: ipvlan is not available on host h1: its kernel has no ipvlan support (Error: Unknown device type.)',
      "network ov (controlPlane etcd): etcd is not installed on host h1, which runs the lab's etcd: install it there (Debian: apt-get install etcd-server etcd-client)",
      'addressPool 198.19.0.0/24 has 1 free /24 block(s) but the topology needs 3 (one per host and network for bridge, nat, vxlan and routed; one per network for macvlan and ipvlan): use a larger addressPool such as a /16',
    ]);
  });
});
