// The topology each case of an experiment measures on: one network of the case's mode, N server
// containers on the server host and N clients on the client host (or, all-to-all, N containers placed
// alternately on the two; container mode, client i in server i's namespace, like a pod), and K
// idle-or-busy neighbours for interference; the largest N and K of the matrix, so every cell of the case
// reuses one applied lab.
import { createHash } from 'node:crypto';
import { CnlabError } from '../errors';
import { expectedReachable } from '../topology/modes/reachability';
import type { TopologySpec } from '../topology/topology-schema';
import { CONTAINER_MODE, patternOf, sharesNetns, type ExperimentSpec, type ModeCase } from './experiment-schema';
import type { Cell } from './matrix';

export const SERVER_PREFIX = 'srv';
export const CLIENT_PREFIX = 'cli';
export const INTERFERER_PREFIX = 'load';
/** All-to-all containers: node1 on the server host, node2 on the client host, node3 on the server host… */
export const NODE_PREFIX = 'node';
export const NETWORK_NAME = 'net';

/** A lab name from a hex tag and the case's position: short and valid as an object name. */
export function caseLabId(runTag: string, caseIndex: number): string {
  return `x${runTag.slice(0, 8)}-${caseIndex}`;
}

/**
 * The tag of a run's labs: from its run id, so two runs of one experiment never share a lab, while a
 * resumed run finds (and reuses or tears down) the labs its earlier session applied.
 */
export function runLabTag(runId: string): string {
  return createHash('sha256').update(`run:${runId}`).digest('hex').slice(0, 8);
}

/** Refuses a case whose client cannot reach its server, naming the fix (launch time needs no pair). */
export function checkCaseReachable(entry: ModeCase, tool: string, pattern: ExperimentSpec['pattern'] = 'pairs'): void {
  if (!entry.network || tool === 'launch') return;
  if (sharesNetns(entry)) {
    checkSharedNetns(entry, pattern);
    return;
  }
  const { client, server } = entry.placement;
  if (!expectedReachable(entry.network, client, server)) {
    const fix = entry.network.mode === 'none' ? 'mode none has no network to measure: use it only for launch time' : client === server ? `check the mode's options` : `place client and server on one host for it (placement: { server: ${server}, client: ${server} }), or use a mode that spans hosts (macvlan, vxlan, routed)`;
    throw new CnlabError('invalid-input', `case ${entry.label}: with mode ${entry.network.mode} a client on ${client} cannot reach a server on ${server}: ${fix}`);
  }
  if (pattern === 'all-to-all') checkAllToAllReachable(entry);
}

/** Container mode: each client runs in its server's namespace, so both are on one host, and pairs are all it has. */
function checkSharedNetns(entry: ModeCase, pattern: ExperimentSpec['pattern']): void {
  const { client, server } = entry.placement;
  if (client !== server) {
    throw new CnlabError('invalid-input', `case ${entry.label}: mode ${CONTAINER_MODE} runs each client in its server's network namespace, which exists on one host only, but the client is on ${client} and the server on ${server}: place both on one host (placement: { server: ${server}, client: ${server} }), or use a mode that spans hosts (macvlan, vxlan, routed)`);
  }
  if (pattern === 'all-to-all') {
    throw new CnlabError('invalid-input', `case ${entry.label}: pattern all-to-all needs N containers with an address each, but in mode ${CONTAINER_MODE} a client shares its server's namespace and address (a pod of two): use pattern: pairs, or measure all-to-all in another experiment`);
  }
}

/** All-to-all sends both ways and between containers of one host (node1 and node3 share the server host). */
function checkAllToAllReachable(entry: ModeCase): void {
  const { client, server } = entry.placement;
  const network = entry.network;
  if (!network) return;
  for (const [from, to] of [[server, client], [server, server], [client, client]] as const) {
    if (expectedReachable(network, from, to)) continue;
    const where = from === to ? `between two containers on ${from}` : `from ${from} to ${to}`;
    throw new CnlabError('invalid-input', `case ${entry.label}: pattern all-to-all sends ${where}, which mode ${network.mode} does not connect: check the mode's options (macvlanMode: bridge), or use pattern: pairs`);
  }
}

/**
 * Commands a run keeps open at once on one host, each an SSH channel: the sampler, one command for all
 * interference loads on the server host, and the workload's: batched iperf3 (any N, all-to-all too) runs
 * one command for all servers and one for all clients per host; other tools one per server and per client.
 */
export function channelsPerHost(entry: ModeCase, cell: Pick<Cell, 'pairs' | 'interferers' | 'params'>): Map<string, number> {
  const { server, client } = entry.placement;
  const batched = cell.params.tool === 'iperf3';
  const counts = new Map<string, number>([[server, 1], [client, 1]]);
  const add = (host: string, count: number): void => void counts.set(host, (counts.get(host) ?? 0) + count);
  add(server, cell.interferers > 0 ? 1 : 0);
  if (batched) {
    for (const host of new Set([server, client])) add(host, 2);
    return counts;
  }
  add(server, cell.pairs);
  add(client, cell.pairs);
  return counts;
}

/** Refuses more concurrent pairs than the hosts' SSH channels can carry at once (they would not run together). */
export function checkChannelBudget(entry: ModeCase, cells: readonly Cell[], maxChannels: number): void {
  for (const cell of cells.filter((candidate) => candidate.caseLabel === entry.label)) {
    for (const [host, needed] of channelsPerHost(entry, cell)) {
      if (needed <= maxChannels) continue;
      const sameHost = entry.placement.server === entry.placement.client;
      const most = Math.floor((maxChannels - 1 - (cell.interferers > 0 ? 1 : 0)) / (sameHost ? 2 : 1));
      throw new CnlabError('invalid-input', `case ${entry.label}: ${cell.pairs} concurrent ${cell.params.tool} pairs need ${needed} commands at once on ${host}, more than the ${maxChannels} SSH channels cnlab opens per host: use at most ${most} pairs${sameHost ? ', or put client and server on different hosts' : ''} (iperf3 batches any number of pairs)`);
    }
  }
}

/**
 * The containers of the measured endpoints: srv1..N and cli1..N, or node1..N alternating hosts for all-to-all;
 * container mode: srv1..N on the network and each cliI in srvI's namespace (it reaches srvI at srvI's address).
 */
function endpointContainers(spec: Pick<ExperimentSpec, 'pattern'>, entry: ModeCase, count: number): TopologySpec['containers'] {
  const { server, client } = entry.placement;
  if (patternOf(spec) === 'all-to-all') {
    return Array.from({ length: count }, (_, index) => ({ name: `${NODE_PREFIX}${index + 1}`, host: index % 2 === 0 ? server : client, networks: [NETWORK_NAME] }));
  }
  if (sharesNetns(entry)) {
    return [
      { name: SERVER_PREFIX, host: server, networks: [NETWORK_NAME], count },
      ...Array.from({ length: count }, (_, index) => ({ name: `${CLIENT_PREFIX}${index + 1}`, host: client, networks: [], shareNetnsWith: `${SERVER_PREFIX}${index + 1}` })),
    ];
  }
  return [
    { name: SERVER_PREFIX, host: server, networks: [NETWORK_NAME], count },
    { name: CLIENT_PREFIX, host: client, networks: [NETWORK_NAME], count },
  ];
}

export function caseTopology(spec: ExperimentSpec, entry: ModeCase, cells: readonly Cell[], labId: string): TopologySpec | null {
  if (!entry.network) return null;
  const mine = cells.filter((cell) => cell.caseLabel === entry.label);
  const pairs = Math.max(1, ...mine.map((cell) => cell.pairs));
  const interferers = Math.max(0, ...mine.map((cell) => cell.interferers));
  const { server, client } = entry.placement;
  return {
    v: 1,
    name: labId,
    runtime: entry.runtime ?? 'netns',
    ...(entry.runtime === 'docker' && spec.docker?.image ? { docker: { image: spec.docker.image } } : {}),
    backend: spec.backend,
    hosts: [...new Set([server, client])],
    addressPool: spec.addressPool,
    networks: [entry.network],
    containers: [
      ...endpointContainers(spec, entry, pairs),
      ...(interferers > 0 ? [{ name: INTERFERER_PREFIX, host: server, networks: [], count: interferers }] : []),
    ],
  };
}
