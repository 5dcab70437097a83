// What verify should find: per network, which container pairs answer pings and which must stay isolated,
// from each mode's semantics; bounded to a ring for big labs so verify stays linear in containers.
import type { PlannedContainer, ReachabilityExpectation } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import type { LabModel } from './common';

/** Above this many containers, every-pair matrices get too long to ping. */
export const FULL_MATRIX_LIMIT = 24;

export function expectedReachable(network: NetworkSpec, fromHost: string, toHost: string): boolean {
  switch (network.mode) {
    case 'bridge':
    case 'nat':
      // Host-local bridges: another host's block is not routed anywhere.
      return fromHost === toHost;
    case 'macvlan':
      // vepa sends everything to the external switch, which does not hairpin; private forbids it.
      return network.options.macvlanMode === 'bridge' || network.options.macvlanMode === 'passthru' || fromHost !== toHost;
    case 'none':
      return false;
    default:
      return true;
  }
}

interface Endpoint {
  container: string;
  host: string;
  /** Containers in one namespace answer for each other: pairs inside a group are skipped. */
  group: string;
  address: string;
}

function groupOf(planned: PlannedContainer): string {
  return planned.netns ?? `host:${planned.host}`;
}

function endpointsOn(network: string, planned: readonly PlannedContainer[]): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const container of planned) {
    const entry = container.interfaces.find((candidate) => candidate.network === network);
    if (!entry?.address) continue;
    endpoints.push({ container: container.name, host: container.host, group: groupOf(container), address: entry.address.split('/')[0] ?? '' });
  }
  return endpoints;
}

/** Prefers a pair on one host: isolation across hosts is the easy case. */
function pickPair(froms: readonly Endpoint[], tos: readonly Endpoint[], allowed: (from: Endpoint, to: Endpoint) => boolean): [Endpoint, Endpoint] | null {
  let fallback: [Endpoint, Endpoint] | null = null;
  for (const from of froms) {
    for (const to of tos) {
      if (from.group === to.group || !allowed(from, to)) continue;
      if (from.host === to.host) return [from, to];
      fallback ??= [from, to];
    }
  }
  return fallback;
}

export function expectations(model: LabModel, planned: readonly PlannedContainer[]): ReachabilityExpectation[] {
  const result: ReachabilityExpectation[] = [];
  const full = planned.length <= FULL_MATRIX_LIMIT;
  const endpoints = new Map<string, Endpoint[]>();
  for (const network of model.networks.values()) endpoints.set(network.name, endpointsOn(network.name, planned));
  const expect = (from: Endpoint, to: Endpoint, network: string, reachable: boolean): void => {
    result.push({ from: from.container, to: to.container, address: to.address, network, reachable });
  };

  for (const network of model.networks.values()) {
    const list = endpoints.get(network.name) ?? [];
    if (full) {
      for (const from of list) {
        for (const to of list) {
          if (from.group !== to.group) expect(from, to, network.name, expectedReachable(network, from.host, to.host));
        }
      }
    } else if (list.length > 1) {
      list.forEach((from, index) => {
        // The next member in ring order that is not in the same namespace.
        for (let step = 1; step < list.length; step += 1) {
          const to = list[(index + step) % list.length];
          if (to && to.group !== from.group) {
            expect(from, to, network.name, expectedReachable(network, from.host, to.host));
            break;
          }
        }
      });
    }
  }

  // none: the namespace must not reach anyone; one target each (once per network for big labs),
  // preferably a container: a host's own address is the weaker test.
  const hostNetworks = new Set([...model.networks.values()].filter((network) => network.mode === 'host').map((network) => network.name));
  const byKind = [...endpoints].sort(([a], [b]) => Number(hostNetworks.has(a)) - Number(hostNetworks.has(b)));
  const addressed = byKind.flatMap(([, list]) => list);
  for (const network of model.networks.values()) {
    if (network.mode !== 'none') continue;
    const isolated = planned.filter((container) => container.sharesWith === null && container.interfaces.some((entry) => entry.network === network.name));
    for (const container of full ? isolated : isolated.slice(0, 1)) {
      const from: Endpoint = { container: container.name, host: container.host, group: groupOf(container), address: '' };
      const pair = pickPair([from], addressed, () => true);
      if (pair) expect(from, pair[1], network.name, false);
    }
  }

  // nat egress: masqueraded through the host, a nat container reaches another host's address, which
  // a host-mode container there stands for.
  const hostEndpoints = byKind.filter(([name]) => hostNetworks.has(name)).flatMap(([, list]) => list);
  for (const network of model.networks.values()) {
    if (network.mode !== 'nat') continue;
    const members = endpoints.get(network.name) ?? [];
    for (const from of full ? members : members.slice(0, 1)) {
      const to = hostEndpoints.find((candidate) => candidate.host !== from.host);
      if (to) expect(from, to, network.name, true);
    }
  }

  // Different networks of one mode are separate segments: one pair per pair of networks.
  const networks = [...model.networks.values()].filter((network) => network.mode !== 'none' && network.mode !== 'host');
  const groupsOn = new Map([...endpoints].map(([name, list]) => [name, new Set(list.map((endpoint) => endpoint.group))]));
  // A nat interface brings a default route through the host, which forwards to every block it has
  // a route for: only the nat table's own rules keep nat networks apart, so such a namespace proves
  // isolation between nat networks only.
  const defaultRouted = new Set(
    networks.filter((network) => network.mode === 'nat').flatMap((network) => [...(groupsOn.get(network.name) ?? [])]),
  );
  networks.forEach((first, index) => {
    for (const second of networks.slice(index + 1)) {
      if (first.mode !== second.mode) continue;
      const allowed = (from: Endpoint, to: Endpoint, fromNetwork: string, toNetwork: string): boolean =>
        !groupsOn.get(toNetwork)?.has(from.group) && !groupsOn.get(fromNetwork)?.has(to.group) && (first.mode === 'nat' || !defaultRouted.has(from.group));
      const forward = pickPair(endpoints.get(first.name) ?? [], endpoints.get(second.name) ?? [], (from, to) => allowed(from, to, first.name, second.name));
      if (forward) {
        expect(forward[0], forward[1], second.name, false);
        continue;
      }
      const backward = pickPair(endpoints.get(second.name) ?? [], endpoints.get(first.name) ?? [], (from, to) => allowed(from, to, second.name, first.name));
      if (backward) expect(backward[0], backward[1], first.name, false);
    }
  });
  return result;
}
