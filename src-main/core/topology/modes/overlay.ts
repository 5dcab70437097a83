// VXLAN overlay with flannel's layout: a bridge and /24 per host, a VTEP holding the block's .0/32, and
// neighbour, FDB and route entries per peer host: written by cnlab itself (static control plane) or by
// the watch agent from the leases in the lab's etcd (controlPlane etcd, etcd-plane.ts).
import { createHash } from 'node:crypto';
import { shellCommand } from '../../shell/quote';
import { formatCidr, formatIpv4 } from '../ipam';
import { batchLine, type PlanStep } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { bridgeStep, vethInterface } from './bridge';
import { aliasWords, blockOf, hostInfo, ipBatch, linkEntry, type InterfaceWork, type LabContainer, type PlanInputs } from './common';
import { isDynamicControlPlane, rangeRoute } from './dynamic-routes';
import { etcdAgentStep, etcdLayout, etcdServerStep } from './etcd-plane';

export type VxlanNetwork = Extract<NetworkSpec, { mode: 'vxlan' }>;

/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;

/** The one MTU of the overlay: explicit, or the smallest participating underlay minus the headers. */
export function vxlanMtu(inputs: PlanInputs, network: VxlanNetwork): number {
  if (network.options.mtu !== 'auto') return network.options.mtu;
  const underlays = (inputs.model.hostsOf.get(network.name) ?? []).map((host) => hostInfo(inputs, host).nic?.mtu ?? 0);
  return Math.min(...underlays) - VXLAN_OVERHEAD;
}

export function vtepName(inputs: PlanInputs, network: string): string {
  return inputs.model.names.link('x', network);
}

/** A locally administered unicast MAC derived from lab, network and host, so peers can be told it in advance. */
export function vtepMac(inputs: PlanInputs, network: string, host: string): string {
  const digest = createHash('sha256').update(`${inputs.model.names.labId}/vtep/${network}/${host}`).digest();
  return ['02', ...[...digest.subarray(0, 5)].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

/** The VTEP's own address: the .0 of the host's block, as flannel does. */
function vtepAddress(inputs: PlanInputs, network: string, host: string): string {
  return formatIpv4(blockOf(inputs, network, host).subnet.base);
}

function peersOf(inputs: PlanInputs, network: string, host: string): string[] {
  return (inputs.model.hostsOf.get(network) ?? []).filter((other) => other !== host);
}

export function vxlanHostSteps(inputs: PlanInputs, network: VxlanNetwork, host: string): PlanStep[] {
  const info = hostInfo(inputs, host);
  if (info.address === null || info.nic === null) throw new Error(`internal: host ${host} has no underlay for network ${network.name}`);
  const mtu = vxlanMtu(inputs, network);
  const vtep = vtepName(inputs, network.name);
  const steps: PlanStep[] = [
    bridgeStep(inputs, network.name, host, mtu),
    {
      id: `net/${network.name}/vtep`,
      phase: 'host',
      description: `VXLAN device ${vtep} (VNI ${network.options.vni}) for network ${network.name} on ${info.nic.name}`,
      creates: [linkEntry(vtep)],
      run: [
        ipBatch(null, [
          [
            'link', 'add', vtep, 'address', vtepMac(inputs, network.name, host), 'type', 'vxlan',
            'id', network.options.vni, 'dstport', network.options.port, 'local', info.address, 'dev', info.nic.name, 'nolearning',
          ],
          aliasWords(inputs.model.names, vtep),
          ['addr', 'add', `${vtepAddress(inputs, network.name, host)}/32`, 'dev', vtep],
          ['link', 'set', 'dev', vtep, 'mtu', mtu],
          ['link', 'set', 'dev', vtep, 'up'],
        ]),
      ],
    },
  ];
  if (network.options.controlPlane === 'etcd') {
    // The peers' entries come from the watch agent; the etcd host starts etcd first.
    const layout = etcdLayout(inputs, network);
    if (layout.host === host) steps.push(etcdServerStep(inputs, network, layout));
    steps.push(etcdAgentStep(inputs, network, layout, host, vtep, vtepMac(inputs, network.name, host)));
    return steps;
  }
  const peers = peersOf(inputs, network.name, host);
  if (peers.length === 0) return steps;
  const lines: string[] = [];
  const fdb: string[] = [];
  for (const peer of peers) {
    const mac = vtepMac(inputs, network.name, peer);
    const peerVtep = vtepAddress(inputs, network.name, peer);
    const peerAddress = hostInfo(inputs, peer).address;
    if (peerAddress === null) throw new Error(`internal: peer ${peer} has no underlay address`);
    lines.push(batchLine(['neigh', 'replace', peerVtep, 'lladdr', mac, 'dev', vtep, 'nud', 'permanent']));
    fdb.push(shellCommand(['bridge', 'fdb', 'append', mac, 'dev', vtep, 'dst', peerAddress]));
    lines.push(batchLine(['route', 'add', formatCidr(blockOf(inputs, network.name, peer).subnet), 'via', peerVtep, 'dev', vtep, 'onlink']));
  }
  steps.push({
    id: `net/${network.name}/peers`,
    phase: 'routes',
    description: `neighbour, FDB and route entries of network ${network.name} towards ${peers.join(', ')}`,
    // They live on the VTEP and go when it is deleted: nothing of their own to undo.
    creates: [],
    run: [{ kind: 'ip-batch', netns: null, lines }, { kind: 'shell', text: fdb.join(' && ') }],
  });
  return steps;
}

/**
 * Container routes to every other host's block of the network via the local gateway; the host forwards
 * them into the VTEP (or the underlay, routed mode). With a dynamic control plane: the network's range.
 */
export function peerRoutes(inputs: PlanInputs, network: string, host: string): (string | number)[][] {
  const gateway = blockOf(inputs, network, host).gateway;
  if (gateway === null) throw new Error(`internal: network ${network} has no gateway on host ${host}`);
  // A dynamic control plane learns the blocks at run time: the whole range goes to the gateway.
  const spec = inputs.model.networks.get(network);
  if (spec && isDynamicControlPlane(spec)) return [rangeRoute(inputs, network, formatIpv4(gateway))];
  return peersOf(inputs, network, host).map((peer) => [formatCidr(blockOf(inputs, network, peer).subnet), 'via', formatIpv4(gateway)]);
}

export function vxlanInterface(inputs: PlanInputs, network: VxlanNetwork, container: LabContainer, index: number): InterfaceWork {
  return vethInterface(inputs, {
    network: network.name,
    container,
    index,
    mtu: vxlanMtu(inputs, network),
    routes: peerRoutes(inputs, network.name, container.host),
  });
}
