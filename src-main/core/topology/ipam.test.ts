// IPAM: prefix arithmetic, deterministic non-overlapping blocks, explicit subnets and addresses kept,
// and every refusal with its exact message.
import { describe, expect, it } from 'vitest';
import {
  allocateAddresses,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  parseCidr,
  parseIpv4,
  type IpamNetworkRequest,
  type IpamRequest,
  type NetworkAllocation,
} from './ipam';

function cidr(text: string) {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`bad test prefix ${text}`);
  return parsed;
}

function network(name: string, scope: 'per-host' | 'per-network', placement: Record<string, string[]>, extra: Partial<IpamNetworkRequest> = {}): IpamNetworkRequest {
  const members = Object.entries(placement).flatMap(([host, containers]) => containers.map((container) => ({ container, host, explicit: null })));
  return { name, scope, gateway: scope === 'per-host', subnet: null, hosts: Object.keys(placement), members, ...extra };
}

function request(networks: IpamNetworkRequest[], extra: Partial<IpamRequest> = {}): IpamRequest {
  return { pool: '198.19.0.0/16', networks, reserved: [{ cidr: cidr('192.0.2.11/24'), owner: 'eth0 on host h1' }], ...extra };
}

function blocks(allocation: NetworkAllocation | undefined): Record<string, string> {
  return Object.fromEntries([...(allocation?.blocks ?? [])].map(([host, block]) => [host, formatCidr(block.subnet)]));
}

function addresses(allocation: NetworkAllocation | undefined): Record<string, string> {
  return Object.fromEntries([...(allocation?.addresses ?? [])].map(([container, address]) => [container, formatIpv4(address)]));
}

describe('IPv4 arithmetic', () => {
  it('parses and formats addresses and prefixes, refusing octal-looking and out-of-range text', () => {
    expect(parseIpv4('198.19.255.254')).toBe(0xc613fffe);
    expect(formatIpv4(0xc613fffe)).toBe('198.19.255.254');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    for (const bad of ['198.19.0', '256.1.1.1', '010.1.1.1', '1.1.1.1 ', 'a.b.c.d']) expect(parseIpv4(bad)).toBeNull();
    expect(parseCidr('10.0.0.0/8')).toEqual({ base: 0x0a000000, prefix: 8 });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/8/8']) expect(parseCidr(bad)).toBeNull();
  });

  it('tests containment and overlap on the shorter prefix', () => {
    expect(cidrContains(cidr('198.19.0.0/16'), parseIpv4('198.19.200.1') ?? 0)).toBe(true);
    expect(cidrContains(cidr('198.19.0.0/24'), parseIpv4('198.19.1.1') ?? 0)).toBe(false);
    expect(cidrsOverlap(cidr('198.19.0.0/16'), cidr('198.19.7.0/24'))).toBe(true);
    expect(cidrsOverlap(cidr('198.19.0.0/24'), cidr('198.19.1.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('0.0.0.0/0'), cidr('10.0.0.1/32'))).toBe(true);
  });
});

describe('allocateAddresses', () => {
  it('gives per-host blocks in network then host order, one block per per-network network, addresses from .2', () => {
    const result = allocateAddresses(
      request([
        network('ov', 'per-host', { h1: ['c1', 'c3'], h2: ['c2'] }),
        network('mv', 'per-network', { h1: ['c1'], h2: ['c2', 'c4'] }),
        network('br', 'per-host', { h2: ['c2'] }),
      ]),
    );
    expect(result.problems).toEqual([]);
    expect(blocks(result.networks.get('ov'))).toEqual({ h1: '198.19.0.0/24', h2: '198.19.1.0/24' });
    expect(blocks(result.networks.get('mv'))).toEqual({ h1: '198.19.2.0/24', h2: '198.19.2.0/24' });
    expect(blocks(result.networks.get('br'))).toEqual({ h2: '198.19.3.0/24' });
    expect(addresses(result.networks.get('ov'))).toEqual({ c1: '198.19.0.2', c3: '198.19.0.3', c2: '198.19.1.2' });
    expect(addresses(result.networks.get('mv'))).toEqual({ c1: '198.19.2.2', c2: '198.19.2.3', c4: '198.19.2.4' });
    expect(result.networks.get('ov')?.blocks.get('h1')?.gateway).toBe(parseIpv4('198.19.0.1'));
    expect(result.networks.get('mv')?.blocks.get('h1')?.gateway).toBeNull();
  });

  it('is deterministic and never overlaps blocks, even around explicit subnets inside the pool', () => {
    const networks = [
      network('a', 'per-host', { h1: ['a1'], h2: ['a2'], h3: ['a3'] }),
      network('b', 'per-host', { h1: ['b1'] }, { subnet: '198.19.1.0/24' }),
      network('c', 'per-network', { h1: ['c1'], h3: ['c3'] }, { subnet: '198.19.4.0/22' }),
      network('d', 'per-host', { h2: ['d2'], h3: ['d3'] }),
    ];
    const first = allocateAddresses(request(networks));
    const second = allocateAddresses(request(networks));
    expect(first.problems).toEqual([]);
    expect([...first.networks.values()].map(blocks)).toEqual([...second.networks.values()].map(blocks));
    expect(blocks(first.networks.get('a'))).toEqual({ h1: '198.19.0.0/24', h2: '198.19.2.0/24', h3: '198.19.3.0/24' });
    expect(blocks(first.networks.get('b'))).toEqual({ h1: '198.19.1.0/24' });
    expect(blocks(first.networks.get('c'))).toEqual({ h1: '198.19.4.0/22', h3: '198.19.4.0/22' });
    expect(blocks(first.networks.get('d'))).toEqual({ h2: '198.19.8.0/24', h3: '198.19.9.0/24' });
    const distinct = [...new Set([...first.networks.values()].flatMap((allocation) => [...allocation.blocks.values()].map((block) => block.subnet)))];
    for (const [index, a] of distinct.entries()) for (const b of distinct.slice(index + 1)) expect(cidrsOverlap(a, b)).toBe(false);
  });

  it('splits an explicit per-host subnet into /24s in host order', () => {
    const result = allocateAddresses(request([network('ov', 'per-host', { h1: ['c1'], h2: ['c2'], h3: ['c3'] }, { subnet: '10.40.0.0/22' })]));
    expect(result.problems).toEqual([]);
    expect(blocks(result.networks.get('ov'))).toEqual({ h1: '10.40.0.0/24', h2: '10.40.1.0/24', h3: '10.40.2.0/24' });
  });

  it('keeps explicit addresses and lets automatic ones flow around them, whatever the order', () => {
    const net = network('br', 'per-host', { h1: ['c1', 'c2', 'c3'] });
    net.members = [
      { container: 'c1', host: 'h1', explicit: null },
      { container: 'c2', host: 'h1', explicit: '198.19.0.2' },
      { container: 'c3', host: 'h1', explicit: null },
    ];
    const result = allocateAddresses(request([net]));
    expect(result.problems).toEqual([]);
    expect(addresses(result.networks.get('br'))).toEqual({ c2: '198.19.0.2', c1: '198.19.0.3', c3: '198.19.0.4' });
  });

  it('lets an explicit address use .1 where there is no gateway', () => {
    const net = network('mv', 'per-network', { h1: ['c1'] });
    net.members = [{ container: 'c1', host: 'h1', explicit: '198.19.0.1' }];
    expect(addresses(allocateAddresses(request([net])).networks.get('mv'))).toEqual({ c1: '198.19.0.1' });
  });

  it('fills a /24 with 253 containers and refuses the 254th', () => {
    const names = Array.from({ length: 254 }, (_, index) => `c${index + 1}`);
    const ok = allocateAddresses(request([network('br', 'per-host', { h1: names.slice(0, 253) })]));
    expect(ok.problems).toEqual([]);
    expect(formatIpv4(ok.networks.get('br')?.addresses.get('c253') ?? 0)).toBe('198.19.0.254');
    const full = allocateAddresses(request([network('br', 'per-host', { h1: names })]));
    expect(full.problems).toEqual(["network br: host h1's block 198.19.0.0/24 holds 253 containers but 254 are on it: spread them over more networks"]);
  });

  describe('refusals', () => {
    const refuse = (networks: IpamNetworkRequest[], extra: Partial<IpamRequest> = {}) => allocateAddresses(request(networks, extra)).problems;

    it('refuses prefixes with host bits', () => {
      expect(refuse([network('br', 'per-host', { h1: ['c1'] })], { pool: '198.19.0.5/16' })).toEqual(['addressPool 198.19.0.5/16 has host bits set: write 198.19.0.0/16']);
      expect(refuse([network('br', 'per-host', { h1: ['c1'] }, { subnet: '10.0.0.7/24' })])).toEqual(['network br: subnet 10.0.0.7/24 has host bits set: write 10.0.0.0/24']);
    });

    it('refuses an explicit per-host subnet too small for the hosts on it', () => {
      expect(refuse([network('br', 'per-host', { h1: ['c1'] }, { subnet: '10.0.0.0/25' })])).toEqual([
        'network br: subnet 10.0.0.0/25 is smaller than a /24, and this mode gives every host a /24: use a /24 or larger',
      ]);
      expect(refuse([network('ov', 'per-host', { h1: ['c1'], h2: ['c2'], h3: ['c3'] }, { subnet: '10.0.0.0/23' })])).toEqual([
        'network ov: subnet 10.0.0.0/23 has room for 2 per-host /24 block(s) but 3 hosts have containers on it: use a /22 or larger',
      ]);
      expect(refuse([network('mv', 'per-network', { h1: ['c1'] }, { subnet: '10.0.0.0/31' })])).toEqual([
        'network mv: subnet 10.0.0.0/31 has no room for containers: use a /30 or larger',
      ]);
    });

    it('refuses explicit subnets overlapping each other or a host NIC', () => {
      expect(
        refuse([
          network('a', 'per-host', { h1: ['c1'] }, { subnet: '10.0.0.0/16' }),
          network('b', 'per-network', { h1: ['c2'] }, { subnet: '10.0.4.0/24' }),
          network('c', 'per-network', { h1: ['c3'] }, { subnet: '192.0.2.128/25' }),
        ]),
      ).toEqual([
        "network b: subnet 10.0.4.0/24 overlaps network a's 10.0.0.0/16: give each network its own addresses",
        'network c: subnet 192.0.2.128/25 overlaps 192.0.2.11/24 (eth0 on host h1): choose addresses that no host uses',
      ]);
    });

    it('refuses a pool overlapping host NICs, naming every holder of one prefix once', () => {
      const reserved = [
        { cidr: cidr('10.9.0.11/24'), owner: 'eth0 on host h1' },
        { cidr: cidr('10.9.0.12/24'), owner: 'eth0 on host h2' },
        { cidr: cidr('10.9.0.11/24'), owner: 'eth0 on host h1' },
      ];
      expect(refuse([network('br', 'per-host', { h1: ['c1'] })], { pool: '10.9.0.0/16', reserved })).toEqual([
        'addressPool 10.9.0.0/16 overlaps 10.9.0.11/24 (eth0 on host h1): choose addresses that no host uses',
        'addressPool 10.9.0.0/16 overlaps 10.9.0.12/24 (eth0 on host h2): choose addresses that no host uses',
      ]);
    });

    it('does not check a pool no network draws from', () => {
      expect(refuse([network('br', 'per-host', { h1: ['c1'] }, { subnet: '10.50.0.0/24' })], { pool: '192.0.2.0/24' })).toEqual([]);
    });

    it('refuses a pool too small for the blocks needed', () => {
      expect(refuse([network('a', 'per-host', { h1: ['c1'], h2: ['c2'] }), network('b', 'per-network', { h1: ['c3'] })], { pool: '198.19.0.0/23' })).toEqual([
        'addressPool 198.19.0.0/23 has 2 free /24 block(s) but the topology needs 3 (one per host and network for bridge, nat, vxlan and routed; one per network for macvlan and ipvlan): use a larger addressPool such as a /16',
      ]);
      expect(refuse([network('a', 'per-host', { h1: ['c1'] })], { pool: '198.19.0.0/25' })[0]).toMatch(/^addressPool 198.19.0.0\/25 has 0 free \/24 block/);
    });

    it('refuses explicit addresses outside the block, on the gateway or network/broadcast, or duplicated', () => {
      const net = network('ov', 'per-host', { h1: ['c1', 'c2', 'c3', 'c4', 'c5'], h2: ['c6'] });
      const explicit: Record<string, string> = { c1: '198.19.1.5', c2: '198.19.0.1', c3: '198.19.0.255', c4: '198.19.0.9', c5: '198.19.0.9' };
      net.members = net.members.map((member) => ({ ...member, explicit: explicit[member.container] ?? null }));
      expect(refuse([net])).toEqual([
        'container c1: address 198.19.1.5 on network ov is outside 198.19.0.0/24, the block of host h1 on that network: use an address in it or remove it',
        'container c2: address 198.19.0.1 on network ov is the gateway of 198.19.0.0/24, the block of host h1 on that network: use another one',
        'container c3: address 198.19.0.255 on network ov is the network or broadcast address of 198.19.0.0/24, the block of host h1 on that network: use another one',
        'container c5: address 198.19.0.9 on network ov is already given to container c4: give each container its own address',
      ]);
    });
  });
});
