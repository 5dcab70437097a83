// The last phase of a container's launch-time breakdown: how long after its link is up it gets its first
// ping reply, measured on the host by timed applies (apply-script renders the bounded ping loop).
//
// Whom it pings: on bridge, nat, vxlan and routed networks the gateway of its block (the .1 on the
// host's bridge), which exists before any container. macvlan and ipvlan have no gateway: there it
// pings the first earlier container of the same network on the same host (a timed apply runs a host's
// steps in plan order, so that one is up; containers of other hosts may not be, as hosts run in
// parallel), provided the mode lets them reach each other (not vepa or private); the first such
// container of a host has no peer yet and gets no first-reply step. So do none and host containers,
// which have no link of their own. A namespace-sharing container (container mode, a pod) pings what its
// owner pings, from the shared namespace: it answers on the owner's address and has no link of its own,
// so its first reply says when its processes can use the owner's network.
import { formatIpv4 } from '../ipam';
import type { PlannedContainer, PlanStep } from '../plan';
import type { NetworkMode } from '../topology-schema';
import { blockOf, type PlanInputs } from './common';
import { expectedReachable } from './reachability';

const GATEWAY_MODES: ReadonlySet<NetworkMode> = new Set(['bridge', 'nat', 'vxlan', 'routed']);

interface Target {
  address: string;
  what: string;
}

function targetOf(inputs: PlanInputs, container: PlannedContainer, earlier: readonly PlannedContainer[]): Target | null {
  for (const entry of container.interfaces) {
    const network = inputs.model.networks.get(entry.network);
    if (!network || entry.address === null) continue;
    if (GATEWAY_MODES.has(network.mode)) {
      const gateway = blockOf(inputs, network.name, container.host).gateway;
      if (gateway !== null) return { address: formatIpv4(gateway), what: `the gateway of network ${network.name}` };
    } else if ((network.mode === 'macvlan' || network.mode === 'ipvlan') && expectedReachable(network, container.host, container.host)) {
      for (const peer of earlier) {
        if (peer.host !== container.host || peer.netns === container.netns) continue;
        const address = peer.interfaces.find((candidate) => candidate.network === network.name)?.address;
        if (address) return { address: address.split('/')[0] ?? address, what: `${peer.name} on network ${network.name}` };
      }
    }
  }
  return null;
}

/**
 * The first-reply step of a container, planned only for timed applies; `earlier` are the containers
 * planned before it (any host). Null when there is nothing to ping (see the top of this file).
 */
export function firstReplyStep(inputs: PlanInputs, container: PlannedContainer, earlier: readonly PlannedContainer[]): PlanStep | null {
  if (container.netns === null) return null;
  const target = targetOf(inputs, container, earlier);
  if (target === null) return null;
  const from = container.sharesWith !== null ? `, from the namespace it shares with ${container.sharesWith}` : '';
  return {
    id: `${container.name}/first-reply`,
    phase: 'first-reply',
    container: container.name,
    description: `time until the first ping reply from ${target.address} (${target.what}${from})`,
    creates: [],
    run: [{ kind: 'first-reply', netns: container.netns, address: target.address }],
  };
}
