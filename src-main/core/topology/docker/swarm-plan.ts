// Swarm for the docker runtime's overlay (a vxlan network under runtime docker): Docker's overlay driver
// needs its hosts in one swarm. When none of the lab's overlay hosts is in a swarm, cnlab initialises one
// on the first of them (the manager) and joins the others as workers, each recorded in that host's ledger
// so teardown and rollback leave it again; when all of them already are in a swarm with a manager among
// them, cnlab uses it and never leaves it. Any other mix is refused: cnlab joins or leaves only a swarm it
// initialised itself. The worker's join token comes from the manager once its script ran (lab-service.ts),
// through a root-only file in the lab's folder on the worker's tmpfs /run, removed by the join.
import { shellCommand } from '../../shell/quote';
import { formatCidr, formatIpv4, type AddressBlock, type NetworkAllocation } from '../ipam';
import type { HostInfo, LabModel, PlanInputs } from '../modes/common';
import type { LedgerEntry, PlanStep } from '../plan';
import type { NetworkSpec } from '../topology-schema';

export type OverlayNetwork = Extract<NetworkSpec, { mode: 'vxlan' }>;

export const SWARM_PORT = 2377;
/** Docker's default VXLAN port for overlay traffic (the swarm's data path port). */
export const DOCKER_DATA_PATH_PORT = 4789;

export interface SwarmPlan {
  manager: string;
  workers: string[];
  /** True: cnlab initialises the swarm (and its workers join it); false: the hosts' own swarm is used. */
  initialise: boolean;
}

/** The overlay networks of a docker lab. */
export function overlayNetworks(model: LabModel): OverlayNetwork[] {
  return [...model.networks.values()].filter((network): network is OverlayNetwork => network.mode === 'vxlan');
}

/** The hosts of the lab's overlays, in topology order. */
function overlayHosts(model: LabModel): string[] {
  const used = new Set(overlayNetworks(model).flatMap((network) => model.hostsOf.get(network.name) ?? []));
  return model.spec.hosts.filter((host) => used.has(host));
}

/** Who manages and who joins, or the problems that stop it (each with its fix). */
export function swarmOf(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): { swarm: SwarmPlan | null; problems: string[] } {
  const members = overlayHosts(model);
  if (members.length === 0) return { swarm: null, problems: [] };
  const problems: string[] = [];
  const state = (host: string): string => hosts.get(host)?.facts.docker?.swarm.state ?? 'unknown';
  // A host without an engine is refused as such (dockerProblems); its swarm state adds nothing.
  const engineless = members.filter((host) => hosts.get(host)?.facts.tools.dockerServer === null);
  if (engineless.length > 0) return { swarm: null, problems: [] };
  const unknown = members.filter((host) => state(host) === 'unknown');
  if (unknown.length > 0) {
    return { swarm: null, problems: [`host ${unknown.join(', ')}: the probe did not say whether Docker there is in a swarm, which an overlay network needs to know: \`cnlab hosts probe ${unknown[0] ?? ''}\` again`] };
  }
  for (const network of overlayNetworks(model)) {
    if (network.options.controlPlane !== 'static') problems.push(`network ${network.name}: under runtime docker the swarm is the overlay's control plane: remove controlPlane ${network.options.controlPlane}`);
  }
  const ports = [...new Set(overlayNetworks(model).map((network) => network.options.port))];
  if (ports.length > 1) problems.push(`networks ${overlayNetworks(model).map((network) => network.name).join(', ')}: one swarm carries every overlay on one port (the data path port): give them all the same options.port`);
  const inactive = members.filter((host) => state(host) === 'inactive');
  if (inactive.length === members.length) return { swarm: { manager: members[0] ?? '', workers: members.slice(1), initialise: true }, problems };
  const active = members.filter((host) => state(host) === 'active');
  if (active.length === members.length) {
    const manager = members.find((host) => hosts.get(host)?.facts.docker?.swarm.controlAvailable === true);
    if (!manager) problems.push(`hosts ${members.join(', ')} are in a swarm, but none of them is a manager, where cnlab would create the overlay network: make one of them a manager (docker node promote)`);
    if ((ports[0] ?? DOCKER_DATA_PATH_PORT) !== DOCKER_DATA_PATH_PORT) problems.push(`a swarm's data path port is chosen when it is initialised, and cnlab did not initialise this one: leave options.port at ${DOCKER_DATA_PATH_PORT}`);
    return { swarm: manager ? { manager, workers: members.filter((host) => host !== manager), initialise: false } : null, problems };
  }
  const described = members.map((host) => `${host} ${state(host) === 'active' ? 'is in a swarm' : `is ${state(host)}`}`).join(', ');
  problems.push(`the overlay's hosts do not agree on a swarm (${described}): cnlab initialises a swarm only where none of them is in one, and joins or leaves only a swarm it initialised: take them all into one swarm, or all out of swarms`);
  return { swarm: null, problems };
}

/** Where a worker finds its join token (written by lab-service.ts before the worker's script runs). */
export function joinTokenFile(inputs: PlanInputs): string {
  return `${inputs.model.names.ledgerDir}/swarm-join-token`;
}

function address(inputs: PlanInputs, host: string): string {
  const found = inputs.hosts.get(host)?.address;
  if (!found) throw new Error(`internal: host ${host} has no management address for the swarm`);
  return found;
}

/**
 * Leaving undoes initialising or joining (--force: a manager alone can only leave that way). Joining
 * creates docker_gwbridge where there was none; it outlives the swarm, so it goes too, but only when
 * this lab's swarm step found none (its marker file in the lab's folder says so).
 */
function leaveEntry(inputs: PlanInputs, role: 'manager' | 'worker'): LedgerEntry {
  const marker = shellCommand([gwbridgeMarker(inputs)]);
  // The gwbridge keeps the ingress sandbox's endpoint a moment after leaving: its removal is retried for up to 5 s.
  const removal = 'for cnlab_try in 1 2 3 4 5 6 7 8 9 10; do docker network inspect docker_gwbridge >/dev/null 2>&1 || break; docker network rm docker_gwbridge >/dev/null 2>&1; sleep 0.5; done';
  return { kind: 'docker-swarm', name: role, undo: `docker swarm leave --force >/dev/null 2>&1; if [ -e ${marker} ]; then ${removal}; fi; true` };
}

function gwbridgeMarker(inputs: PlanInputs): string {
  return `${inputs.model.names.ledgerDir}/swarm-made-gwbridge`;
}

/** Before initialising or joining: note whether docker_gwbridge is missing (the swarm will make it). */
function noteGwbridge(inputs: PlanInputs): string {
  return `docker network inspect docker_gwbridge >/dev/null 2>&1 || : > ${shellCommand([gwbridgeMarker(inputs)])}`;
}

/** The swarm step of one host, or none (a host outside the overlays, or a swarm that is not cnlab's to change). */
export function swarmStep(inputs: PlanInputs, swarm: SwarmPlan, host: string): PlanStep | null {
  if (!swarm.initialise) {
    if (host !== swarm.manager || swarm.workers.length === 0) return null;
    // The hosts' own swarm: only checked, that it holds every host of the lab's overlays.
    return {
      id: 'host/swarm',
      phase: 'host',
      description: `check that the swarm managed here holds ${swarm.workers.join(', ')}`,
      creates: [],
      run: [{ kind: 'shell', text: swarmMembershipCheck(inputs, swarm) }],
    };
  }
  const port = overlayNetworks(inputs.model)[0]?.options.port ?? DOCKER_DATA_PATH_PORT;
  const pool = inputs.model.spec.docker?.swarmAddressPool;
  if (host === swarm.manager) {
    const here = address(inputs, host);
    const init = ['docker', 'swarm', 'init', '--advertise-addr', here, '--listen-addr', `${here}:${SWARM_PORT}`];
    if (pool) init.push('--default-addr-pool', pool, '--default-addr-pool-mask-length', '24');
    if (port !== DOCKER_DATA_PATH_PORT) init.push('--data-path-port', String(port));
    return {
      id: 'host/swarm',
      phase: 'control-plane',
      description: `initialise a swarm, managed here (${here}:${SWARM_PORT})`,
      creates: [leaveEntry(inputs, 'manager')],
      run: [{ kind: 'shell', text: `${noteGwbridge(inputs)}\n${shellCommand(init)} >/dev/null` }],
    };
  }
  if (!swarm.workers.includes(host)) return null;
  const here = address(inputs, host);
  const token = joinTokenFile(inputs);
  const join = `${shellCommand(['docker', 'swarm', 'join', '--advertise-addr', here, '--listen-addr', `${here}:${SWARM_PORT}`, '--token'])} "$(cat ${shellCommand([token])})" ${shellCommand([`${address(inputs, swarm.manager)}:${SWARM_PORT}`])} >/dev/null`;
  return {
    id: 'host/swarm',
    phase: 'control-plane',
    description: `join the swarm of ${swarm.manager} as a worker`,
    creates: [leaveEntry(inputs, 'worker')],
    run: [{ kind: 'shell', text: `${noteGwbridge(inputs)}\n${join}; cnlab_rc=$?; rm -f ${shellCommand([token])}; [ "$cnlab_rc" = 0 ]` }],
  };
}

/** On the manager of the hosts' own swarm: every worker host's node is a member (by node id, from its facts). */
function swarmMembershipCheck(inputs: PlanInputs, swarm: SwarmPlan): string {
  const checks = swarm.workers.map((host) => {
    const nodeId = inputs.hosts.get(host)?.facts.docker?.swarm.nodeId ?? 'unknown';
    const message = `host ${host} (node ${nodeId}) is not in the swarm managed on ${swarm.manager}: join it to that swarm, or keep it out of the overlay`;
    return `docker node ls -q 2>/dev/null | grep -qx ${shellCommand([nodeId])} || { echo ${shellCommand([message])} >&2; false; }`;
  });
  return checks.join(' &&\n');
}

/**
 * Docker gives every host on an overlay a load-balancer address of its own, taken from the network's
 * dynamic range: that range is the top /27 of the subnet (room for 30 hosts), so the addresses cnlab
 * gives containers, from the bottom up, never meet it.
 */
const DOCKER_RANGE_PREFIX = 27;

export function overlayDynamicRange(block: AddressBlock): string | null {
  if (block.subnet.prefix > DOCKER_RANGE_PREFIX - 1) return null;
  const size = 2 ** (32 - block.subnet.prefix);
  return formatCidr({ base: block.subnet.base + size - 2 ** (32 - DOCKER_RANGE_PREFIX), prefix: DOCKER_RANGE_PREFIX });
}

/** Overlays whose subnet is too small for Docker's range, or with a container address inside it. */
export function overlayAddressProblems(model: LabModel, ipam: ReadonlyMap<string, NetworkAllocation>): string[] {
  const problems: string[] = [];
  for (const network of overlayNetworks(model)) {
    const allocation = ipam.get(network.name);
    const block = allocation ? [...allocation.blocks.values()][0] : undefined;
    if (!allocation || !block) continue;
    const range = overlayDynamicRange(block);
    if (range === null) {
      problems.push(`network ${network.name}: Docker's overlay keeps a /${DOCKER_RANGE_PREFIX} of its subnet for its own addresses, and ${formatCidr(block.subnet)} is too small for that: give it a subnet of /26 or larger`);
      continue;
    }
    const start = block.subnet.base + 2 ** (32 - block.subnet.prefix) - 2 ** (32 - DOCKER_RANGE_PREFIX);
    for (const [container, address] of allocation.addresses) {
      if (address >= start) problems.push(`network ${network.name}: container ${container} has address ${formatIpv4(address)}, in ${range}, which Docker's overlay keeps for its own addresses: use a larger subnet, or fewer containers on it`);
    }
  }
  return problems;
}
