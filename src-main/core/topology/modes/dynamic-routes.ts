// What the dynamic control planes (vxlan + etcd, routed + bgp) share: the network's range, which their
// daemons are confined to, and the containers' one route to it. With a dynamic control plane the
// containers do not know the other hosts' blocks in advance (a block may appear later): like Flannel's
// and Calico's CNI configs, they route the whole range to their gateway and the host decides.
import { formatCidr, networkOf, parseCidr, type Cidr } from '../ipam';
import type { NetworkSpec } from '../topology-schema';
import type { LabModel, PlanInputs } from './common';

export function isDynamicControlPlane(network: NetworkSpec): boolean {
  return (network.mode === 'vxlan' && network.options.controlPlane === 'etcd') || (network.mode === 'routed' && network.options.controlPlane === 'bgp');
}

/** The network's own subnet, else the lab's address pool: every block of the network lies inside it. */
export function networkRange(inputs: Pick<PlanInputs, 'model'>, network: string): Cidr {
  return rangeOf(inputs.model, network);
}

export function rangeOf(model: LabModel, network: string): Cidr {
  const spec = model.networks.get(network);
  const text = spec?.subnet ?? model.spec.addressPool;
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`internal: network ${network} has no valid range (${text})`);
  return networkOf(cidr);
}

/** Metrics of the range routes start here; each network of the lab has its own (see rangeRoute). */
export const RANGE_ROUTE_METRIC = 100;

/**
 * The container route of a dynamic network: the whole range via the host's gateway. Two dynamic networks
 * of one container usually share the range (the lab's pool), so each network's route carries its own
 * metric (from its place in the topology) and both can exist; the host routes either way.
 */
export function rangeRoute(inputs: Pick<PlanInputs, 'model'>, network: string, gateway: string): (string | number)[] {
  const index = inputs.model.spec.networks.findIndex((candidate) => candidate.name === network);
  return [formatCidr(networkRange(inputs, network)), 'via', gateway, 'metric', RANGE_ROUTE_METRIC + Math.max(0, index)];
}
