// The topology each case of an experiment measures on: one network of the case's mode, N server
// containers on the server host, N clients on the client host, and K idle-or-busy neighbours for
// interference; the largest N and K of the matrix, so every cell of the case reuses one applied lab.
import { createHash } from 'node:crypto';
import { CnlabError } from '../errors';
import { expectedReachable } from '../topology/modes/reachability';
import type { TopologySpec } from '../topology/topology-schema';
import type { ExperimentSpec, ModeCase } from './experiment-schema';
import type { Cell } from './matrix';

export const SERVER_PREFIX = 'srv';
export const CLIENT_PREFIX = 'cli';
export const INTERFERER_PREFIX = 'load';
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
export function checkCaseReachable(entry: ModeCase, tool: string): void {
  if (!entry.network || tool === 'launch') return;
  const { client, server } = entry.placement;
  if (expectedReachable(entry.network, client, server)) return;
  const fix = entry.network.mode === 'none' ? 'mode none has no network to measure: use it only for launch time' : client === server ? `check the mode's options` : `place client and server on one host for it (placement: { server: ${server}, client: ${server} }), or use a mode that spans hosts (macvlan, vxlan, routed)`;
  throw new CnlabError('invalid-input', `case ${entry.label}: with mode ${entry.network.mode} a client on ${client} cannot reach a server on ${server}: ${fix}`);
}

/**
 * Commands a run keeps open at once on one host, each an SSH channel: the sampler, a server per pair on
 * the server host, a client per pair on the client host, one command for all interference loads.
 */
export function channelsPerHost(entry: ModeCase, pairs: number, interferers: number): Map<string, number> {
  const { server, client } = entry.placement;
  const counts = new Map<string, number>([[server, 1], [client, 1]]);
  counts.set(server, (counts.get(server) ?? 0) + pairs + (interferers > 0 ? 1 : 0));
  counts.set(client, (counts.get(client) ?? 0) + pairs);
  return counts;
}

/** Refuses more concurrent pairs than the hosts' SSH channels can carry at once (they would not run together). */
export function checkChannelBudget(entry: ModeCase, cells: readonly Cell[], maxChannels: number): void {
  for (const cell of cells.filter((candidate) => candidate.caseLabel === entry.label)) {
    for (const [host, needed] of channelsPerHost(entry, cell.pairs, cell.interferers)) {
      if (needed <= maxChannels) continue;
      const sameHost = entry.placement.server === entry.placement.client;
      const most = Math.floor((maxChannels - 1 - (cell.interferers > 0 ? 1 : 0)) / (sameHost ? 2 : 1));
      throw new CnlabError('invalid-input', `case ${entry.label}: ${cell.pairs} concurrent pairs need ${needed} commands at once on ${host}, more than the ${maxChannels} SSH channels cnlab opens per host: use at most ${most} pairs${sameHost ? ', or put client and server on different hosts' : ''}`);
    }
  }
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
    runtime: 'netns',
    backend: spec.backend,
    hosts: [...new Set([server, client])],
    addressPool: spec.addressPool,
    networks: [entry.network],
    containers: [
      { name: SERVER_PREFIX, host: server, networks: [NETWORK_NAME], count: pairs },
      { name: CLIENT_PREFIX, host: client, networks: [NETWORK_NAME], count: pairs },
      ...(interferers > 0 ? [{ name: INTERFERER_PREFIX, host: server, networks: [], count: interferers }] : []),
    ],
  };
}
