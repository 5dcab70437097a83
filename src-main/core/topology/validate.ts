// Refusals before anything runs: a topology that names what does not exist, or asks a host for what its
// probed facts say it cannot do. Each problem is one line naming the element and the fix.
import type { KernelFeature } from '../hosts/host-facts';
import { cidrContains, parseIpv4 } from './ipam';
import { ADDRESSLESS_MODES, expandContainers, type HostInfo, type LabContainer, type LabModel, type PlanContext } from './modes/common';
import { controlPlaneLabProblems, controlPlaneProblems } from './modes/control-planes';
import { VXLAN_OVERHEAD } from './modes/overlay';
import { shapingProblems, underlayStructureProblems } from './modes/shaping';
import { MODE_FEATURES, type NetworkSpec, type TopologySpec } from './topology-schema';

export { MODE_FEATURES } from './topology-schema';

/** Below this the overlay could not carry IPv6 (its minimum link MTU). */
export const MIN_OVERLAY_MTU = 1280;

/** Step ids a container named "net" would share with a network's host step. */
const CONTAINER_STEP_SUFFIXES = new Set(['netns', 'links', 'addresses', 'link-up', 'shaping', 'first-reply', 'cni', 'create', 'start']);

function describeSource(container: LabContainer): string {
  return container.source.count === undefined ? `container ${container.name}` : `container ${container.source.name} with count ${container.source.count}`;
}

/** Names and references: problems here make the rest of the checks meaningless, so they come alone. */
export function structureProblems(spec: TopologySpec, context: PlanContext): string[] {
  const problems: string[] = [];
  const hosts = new Set<string>();
  for (const host of spec.hosts) {
    if (hosts.has(host)) problems.push(`host ${host} is listed twice in hosts: list each host once`);
    hosts.add(host);
  }
  for (const host of hosts) {
    if (!Object.hasOwn(context.facts, host)) problems.push(`host ${host} has no probed facts: run \`cnlab hosts probe ${host}\``);
  }

  const networks = new Map<string, NetworkSpec>();
  for (const network of spec.networks) {
    if (networks.has(network.name)) problems.push(`network ${network.name} is defined twice: give each network its own name`);
    else networks.set(network.name, network);
  }

  const containers = expandContainers(spec);
  const byName = new Map<string, LabContainer>();
  for (const container of containers) {
    const earlier = byName.get(container.name);
    if (earlier) {
      problems.push(`container name ${container.name} is used twice (by ${describeSource(earlier)} and by ${describeSource(container)}): rename one of them`);
      continue;
    }
    byName.set(container.name, container);
  }

  const networkList = [...networks.keys()].join(', ') || 'none defined';
  for (const container of byName.values()) {
    const name = container.name;
    // Expanded copies share one spec entry: report its problems once, under the entry's name.
    if (container.source.count !== undefined && name !== `${container.source.name}1`) continue;
    const label = container.source.count === undefined ? `container ${name}` : `container ${container.source.name} (count ${container.source.count})`;
    if (!hosts.has(container.host)) {
      problems.push(`${label}: host ${container.host} is not in the topology's hosts (${spec.hosts.join(', ')}): add it to hosts or use one of them`);
    }
    const seen = new Set<string>();
    for (const networkName of container.networks) {
      if (seen.has(networkName)) problems.push(`${label} lists network ${networkName} twice: list it once`);
      seen.add(networkName);
      const network = networks.get(networkName);
      if (!network) {
        problems.push(`${label}: network ${networkName} is not defined (networks: ${networkList}): add it to networks or fix the name`);
        continue;
      }
      if (container.networks.length > 1 && network.mode === 'host') {
        problems.push(`${label}: network ${networkName} (mode host) runs it in the host's own namespace, so it cannot have other networks: list ${networkName} alone`);
      }
      if (container.networks.length > 1 && network.mode === 'none') {
        problems.push(`${label}: network ${networkName} (mode none) leaves it only a loopback interface, so it cannot have other networks: list ${networkName} alone`);
      }
    }
    for (const networkName of Object.keys(container.addresses)) {
      const network = networks.get(networkName);
      if (!container.networks.includes(networkName)) {
        problems.push(`${label}: addresses names network ${networkName}, which the container is not on: add it to networks or remove the address`);
      } else if (network && ADDRESSLESS_MODES.has(network.mode)) {
        problems.push(`${label}: network ${networkName} (mode ${network.mode}) gives no address to set: remove addresses.${networkName}`);
      }
    }
    if (name === 'net') {
      for (const networkName of networks.keys()) {
        if (CONTAINER_STEP_SUFFIXES.has(networkName)) {
          problems.push(`container net: its plan step net/${networkName} would collide with the host step of network ${networkName}: rename the container or the network`);
        }
      }
    }
    if (container.shareNetnsWith !== null) {
      const ownerName = container.shareNetnsWith;
      const owner = byName.get(ownerName);
      if (ownerName === name) {
        problems.push(`container ${name}: shareNetnsWith names the container itself: name another container`);
      } else if (!owner) {
        problems.push(`container ${name}: shareNetnsWith names ${ownerName}, which is not a container of this topology: name an existing container`);
      } else if (owner.shareNetnsWith !== null) {
        problems.push(`container ${name} shares the namespace of ${ownerName}, which itself shares that of ${owner.shareNetnsWith}: share with ${owner.shareNetnsWith} directly`);
      } else if (owner.host !== container.host) {
        problems.push(`container ${name} is on host ${container.host} but shares the namespace of ${ownerName} on host ${owner.host}: put both on the same host`);
      }
    }
  }
  problems.push(...underlayStructureProblems(spec));
  return problems;
}

function featureProblem(network: NetworkSpec, feature: KernelFeature, host: HostInfo): string | null {
  const support = host.facts.kernelFeatures[feature];
  if (support?.supported === true) return null;
  const reason = support?.reason ? ` (${support.reason})` : '';
  if (support?.supported === false) {
    return `network ${network.name}: ${feature} is not available on host ${host.name}: its kernel has no ${feature} support${reason}`;
  }
  return `network ${network.name}: ${feature} support on host ${host.name} could not be probed${reason}: run \`cnlab hosts probe ${host.name}\` as root or with passwordless sudo so the probe can try it`;
}

function nicNames(host: HostInfo): string {
  return host.facts.nics.map((nic) => nic.name).join(', ') || 'none found';
}

/** Checks against the hosts' facts; `model` comes from a spec that passed structureProblems. */
export function factProblems(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): string[] {
  const problems: string[] = [];
  const host = (name: string): HostInfo => {
    const info = hosts.get(name);
    if (!info) throw new Error(`internal: no facts resolved for host ${name}`);
    return info;
  };
  const addressNeeded = new Set<string>();
  const needAddress = (hostName: string, what: string): boolean => {
    if (host(hostName).address !== null) return true;
    if (!addressNeeded.has(hostName)) {
      addressNeeded.add(hostName);
      problems.push(
        `host ${hostName}: its management IPv4 address is unknown, and ${what} needs it: give the host's inventory entry its IP address or run \`cnlab hosts probe ${hostName}\``,
      );
    }
    return false;
  };

  const vxlanIds = new Map<string, string>();
  for (const network of model.networks.values()) {
    const participants = model.hostsOf.get(network.name) ?? [];
    for (const hostName of participants) {
      for (const feature of MODE_FEATURES[network.mode]) {
        const problem = featureProblem(network, feature, host(hostName));
        if (problem) problems.push(problem);
      }
    }
    switch (network.mode) {
      case 'vxlan': {
        problems.push(...controlPlaneProblems(network, participants.map(host)));
        const key = `${network.options.vni}/${network.options.port}`;
        const holder = vxlanIds.get(key);
        if (holder !== undefined && participants.some((name) => (model.hostsOf.get(holder) ?? []).includes(name))) {
          problems.push(`network ${network.name}: VNI ${network.options.vni} on port ${network.options.port} is already used by network ${holder}: set another options.vni`);
        }
        vxlanIds.set(key, network.name);
        problems.push(...vxlanMtuProblems(network, participants.map(host)));
        for (const hostName of participants) needAddress(hostName, `network ${network.name} (mode vxlan, its VTEP address)`);
        break;
      }
      case 'routed': {
        problems.push(...controlPlaneProblems(network, participants.map(host)));
        const known = participants.filter((name) => needAddress(name, `network ${network.name} (mode routed, the next hop of its routes)`));
        problems.push(...routedUnderlayProblems(network, known.map(host)));
        break;
      }
      case 'nat':
        for (const hostName of participants) needAddress(hostName, `network ${network.name} (mode nat, its published ports)`);
        break;
      case 'macvlan':
      case 'ipvlan':
        problems.push(...stackedProblems(model, network, participants.map(host)));
        break;
      default:
        break;
    }
  }
  problems.push(...natPortProblems(model));
  problems.push(...controlPlaneLabProblems(model));
  problems.push(...shapingProblems(model, hosts));
  for (const container of model.containers) {
    const only = container.networks.length === 1 ? model.networks.get(container.networks[0] ?? '') : undefined;
    if (only?.mode === 'host') needAddress(container.host, `container ${container.name} (host mode)`);
  }
  return problems;
}

function vxlanMtuProblems(network: Extract<NetworkSpec, { mode: 'vxlan' }>, participants: readonly HostInfo[]): string[] {
  const problems: string[] = [];
  let smallest: { host: HostInfo; mtu: number } | null = null;
  for (const info of participants) {
    if (info.nic === null) {
      problems.push(`network ${network.name}: host ${info.name} has no known management NIC to carry the VXLAN underlay: run \`cnlab hosts probe ${info.name}\``);
      continue;
    }
    if (info.nic.mtu === null) {
      problems.push(`network ${network.name}: the MTU of ${info.nic.name}, the underlay NIC of host ${info.name}, is unknown: run \`cnlab hosts probe ${info.name}\``);
      continue;
    }
    const room = info.nic.mtu - VXLAN_OVERHEAD;
    if (room < MIN_OVERLAY_MTU) {
      problems.push(
        `network ${network.name}: host ${info.name}'s underlay ${info.nic.name} has MTU ${info.nic.mtu}, which leaves ${room} for VXLAN (${VXLAN_OVERHEAD} bytes of headers), below the minimum ${MIN_OVERLAY_MTU}: raise the MTU of ${info.nic.name} or use mode routed`,
      );
    }
    if (!smallest || info.nic.mtu < smallest.mtu) smallest = { host: info, mtu: info.nic.mtu };
  }
  const explicit = network.options.mtu;
  if (smallest && explicit !== 'auto' && explicit > smallest.mtu - VXLAN_OVERHEAD) {
    problems.push(
      `network ${network.name}: mtu ${explicit} does not fit the underlay: ${smallest.host.nic?.name ?? '?'} on host ${smallest.host.name} has MTU ${smallest.mtu} and VXLAN takes ${VXLAN_OVERHEAD} bytes, so at most ${smallest.mtu - VXLAN_OVERHEAD}: lower options.mtu or use mtu: auto`,
    );
  }
  return problems;
}

/** Plain routes need every peer's address on a subnet the host is directly on. */
function routedUnderlayProblems(network: NetworkSpec, participants: readonly HostInfo[]): string[] {
  const problems: string[] = [];
  for (const info of participants) {
    const ownPrefixes = info.prefixes.filter((prefix) => prefix.cidr.prefix < 32);
    if (ownPrefixes.length === 0) continue;
    for (const peer of participants) {
      if (peer === info || peer.address === null) continue;
      const address = parseIpv4(peer.address);
      if (address === null || ownPrefixes.some((prefix) => cidrContains(prefix.cidr, address))) continue;
      problems.push(
        `network ${network.name}: host ${peer.name}'s address ${peer.address} is not on any subnet of host ${info.name}, and routed mode sends plain packets to it as the next hop: put the hosts on one subnet or use mode vxlan`,
      );
    }
  }
  return problems;
}

function stackedProblems(model: LabModel, network: Extract<NetworkSpec, { mode: 'macvlan' | 'ipvlan' }>, participants: readonly HostInfo[]): string[] {
  const problems: string[] = [];
  const members = model.members.get(network.name) ?? [];
  for (const info of participants) {
    const parentName = network.options.parent ?? info.nic?.name ?? null;
    if (parentName === null) {
      problems.push(`network ${network.name}: host ${info.name} has no known management NIC to use as parent: set options.parent or run \`cnlab hosts probe ${info.name}\``);
      continue;
    }
    const parent = info.facts.nics.find((nic) => nic.name === parentName);
    if (!parent) {
      problems.push(`network ${network.name}: parent ${parentName} does not exist on host ${info.name} (its NICs: ${nicNames(info)}): set options.parent to one of them`);
      continue;
    }
    if (network.mode === 'macvlan' && network.options.macvlanMode === 'passthru') {
      if (parent.name === info.nic?.name || parent.isManagement) {
        problems.push(
          `network ${network.name}: macvlan passthru on ${parent.name} would give host ${info.name}'s management NIC to one container and cut cnlab's SSH connection: set options.parent to another NIC or use macvlanMode bridge`,
        );
      }
      const onHost = members.filter((member) => member.host === info.name).length;
      if (onHost > 1) {
        problems.push(
          `network ${network.name}: macvlan passthru gives all of ${parent.name} to one container, but host ${info.name} has ${onHost} containers on it: keep one per host or use macvlanMode bridge`,
        );
      }
    }
    const mtu = network.options.mtu;
    if (mtu !== undefined && parent.mtu !== null && mtu > parent.mtu) {
      problems.push(`network ${network.name}: mtu ${mtu} is larger than the MTU ${parent.mtu} of its parent ${parent.name} on host ${info.name}: lower options.mtu`);
    }
  }
  return problems;
}

/** Published host ports: one per container and port, from each nat network's hostPortBase, per host. */
function natPortProblems(model: LabModel): string[] {
  const problems: string[] = [];
  for (const hostName of model.spec.hosts) {
    const ranges: { network: string; first: number; last: number }[] = [];
    for (const network of model.networks.values()) {
      if (network.mode !== 'nat' || network.options.publish.length === 0) continue;
      const count = (model.members.get(network.name) ?? []).filter((member) => member.host === hostName).length;
      if (count === 0) continue;
      const first = network.options.hostPortBase;
      const last = first + count * network.options.publish.length - 1;
      if (last > 65535) {
        problems.push(`network ${network.name}: host ${hostName} needs host ports ${first}-${last}, past 65535: lower options.hostPortBase or publish fewer ports`);
      }
      for (const other of ranges) {
        if (first <= other.last && other.first <= last) {
          problems.push(
            `network ${network.name}: host ports ${first}-${last} on host ${hostName} collide with network ${other.network}'s ${other.first}-${other.last}: set options.hostPortBase of ${network.name} to ${other.last + 1} or higher`,
          );
        }
      }
      ranges.push({ network: network.name, first, last });
    }
  }
  return problems;
}
