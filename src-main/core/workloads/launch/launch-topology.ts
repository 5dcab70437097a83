// The lab one launch-time repetition applies: K measured containers on the measured host, an anchor
// before them where the mode has no gateway to ping, and a peer container on another host when the
// run measures reachability from there. Pure, so the names and order are testable without hosts.
import { CnlabError } from '../../errors';
import { isDynamicControlPlane } from '../../topology/modes/dynamic-routes';
import { expectedReachable } from '../../topology/modes/reachability';
import { networkSchema, topologySchema, type NetworkSpec, type TopologySpec } from '../../topology/topology-schema';
import type { LaunchParams } from '../workload-params';

/** Measured containers are c1..cK; the anchor and the peer are never samples. */
export const MEASURED_PREFIX = 'c';
export const ANCHOR = 'a';
export const PEER = 'p';

/** Modes whose containers of different hosts reach each other through cnlab's own data/control plane. */
const SPANNING_MODES: ReadonlySet<NetworkSpec['mode']> = new Set(['vxlan', 'routed', 'macvlan', 'ipvlan']);

export interface LaunchLayout {
  spec: TopologySpec;
  network: NetworkSpec;
  /** c1..cK, in the order the host creates them. */
  measured: string[];
  /** The host the peer container runs on, when reachability from a peer is measured. */
  peerHost: string | null;
  /** Why no peer measurement despite fromPeer (for the notes), or null. */
  peerSkipped: string | null;
  /** The network's dynamic control plane (etcd, BGP) when a peer is measured, else null. */
  controlPlane: 'etcd' | 'bgp' | null;
}

export interface LaunchLayoutInput {
  params: LaunchParams;
  /** The network under test, e.g. { name: 'net', mode: 'vxlan', options: {...} } (a NetworkSpec input). */
  network: unknown;
  /** Lab name for this run (≤ 20 chars, [a-z][a-z0-9-]*). */
  labId: string;
  addressPool: string;
  backend?: 'iproute2' | 'cni';
  /** Who makes the lab (netns by default); docker also takes the lab image, if one is set. */
  runtime?: 'netns' | 'docker';
  dockerImage?: string;
  /** Host the measured containers are created on, and (multi-host modes) the peer host. */
  host: string;
  peerHost: string | null;
}

function parseNetwork(network: unknown): NetworkSpec {
  const parsed = networkSchema.safeParse(network);
  if (!parsed.success) throw new CnlabError('invalid-input', `launch time: the network to measure is not a valid network: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Why reachability from a peer cannot be measured for this network and placement, or null when it can. */
export function peerProblem(network: NetworkSpec, host: string, peerHost: string | null): string | null {
  if (!SPANNING_MODES.has(network.mode)) return `mode ${network.mode} does not span hosts`;
  if (peerHost === null || peerHost === host) return 'the peer needs a host other than the measured one (placement client ≠ server)';
  if (!expectedReachable(network, peerHost, host)) return `mode ${network.mode} with these options does not connect containers of different hosts`;
  return null;
}

/** macvlan and ipvlan have no gateway: the first-reply step pings the first container already up on the host. */
function needsAnchor(network: NetworkSpec): boolean {
  return (network.mode === 'macvlan' || network.mode === 'ipvlan') && expectedReachable(network, 'h', 'h');
}

export function launchLayout(input: LaunchLayoutInput): LaunchLayout {
  const network = parseNetwork(input.network);
  const problem = input.params.fromPeer ? peerProblem(network, input.host, input.peerHost) : null;
  const peerHost = input.params.fromPeer && problem === null ? input.peerHost : null;
  const networks = [network.name];
  const controlPlane = peerHost && isDynamicControlPlane(network) ? (network.mode === 'vxlan' ? 'etcd' : 'bgp') : null;
  const containers = [
    ...(needsAnchor(network) ? [{ name: ANCHOR, host: input.host, networks }] : []),
    // The peer is planned first so that, on its host, it exists before anything is measured.
    ...(peerHost ? [{ name: PEER, host: peerHost, networks }] : []),
    { name: MEASURED_PREFIX, host: input.host, networks, count: input.params.containers },
  ];
  const parsed = topologySchema.safeParse({
    v: 1,
    name: input.labId,
    backend: input.backend ?? 'iproute2',
    runtime: input.runtime ?? 'netns',
    ...(input.dockerImage ? { docker: { image: input.dockerImage } } : {}),
    // etcd runs on the network's first host: the peer's, so the peer's host can be applied up to its
    // container before the measured host starts (its agent would otherwise wait for an etcd not started).
    // Likewise a swarm (vxlan under runtime docker) is managed from the first host, applied first.
    hosts: peerHost ? (controlPlane || (input.runtime === 'docker' && network.mode === 'vxlan') ? [peerHost, input.host] : [input.host, peerHost]) : [input.host],
    addressPool: input.addressPool,
    networks: [network],
    containers,
  });
  if (!parsed.success) throw new CnlabError('invalid-input', `launch time: lab ${input.labId}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return {
    spec: parsed.data,
    network,
    measured: Array.from({ length: input.params.containers }, (_, index) => `${MEASURED_PREFIX}${index + 1}`),
    peerHost,
    peerSkipped: input.params.fromPeer ? problem : null,
    controlPlane,
  };
}
