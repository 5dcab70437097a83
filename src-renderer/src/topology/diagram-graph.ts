// The live diagram's graph, built from a topology alone: the underlay, each host, the devices each host
// will hold for its networks (bridge, vxlan, macvlan/ipvlan parent), the containers and their links.
import { expandedContainerNames, type NetworkMode } from '@contract/topology';
import type { ContainerDraft, NetworkDraft, TopologyDraft } from './topology-draft';

export type DiagramNodeKind = 'underlay' | 'host' | 'device' | 'container';
export type DeviceKind = 'bridge' | 'vxlan' | 'parent';

export interface DiagramNode {
  /** "underlay", "host:h1", "dev:h1:lan", "dev:h1:ov:vxlan", "ctr:web1" — also the key of the saved layout. */
  id: string;
  kind: DiagramNodeKind;
  label: string;
  host?: string;
  network?: string;
  mode?: NetworkMode;
  deviceKind?: DeviceKind;
  /** Containers attached to a device. */
  members?: string[];
  /** A container's group in the file (web for web1..web3). */
  group?: string;
}

export type DiagramEdgeKind = 'underlay' | 'device' | 'attachment' | 'overlay' | 'netns';

export interface DiagramEdge {
  source: string;
  target: string;
  kind: DiagramEdgeKind;
}

export interface DiagramGraph {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

export const UNDERLAY_ID = 'underlay';
export const hostNodeId = (host: string) => `host:${host}`;
export const deviceNodeId = (host: string, network: string) => `dev:${host}:${network}`;
export const vxlanNodeId = (host: string, network: string) => `dev:${host}:${network}:vxlan`;
export const containerNodeId = (container: string) => `ctr:${container}`;

const BRIDGED: readonly NetworkMode[] = ['bridge', 'nat', 'routed', 'vxlan'];

function deviceLabel(network: NetworkDraft): string {
  if (network.mode === 'macvlan' || network.mode === 'ipvlan') {
    const parent = typeof network.options?.parent === 'string' ? network.options.parent : 'parent NIC';
    return `${parent} (${network.mode} ${network.name})`;
  }
  return `bridge ${network.name}`;
}

/** The hosts in the file's order, then any host a container names that the list lacks. */
function hostsOf(draft: TopologyDraft): string[] {
  return [...new Set([...draft.hosts, ...draft.containers.map((container) => container.host).filter((host) => host !== '')])];
}

function containerNames(container: ContainerDraft): string[] {
  return container.name ? expandedContainerNames(container.name, container.count ?? undefined) : [];
}

export function buildDiagramGraph(draft: TopologyDraft): DiagramGraph {
  const nodes: DiagramNode[] = [{ id: UNDERLAY_ID, kind: 'underlay', label: 'underlay (management network)' }];
  const edges: DiagramEdge[] = [];
  const networks = new Map(draft.networks.map((network) => [network.name, network]));
  const devices = new Map<string, DiagramNode>();
  const vxlanByNetwork = new Map<string, string[]>();

  for (const host of hostsOf(draft)) {
    nodes.push({ id: hostNodeId(host), kind: 'host', label: host, host });
    edges.push({ source: hostNodeId(host), target: UNDERLAY_ID, kind: 'underlay' });
    const used = new Set(draft.containers.filter((container) => container.host === host).flatMap((container) => container.networks ?? []));
    for (const network of draft.networks) {
      if (!used.has(network.name) || network.mode === 'none' || network.mode === 'host') continue;
      const device: DiagramNode = {
        id: deviceNodeId(host, network.name),
        kind: 'device',
        label: deviceLabel(network),
        host,
        network: network.name,
        mode: network.mode,
        deviceKind: BRIDGED.includes(network.mode) ? 'bridge' : 'parent',
        members: [],
      };
      nodes.push(device);
      devices.set(device.id, device);
      edges.push({ source: device.id, target: hostNodeId(host), kind: 'device' });
      if (network.mode === 'vxlan') {
        const vxlan = vxlanNodeId(host, network.name);
        nodes.push({ id: vxlan, kind: 'device', label: `vxlan ${network.name}`, host, network: network.name, mode: 'vxlan', deviceKind: 'vxlan', members: [] });
        edges.push({ source: vxlan, target: device.id, kind: 'device' });
        vxlanByNetwork.set(network.name, [...(vxlanByNetwork.get(network.name) ?? []), vxlan]);
      }
    }
  }

  // Every VTEP of a network talks to every other one (static full mesh, or learnt through etcd).
  for (const vteps of vxlanByNetwork.values()) {
    vteps.forEach((source, index) => vteps.slice(index + 1).forEach((target) => edges.push({ source, target, kind: 'overlay' })));
  }

  const allNames = new Set(draft.containers.flatMap(containerNames));
  for (const container of draft.containers) {
    for (const name of containerNames(container)) {
      const id = containerNodeId(name);
      nodes.push({ id, kind: 'container', label: name, host: container.host, group: container.name });
      let linked = false;
      for (const networkName of container.networks ?? []) {
        const device = devices.get(deviceNodeId(container.host, networkName));
        if (!device) continue;
        device.members?.push(name);
        edges.push({ source: id, target: device.id, kind: 'attachment' });
        linked = true;
      }
      const owner = typeof container.shareNetnsWith === 'string' ? container.shareNetnsWith : null;
      if (owner && allNames.has(owner)) {
        edges.push({ source: id, target: containerNodeId(owner), kind: 'netns' });
        linked = true;
      }
      // Host-mode and network-less containers still belong to their host on the picture.
      const hostMode = (container.networks ?? []).some((networkName) => networks.get(networkName)?.mode === 'host');
      if ((!linked || hostMode) && container.host) edges.push({ source: id, target: hostNodeId(container.host), kind: hostMode ? 'netns' : 'device' });
    }
  }
  return { nodes, edges };
}
