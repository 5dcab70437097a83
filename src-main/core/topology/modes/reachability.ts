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
  const expect = (from: Endpoint | { container: string }, to: Endpoint, network: string, reachable: boolean): void => {
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

  // none: the namespace must not reach anyone; one target each (once per network for big labs).
  const addressed = [...endpoints.values()].flat();
  for (const network of model.networks.values()) {
    if (network.mode !== 'none') continue;
    const isolated = planned.filter((container) => container.sharesWith === null && container.interfaces.some((entry) => entry.network === network.name));
    for (const container of full ? isolated : isolated.slice(0, 1)) {
      const from: Endpoint = { container: container.name, host: container.host, group: groupOf(container), address: '' };
      const pair = pickPair([from], addressed, () => true);
      if (pair) expect(from, pair[1], network.name, false);
    }
  }

  // Different networks of one mode are separate segments: one pair per pair of networks.
  const networks = [...model.networks.values()].filter((network) => network.mode !== 'none' && network.mode !== 'host');
  const groupsOn = new Map([...endpoints].map(([name, list]) => [name, new Set(list.map((endpoint) => endpoint.group))]));
  networks.forEach((first, index) => {
    for (const second of networks.slice(index + 1)) {
      if (first.mode !== second.mode) continue;
      const pair = pickPair(
        endpoints.get(first.name) ?? [],
        endpoints.get(second.name) ?? [],
        (from, to) => !groupsOn.get(second.name)?.has(from.group) && !groupsOn.get(first.name)?.has(to.group),
      );
      if (pair) expect(pair[0], pair[1], second.name, false);
    }
  });
  return result;
}
