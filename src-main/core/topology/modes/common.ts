// The lab as the mode planners see it: containers expanded, networks indexed, each host's management
// facts resolved, addresses allocated; plus the step and ledger builders every mode shares.
import { isIPv4 } from 'node:net';
import type { HostFacts, Nic } from '../../hosts/host-facts';
import { shellCommand } from '../../shell/quote';
import { formatIpv4, parseCidr, type AddressBlock, type Cidr, type NetworkAllocation } from '../ipam';
import { expandedNames, labNames, type LabNames } from '../naming';
import { batchLine, type LedgerEntry, type PlannedInterface, type PlanStep, type StepCommand } from '../plan';
import type { NetworkMode, NetworkSpec, TopologySpec } from '../topology-schema';

export interface PlanContext {
  /** Probed facts of every host the topology names (by inventory name). */
  facts: Record<string, HostFacts>;
  /** The address cnlab reaches each host at (its management/underlay address). */
  managementAddress: Record<string, string>;
  /**
   * Plan the first-reply measurement of each container (modes/first-reply.ts), which only timed
   * applies run. Off by default: it changes nothing on the hosts and is not part of the fingerprint.
   */
  measureFirstReply?: boolean;
}

export interface LabContainer {
  name: string;
  host: string;
  networks: readonly string[];
  shareNetnsWith: string | null;
  addresses: Readonly<Record<string, string>>;
  cpuset: string | null;
  /** The spec entry it came from, for messages about `count`. */
  source: { name: string; count: number | undefined };
}

export function expandContainers(spec: TopologySpec): LabContainer[] {
  return spec.containers.flatMap((entry) =>
    expandedNames(entry.name, entry.count).map((name) => ({
      name,
      host: entry.host,
      networks: entry.networks,
      shareNetnsWith: entry.shareNetnsWith ?? null,
      addresses: entry.addresses ?? {},
      cpuset: entry.cpuset ?? null,
      source: { name: entry.name, count: entry.count },
    })),
  );
}

/** Modes that give a container no address of its own to allocate. */
export const ADDRESSLESS_MODES: ReadonlySet<NetworkMode> = new Set(['none', 'host']);

export interface LabModel {
  spec: TopologySpec;
  names: LabNames;
  networks: ReadonlyMap<string, NetworkSpec>;
  containers: readonly LabContainer[];
  /** Containers on each network in order of appearance (sharers list no networks of their own). */
  members: ReadonlyMap<string, readonly LabContainer[]>;
  /** Hosts with members on each network, in topology order. */
  hostsOf: ReadonlyMap<string, readonly string[]>;
}

/** Builds the model of a structurally valid spec (validate.ts has refused the rest). */
export function buildModel(spec: TopologySpec): LabModel {
  const containers = expandContainers(spec);
  const networks = new Map(spec.networks.map((network) => [network.name, network]));
  const members = new Map<string, LabContainer[]>(spec.networks.map((network) => [network.name, []]));
  for (const container of containers) {
    for (const network of container.networks) members.get(network)?.push(container);
  }
  const hostsOf = new Map<string, string[]>();
  for (const [network, list] of members) {
    const used = new Set(list.map((container) => container.host));
    hostsOf.set(network, spec.hosts.filter((host) => used.has(host)));
  }
  return {
    spec,
    names: labNames(spec.name),
    networks,
    containers,
    members,
    hostsOf,
  };
}

export interface HostInfo {
  name: string;
  facts: HostFacts;
  /** The IPv4 address cnlab reaches the host at; the underlay address of multi-host modes. */
  address: string | null;
  /** The NIC that carries the management address (never given to a container). */
  nic: Nic | null;
  /** The host's IPv4 prefixes, except this lab's own links (a re-plan must not trip over them). */
  prefixes: { cidr: Cidr; nic: string }[];
}

/** Every link of a lab starts with "c" + its 4-hex lab tag (naming.ts). */
export function labLinkPrefix(names: LabNames): string {
  return names.link('b', '').slice(0, 5);
}

export function resolveHost(name: string, facts: HostFacts, context: PlanContext, names: LabNames): HostInfo {
  const given = context.managementAddress[name];
  const address = given !== undefined && isIPv4(given) ? given : facts.management.address !== null && isIPv4(facts.management.address) ? facts.management.address : null;
  const nic =
    facts.nics.find((candidate) => candidate.name === facts.management.nic) ??
    facts.nics.find((candidate) => candidate.isManagement) ??
    (address === null ? undefined : facts.nics.find((candidate) => candidate.addresses.some((cidr) => cidr.split('/')[0] === address))) ??
    null;
  const own = labLinkPrefix(names);
  const prefixes = facts.nics
    .filter((candidate) => !candidate.name.startsWith(own))
    .flatMap((candidate) =>
      candidate.addresses.flatMap((text) => {
        const cidr = parseCidr(text);
        return cidr ? [{ cidr, nic: candidate.name }] : [];
      }),
    );
  return { name, facts, address, nic, prefixes };
}

export interface PlanInputs {
  model: LabModel;
  hosts: ReadonlyMap<string, HostInfo>;
  ipam: ReadonlyMap<string, NetworkAllocation>;
}

export function hostInfo(inputs: PlanInputs, host: string): HostInfo {
  const info = inputs.hosts.get(host);
  if (!info) throw new Error(`internal: no facts resolved for host ${host}`);
  return info;
}

export function allocationOf(inputs: PlanInputs, network: string): NetworkAllocation {
  const allocation = inputs.ipam.get(network);
  if (!allocation) throw new Error(`internal: network ${network} has no address allocation`);
  return allocation;
}

export function blockOf(inputs: PlanInputs, network: string, host: string): AddressBlock {
  const block = allocationOf(inputs, network).blocks.get(host);
  if (!block) throw new Error(`internal: network ${network} has no block on host ${host}`);
  return block;
}

export function addressOf(inputs: PlanInputs, network: string, container: string): string {
  const address = allocationOf(inputs, network).addresses.get(container);
  if (address === undefined) throw new Error(`internal: container ${container} has no address on network ${network}`);
  return formatIpv4(address);
}

/** What one interface of a container adds to the container's steps. */
export interface InterfaceWork {
  planned: PlannedInterface;
  /** `ip -batch` lines in the host namespace that create the interface (the links step). */
  hostLines: string[];
  creates: LedgerEntry[];
  /** Lines inside the container's namespace. */
  addressLines: string[];
  upLines: string[];
  routeLines: string[];
  /** Announce the address with a gratuitous ARP once the link is up. */
  announce: { ifname: string; address: string } | null;
}

/** Interface names inside a container follow its network list: eth0, eth1, ... */
export function containerIfname(index: number): string {
  return `eth${index}`;
}

export function ipBatch(netns: string | null, lines: readonly (readonly (string | number)[])[]): StepCommand {
  return { kind: 'ip-batch', netns, lines: lines.map((words) => batchLine(words)) };
}

export function linkEntry(name: string): LedgerEntry {
  return { kind: 'link', name, undo: shellCommand(['ip', 'link', 'del', name]) };
}

/** Sweep finds a lab's links by this alias even when the ledger is gone. */
export function aliasWords(names: LabNames, link: string): string[] {
  return ['link', 'set', 'dev', link, 'alias', names.linkAlias];
}

export function mtuWords(mtu: number | null | undefined): (string | number)[] {
  return mtu == null ? [] : ['mtu', mtu];
}

/** Forwarding is per host and restored by the runtime, which rewrites this step with the old value. */
export function forwardingStep(): PlanStep {
  return {
    id: 'host/forwarding',
    phase: 'host',
    description: 'enable IPv4 forwarding',
    creates: [{ kind: 'sysctl', name: 'net.ipv4.ip_forward', undo: shellCommand(['sysctl', '-qw', 'net.ipv4.ip_forward=0']) }],
    run: [{ kind: 'shell', text: shellCommand(['sysctl', '-qw', 'net.ipv4.ip_forward=1']) }],
  };
}

/** The modes that route through the host and so need forwarding on. */
export const FORWARDING_MODES: ReadonlySet<NetworkMode> = new Set(['nat', 'vxlan', 'routed']);
