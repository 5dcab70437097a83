// Address allocation: /24 blocks from the pool (or a network's own subnet), per host or per network as
// the mode needs, then container addresses in order of appearance. Pure and deterministic.

/** An IPv4 prefix; `base` may carry host bits until checked. */
export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

/** Multi-host modes give every host a block of this size (flannel/Calico style). */
export const BLOCK_PREFIX = 24;
/** .0 is the network, .1 the gateway (reserved even where there is none, so modes look alike). */
const FIRST_HOST_OFFSET = 2;

export function parseIpv4(text: string): number | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  let value = 0;
  for (const part of match.slice(1)) {
    // Leading zeros read as octal in some tools: refuse rather than guess.
    if (part.length > 1 && part.startsWith('0')) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export function parseCidr(text: string): Cidr | null {
  const parts = text.split('/');
  if (parts.length !== 2 || !/^\d{1,2}$/.test(parts[1] ?? '')) return null;
  const base = parseIpv4(parts[0] ?? '');
  const prefix = Number(parts[1]);
  if (base === null || prefix > 32) return null;
  return { base, prefix };
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The prefix with its host bits cleared. */
export function networkOf(cidr: Cidr): Cidr {
  return { base: (cidr.base & maskOf(cidr.prefix)) >>> 0, prefix: cidr.prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  const mask = maskOf(cidr.prefix);
  return ((address & mask) >>> 0) === ((cidr.base & mask) >>> 0);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const mask = maskOf(Math.min(a.prefix, b.prefix));
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

function broadcastOf(cidr: Cidr): number {
  return (networkOf(cidr).base + 2 ** (32 - cidr.prefix) - 1) >>> 0;
}

export type SubnetScope = 'per-host' | 'per-network';

export interface IpamMember {
  container: string;
  host: string;
  /** The container's `addresses` entry for this network, if any. */
  explicit: string | null;
}

export interface IpamNetworkRequest {
  name: string;
  scope: SubnetScope;
  /** The block's .1 is a gateway: on the host's bridge (per-host blocks of bridge-based modes), or Docker's (its overlay). */
  gateway: boolean;
  /** The network's own `subnet`, else null (drawn from the pool). */
  subnet: string | null;
  /** Hosts with containers on the network, in topology order. */
  hosts: readonly string[];
  /** Containers with their own namespace on the network, in order of appearance. */
  members: readonly IpamMember[];
}

/** Addresses the lab must stay clear of: host NIC prefixes, management addresses. */
export interface ReservedRange {
  cidr: Cidr;
  /** Who holds it, for messages: "eth0 on host h1". */
  owner: string;
}

export interface IpamRequest {
  pool: string;
  networks: readonly IpamNetworkRequest[];
  reserved: readonly ReservedRange[];
}

export interface AddressBlock {
  subnet: Cidr;
  gateway: number | null;
}

export interface NetworkAllocation {
  network: string;
  /** Per participating host; a per-network scope maps every host to the same block. */
  blocks: Map<string, AddressBlock>;
  /** Container name → address; the prefix is the block's. */
  addresses: Map<string, number>;
}

export interface IpamResult {
  networks: Map<string, NetworkAllocation>;
  problems: string[];
}

function blocksIn(cidr: Cidr): number {
  return cidr.prefix > BLOCK_PREFIX ? 0 : 2 ** (BLOCK_PREFIX - cidr.prefix);
}

function blockAt(cidr: Cidr, index: number): Cidr {
  return { base: (networkOf(cidr).base + index * 2 ** (32 - BLOCK_PREFIX)) >>> 0, prefix: BLOCK_PREFIX };
}

/** Parses a configured prefix, refusing host bits: "10.0.0.5/24" is more likely a typo than a wish. */
function checkedCidr(text: string, what: string, problems: string[]): Cidr | null {
  const cidr = parseCidr(text);
  if (!cidr) {
    problems.push(`${what} ${text} is not an IPv4 prefix: write it like 198.19.0.0/16`);
    return null;
  }
  const network = networkOf(cidr);
  if (network.base !== cidr.base) {
    problems.push(`${what} ${text} has host bits set: write ${formatCidr(network)}`);
    return null;
  }
  return cidr;
}

/** One line per overlapped prefix, naming every holder, so shared management subnets read once. */
function overlapProblems(cidr: Cidr, what: string, reserved: readonly ReservedRange[]): string[] {
  const byRange = new Map<string, string[]>();
  for (const range of reserved) {
    if (!cidrsOverlap(cidr, range.cidr)) continue;
    const key = formatCidr(range.cidr);
    const owners = byRange.get(key) ?? [];
    if (!owners.includes(range.owner)) owners.push(range.owner);
    byRange.set(key, owners);
  }
  return [...byRange].map(
    ([range, owners]) => `${what} overlaps ${range} (${owners.join(', ')}): choose addresses that no host uses`,
  );
}

/**
 * Allocates every network's blocks and every container's address. Problems (overlaps, a full pool,
 * a bad explicit address) are returned rather than thrown so the planner can report them with the
 * other refusals; the allocation is only meaningful when there are none.
 */
export function allocateAddresses(request: IpamRequest): IpamResult {
  const problems: string[] = [];
  const networks = new Map<string, NetworkAllocation>();
  const active = request.networks.filter((network) => network.members.length > 0);

  // Explicit subnets first: the pool flows around them.
  const explicit = new Map<string, Cidr>();
  for (const network of active) {
    if (network.subnet === null) continue;
    const cidr = checkedCidr(network.subnet, `network ${network.name}: subnet`, problems);
    if (!cidr) continue;
    if (network.scope === 'per-host') {
      if (cidr.prefix > BLOCK_PREFIX) {
        problems.push(
          `network ${network.name}: subnet ${network.subnet} is smaller than a /${BLOCK_PREFIX}, and this mode gives every host a /${BLOCK_PREFIX}: use a /${BLOCK_PREFIX} or larger`,
        );
        continue;
      }
      if (blocksIn(cidr) < network.hosts.length) {
        problems.push(
          `network ${network.name}: subnet ${network.subnet} has room for ${blocksIn(cidr)} per-host /${BLOCK_PREFIX} block(s) but ${network.hosts.length} hosts have containers on it: use a /${BLOCK_PREFIX - Math.ceil(Math.log2(network.hosts.length))} or larger`,
        );
        continue;
      }
    } else if (cidr.prefix > 30) {
      problems.push(`network ${network.name}: subnet ${network.subnet} has no room for containers: use a /30 or larger`);
      continue;
    }
    for (const [other, otherCidr] of explicit) {
      if (cidrsOverlap(cidr, otherCidr)) {
        problems.push(`network ${network.name}: subnet ${network.subnet} overlaps network ${other}'s ${formatCidr(otherCidr)}: give each network its own addresses`);
      }
    }
    problems.push(...overlapProblems(cidr, `network ${network.name}: subnet ${network.subnet}`, request.reserved));
    explicit.set(network.name, cidr);
  }

  const fromPool = active.filter((network) => network.subnet === null);
  const needed = fromPool.reduce((sum, network) => sum + (network.scope === 'per-host' ? network.hosts.length : 1), 0);
  const poolBlocks: Cidr[] = [];
  if (needed > 0) {
    const pool = checkedCidr(request.pool, 'addressPool', problems);
    if (pool) {
      problems.push(...overlapProblems(pool, `addressPool ${request.pool}`, request.reserved));
      const taken = [...explicit.values()];
      const total = blocksIn(pool);
      for (let index = 0; index < total && poolBlocks.length < needed; index += 1) {
        const block = blockAt(pool, index);
        if (!taken.some((cidr) => cidrsOverlap(cidr, block))) poolBlocks.push(block);
      }
      if (poolBlocks.length < needed) {
        const free = poolBlocks.length;
        problems.push(
          `addressPool ${request.pool} has ${free} free /${BLOCK_PREFIX} block(s) but the topology needs ${needed} (one per host and network for bridge, nat, vxlan and routed; one per network for macvlan and ipvlan): use a larger addressPool such as a /16`,
        );
      }
    }
  }

  let nextPoolBlock = 0;
  for (const network of active) {
    const own = explicit.get(network.name);
    if (network.subnet !== null && !own) continue;
    const blocks = new Map<string, AddressBlock>();
    const take = (index: number): Cidr | undefined => (own ? (network.scope === 'per-host' ? blockAt(own, index) : own) : poolBlocks[nextPoolBlock++]);
    if (network.scope === 'per-host') {
      network.hosts.forEach((host, index) => {
        const subnet = take(index);
        if (subnet) blocks.set(host, { subnet, gateway: network.gateway ? subnet.base + 1 : null });
      });
    } else {
      const subnet = take(0);
      if (subnet) for (const host of network.hosts) blocks.set(host, { subnet, gateway: network.gateway ? subnet.base + 1 : null });
    }
    if (blocks.size < network.hosts.length) continue;
    networks.set(network.name, { network: network.name, blocks, addresses: assignAddresses(network, blocks, problems) });
  }
  return { networks, problems };
}

function assignAddresses(network: IpamNetworkRequest, blocks: Map<string, AddressBlock>, problems: string[]): Map<string, number> {
  const addresses = new Map<string, number>();
  const used = new Map<number, string>();
  // Explicit addresses are placed first so automatic ones flow around them, whatever the order.
  for (const member of network.members) {
    if (member.explicit === null) continue;
    const block = blocks.get(member.host);
    if (!block) continue;
    const address = parseIpv4(member.explicit);
    if (address === null) {
      problems.push(`container ${member.container}: address ${member.explicit} on network ${network.name} is not an IPv4 address: write it like 198.19.0.10`);
      continue;
    }
    const where =
      network.scope === 'per-host'
        ? `${formatCidr(block.subnet)}, the block of host ${member.host} on that network`
        : `${formatCidr(block.subnet)}, the network's subnet`;
    if (!cidrContains(block.subnet, address)) {
      problems.push(`container ${member.container}: address ${member.explicit} on network ${network.name} is outside ${where}: use an address in it or remove it`);
      continue;
    }
    if (address === networkOf(block.subnet).base || address === broadcastOf(block.subnet)) {
      problems.push(`container ${member.container}: address ${member.explicit} on network ${network.name} is the network or broadcast address of ${where}: use another one`);
      continue;
    }
    if (address === block.gateway) {
      problems.push(`container ${member.container}: address ${member.explicit} on network ${network.name} is the gateway of ${where}: use another one`);
      continue;
    }
    const holder = used.get(address);
    if (holder !== undefined) {
      problems.push(`container ${member.container}: address ${member.explicit} on network ${network.name} is already given to container ${holder}: give each container its own address`);
      continue;
    }
    used.set(address, member.container);
    addresses.set(member.container, address);
  }

  const cursor = new Map<AddressBlock, number>();
  const full = new Set<AddressBlock>();
  for (const member of network.members) {
    if (member.explicit !== null) continue;
    const block = blocks.get(member.host);
    if (!block || full.has(block)) continue;
    const last = broadcastOf(block.subnet) - 1;
    let candidate = cursor.get(block) ?? networkOf(block.subnet).base + FIRST_HOST_OFFSET;
    while (candidate <= last && used.has(candidate)) candidate += 1;
    if (candidate > last) {
      full.add(block);
      const count = network.members.filter((other) => blocks.get(other.host) === block).length;
      const capacity = Math.max(0, last - (networkOf(block.subnet).base + FIRST_HOST_OFFSET) + 1);
      const whose = network.scope === 'per-host' ? `host ${member.host}'s block ${formatCidr(block.subnet)}` : `its subnet ${formatCidr(block.subnet)}`;
      problems.push(
        `network ${network.name}: ${whose} holds ${capacity} containers but ${count} are on it: spread them over more networks${network.scope === 'per-host' ? '' : ' or give the network a larger subnet'}`,
      );
      continue;
    }
    used.set(candidate, member.container);
    addresses.set(member.container, candidate);
    cursor.set(block, candidate + 1);
  }
  return addresses;
}
