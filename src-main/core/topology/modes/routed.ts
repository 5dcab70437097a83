// Routed networks, Calico's layout: a bridge and /24 per host, and a plain route per peer host's block via
// that host's underlay address, written by cnlab (static control plane) or learned by BIRD over iBGP
// (controlPlane bgp, bgp-plane.ts). No encapsulation at all.
import { shellCommand } from '../../shell/quote';
import { formatCidr } from '../ipam';
import { batchLine, type LedgerEntry, type PlanStep } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { birdStep } from './bgp-plane';
import { bridgeStep, vethInterface } from './bridge';
import { blockOf, hostInfo, type InterfaceWork, type LabContainer, type PlanInputs } from './common';
import { peerRoutes } from './overlay';

export type RoutedNetwork = Extract<NetworkSpec, { mode: 'routed' }>;

export function routedHostSteps(inputs: PlanInputs, network: RoutedNetwork, host: string): PlanStep[] {
  const steps = [bridgeStep(inputs, network.name, host, network.options.mtu ?? null)];
  if (network.options.controlPlane === 'bgp') return [...steps, birdStep(inputs, network, host)];
  const peers = (inputs.model.hostsOf.get(network.name) ?? []).filter((other) => other !== host);
  if (peers.length === 0) return steps;
  const lines: string[] = [];
  const creates: LedgerEntry[] = [];
  for (const peer of peers) {
    const block = formatCidr(blockOf(inputs, network.name, peer).subnet);
    const via = hostInfo(inputs, peer).address;
    if (via === null) throw new Error(`internal: peer ${peer} has no underlay address`);
    // "add", not "replace": a route someone else owns for this prefix makes the step fail instead of
    // being silently taken over (and later deleted by our undo).
    lines.push(batchLine(['route', 'add', block, 'via', via]));
    creates.push({ kind: 'route', name: `${block} via ${via}`, undo: shellCommand(['ip', 'route', 'del', block, 'via', via]) });
  }
  steps.push({
    id: `net/${network.name}/routes`,
    phase: 'routes',
    description: `routes of network ${network.name} to the blocks of ${peers.join(', ')}`,
    creates,
    run: [{ kind: 'ip-batch', netns: null, lines }],
  });
  return steps;
}

export function routedInterface(inputs: PlanInputs, network: RoutedNetwork, container: LabContainer, index: number): InterfaceWork {
  return vethInterface(inputs, {
    network: network.name,
    container,
    index,
    mtu: network.options.mtu ?? null,
    routes: peerRoutes(inputs, network.name, container.host),
  });
}
