// The lab one launch-time repetition applies: K measured containers on the measured host, an anchor
// before them where the mode has no gateway to ping, and a peer container on another host when the
// run measures reachability from there. Container mode (Table VI's "Container"): an owner on the network,
// created before them and never a sample, whose namespace each measured container joins. Pure, so the
// names and order are testable without hosts.
import { CnlabError } from '../../errors';
import { isDynamicControlPlane } from '../../topology/modes/dynamic-routes';
import { expectedReachable } from '../../topology/modes/reachability';
import { networkSchema, topologySchema, type NetworkSpec, type TopologySpec } from '../../topology/topology-schema';
import type { LaunchParams } from '../workload-params';

/** Measured containers are c1..cK; the anchor and the peer are never samples. */
export const MEASURED_PREFIX = 'c';
export const ANCHOR = 'a';
export const PEER = 'p';
/** Container mode: the container whose namespace the measured ones join (Suo et al.'s proxy container). */
export const OWNER = 'o';

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
  /** Container mode: the measured containers join OWNER's namespace. */
  sharesNetns: boolean;
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
  /** Container mode: each measured container joins the namespace of an owner on `network` (shareNetnsWith). */
  sharesNetns?: boolean;
}

/** How messages and notes name the mode measured: "container" when namespaces are shared, else the network's mode. */
export function launchModeName(layout: Pick<LaunchLayout, 'network' | 'sharesNetns'>): string {
  return layout.sharesNetns ? 'container' : layout.network.mode;
}

function parseNetwork(network: unknown): NetworkSpec {
  const parsed = networkSchema.safeParse(network);
  if (!parsed.success) throw new CnlabError('invalid-input', `launch time: the network to measure is not a valid network: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Why reachability from a peer cannot be measured for this network and placement, or null when it can. */
export function peerProblem(network: NetworkSpec, host: string, peerHost: string | null, sharesNetns = false): string | null {
  // A shared namespace exists on one host: its containers are reached where their owner is.
  if (sharesNetns) return 'mode container does not span hosts';
  if (!SPANNING_MODES.has(network.mode)) return `mode ${network.mode} does not span hosts`;
  if (peerHost === null || peerHost === host) return 'the peer needs a host other than the measured one (placement client ≠ server)';
  if (!expectedReachable(network, peerHost, host)) return `mode ${network.mode} with these options does not connect containers of different hosts`;
  return null;
}

/** macvlan and ipvlan have no gateway: the first-reply step pings the first container already up on the host. */
function needsAnchor(network: NetworkSpec): boolean {
  return (network.mode === 'macvlan' || network.mode === 'ipvlan') && expectedReachable(network, 'h', 'h');
}

/** The measured containers: c1..cK on the network, or (container mode) each joining the owner's namespace. */
function measuredContainers(input: LaunchLayoutInput, networks: string[]): TopologySpec['containers'] {
  if (!input.sharesNetns) return [{ name: MEASURED_PREFIX, host: input.host, networks, count: input.params.containers }];
  return Array.from({ length: input.params.containers }, (_, index) => ({ name: `${MEASURED_PREFIX}${index + 1}`, host: input.host, networks: [], shareNetnsWith: OWNER }));
}

export function launchLayout(input: LaunchLayoutInput): LaunchLayout {
  const network = parseNetwork(input.network);
  const sharesNetns = input.sharesNetns === true;
  if (sharesNetns && (network.mode === 'none' || network.mode === 'host')) {
    throw new CnlabError('invalid-input', `launch time: mode container joins an owner's namespace on a network of its own, and mode ${network.mode} gives the owner none: put the owner on a bridge network`);
  }
  const problem = input.params.fromPeer ? peerProblem(network, input.host, input.peerHost, sharesNetns) : null;
  const peerHost = input.params.fromPeer && problem === null ? input.peerHost : null;
  const networks = [network.name];
  const controlPlane = peerHost && isDynamicControlPlane(network) ? (network.mode === 'vxlan' ? 'etcd' : 'bgp') : null;
  const containers = [
    ...(needsAnchor(network) ? [{ name: ANCHOR, host: input.host, networks }] : []),
    // The peer is planned first so that, on its host, it exists before anything is measured.
    ...(peerHost ? [{ name: PEER, host: peerHost, networks }] : []),
    // The owner is up (its own first reply included) before the first measured container joins it.
    ...(sharesNetns ? [{ name: OWNER, host: input.host, networks }] : []),
    ...measuredContainers(input, networks),
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
    sharesNetns,
  };
}
