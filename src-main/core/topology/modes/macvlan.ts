// macvlan and ipvlan: a device on a parent NIC created straight into the container's namespace, with an
// address of the network's one shared subnet (all hosts sit on the same underlay L2; no gateway).
import { batchLine } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { addressOf, blockOf, containerIfname, hostInfo, mtuWords, type InterfaceWork, type LabContainer, type PlanInputs } from './common';

export type StackedNetwork = Extract<NetworkSpec, { mode: 'macvlan' | 'ipvlan' }>;

/** The parent NIC on a host: the option, else the management NIC (never null once validated). */
export function parentOf(inputs: PlanInputs, network: StackedNetwork, host: string): string | null {
  return network.options.parent ?? hostInfo(inputs, host).nic?.name ?? null;
}

export function stackedInterface(inputs: PlanInputs, network: StackedNetwork, container: LabContainer, index: number): InterfaceWork {
  const netns = inputs.model.names.netns(container.name);
  const parent = parentOf(inputs, network, container.host);
  if (parent === null) throw new Error(`internal: network ${network.name} has no parent on host ${container.host}`);
  const ifname = containerIfname(index);
  const address = addressOf(inputs, network.name, container.name);
  const cidr = `${address}/${blockOf(inputs, network.name, container.host).subnet.prefix}`;
  const type = network.mode === 'macvlan' ? ['type', 'macvlan', 'mode', network.options.macvlanMode] : ['type', 'ipvlan', 'mode', network.options.ipvlanMode];
  // ipvlan in l3/l3s is NOARP: a gratuitous ARP would only fail.
  const arp = network.mode === 'macvlan' || network.options.ipvlanMode === 'l2';
  return {
    planned: { network: network.name, ifname, address: cidr, hostDevice: parent },
    // Created inside the namespace directly under its final name: the kernel checks the name there,
    // so eth0 is fine although the host has its own eth0 (checked on a 6.x kernel). No ledger
    // entry: the device lives and dies with the container's namespace.
    hostLines: [batchLine(['link', 'add', ifname, 'link', parent, 'netns', netns, ...mtuWords(network.options.mtu), ...type])],
    creates: [],
    addressLines: [batchLine(['addr', 'add', cidr, 'dev', ifname])],
    upLines: [batchLine(['link', 'set', ifname, 'up'])],
    routeLines: [],
    announce: arp ? { ifname, address } : null,
  };
}
