// From a cell to the workload calls: which endpoints each pair uses (containers of the case's lab,
// or the hosts themselves for the baseline; all-to-all: every ordered pair of N containers; container
// mode: client i runs in server i's namespace and reaches it at its own address, over loopback), the
// interference containers loaded during the run, and which executor measures. Pairs run concurrently;
// one failing pair stops the others. iperf3 with more than one pair is batched (one command per host
// for all servers, one for all clients), so N is not bounded by the SSH channels of a host.
import { CnlabError } from '../errors';
import type { LabRecord } from '../topology/lab-store';
import type { LabService } from '../topology/lab-service';
import { runIperf3Flows } from '../workloads/iperf3/batch-executor';
import { runIperf3 } from '../workloads/iperf3/executor';
import { runLaunch } from '../workloads/launch/launch-workload';
import { runNetperf } from '../workloads/netperf/executor';
import { runPing } from '../workloads/ping/executor';
import { startAt, type BackgroundCommand } from '../workloads/run-command';
import { runSockperf } from '../workloads/sockperf/executor';
import type { Endpoint, Measurement, PairWorkload, WorkloadContext } from '../workloads/workload-context';
import type { WorkloadParams } from '../workloads/workload-params';
import { combinePairs } from './aggregate';
import { CLIENT_PREFIX, INTERFERER_PREFIX, NETWORK_NAME, NODE_PREFIX, SERVER_PREFIX } from './cell-topology';
import { sharesNetns, type ExperimentSpec, type ModeCase } from './experiment-schema';
import type { Cell } from './matrix';

type Pattern = ExperimentSpec['pattern'];

export interface CaseLab {
  labId: string;
  /** The applied lab; null for launch-time cases, whose runs apply their own. */
  record: LabRecord | null;
}

export interface CaseEndpoints {
  pairs: { client: Endpoint; server: Endpoint }[];
  interferers: Pick<Endpoint, 'host' | 'netns'>[];
}

function containerEndpoint(record: LabRecord, name: string, fallbackAddress: (host: string) => string): Endpoint {
  const container = record.containers.find((candidate) => candidate.name === name);
  if (!container) throw new CnlabError('internal', `lab ${record.labId} has no container ${name}`);
  const address = container.interfaces.find((entry) => entry.network === NETWORK_NAME)?.address?.split('/')[0];
  // Host-mode containers live in the host's namespace and answer on its address. A container that shares
  // another's namespace (container mode) is planned with its owner's namespace and interfaces: it runs
  // there and answers on the owner's address.
  return { name, host: container.host, netns: container.netns, address: address ?? fallbackAddress(container.host) };
}

/** Every ordered pair of distinct nodes: N·(N−1) flows, each node a client of every other. */
export function allToAllPairs(nodes: readonly Endpoint[]): CaseEndpoints['pairs'] {
  return nodes.flatMap((client, i) => nodes.filter((_, j) => j !== i).map((server) => ({ client, server })));
}

/** The hosts themselves as endpoints (baseline, w/o container); loopback when both ends share one host. */
function hostEndpoints(entry: ModeCase, cell: Cell, pattern: Pattern, hostAddress: (host: string) => string): CaseEndpoints {
  if (cell.interferers > 0) throw new CnlabError('invalid-input', `case ${entry.label}: interference needs containers; the baseline has none: leave interference out of baseline-only experiments`);
  const { server, client } = entry.placement;
  const endpoint = (host: string): Endpoint => ({ name: host, host, netns: null, address: hostAddress(host) });
  if (pattern === 'all-to-all') return { pairs: allToAllPairs(Array.from({ length: cell.pairs }, (_, index) => endpoint(index % 2 === 0 ? server : client))), interferers: [] };
  const pair = { server: endpoint(server), client: endpoint(client) };
  return { pairs: Array.from({ length: cell.pairs }, () => pair), interferers: [] };
}

function containerPairs(record: LabRecord, cell: Cell, pattern: Pattern, hostAddress: (host: string) => string): CaseEndpoints['pairs'] {
  if (pattern === 'all-to-all') return allToAllPairs(Array.from({ length: cell.pairs }, (_, index) => containerEndpoint(record, `${NODE_PREFIX}${index + 1}`, hostAddress)));
  return Array.from({ length: cell.pairs }, (_, index) => ({
    server: containerEndpoint(record, `${SERVER_PREFIX}${index + 1}`, hostAddress),
    client: containerEndpoint(record, `${CLIENT_PREFIX}${index + 1}`, hostAddress),
  }));
}

export function caseEndpoints(entry: ModeCase, lab: CaseLab | null, cell: Cell, managementAddress: (host: string) => string, pattern: Pattern = 'pairs'): CaseEndpoints {
  const { server, client } = entry.placement;
  const hostAddress = (host: string): string => (server === client ? '127.0.0.1' : managementAddress(host));
  if (!lab?.record) return hostEndpoints(entry, cell, pattern, hostAddress);
  const record = lab.record;
  return {
    pairs: containerPairs(record, cell, pattern, hostAddress),
    interferers: Array.from({ length: cell.interferers }, (_, index) => {
      const container = record.containers.find((candidate) => candidate.name === `${INTERFERER_PREFIX}${index + 1}`);
      if (!container) throw new CnlabError('internal', `lab ${record.labId} has no container ${INTERFERER_PREFIX}${index + 1}`);
      return { host: container.host, netns: container.netns };
    }),
  };
}

/** busy: one CPU flat out; burst: ~10% of a CPU as 10 ms of spinning every 100 ms. */
const LOADS = {
  busy: 'while :; do :; done',
  burst: "while :; do timeout 0.01 sh -c 'while :; do :; done'; sleep 0.09; done",
} as const;

/**
 * Every interference container's load from ONE command on the server host (one SSH channel however
 * many neighbours), so stopping it kills the whole process group at once.
 */
function startInterference(ctx: WorkloadContext, interferers: CaseEndpoints['interferers'], load: keyof typeof LOADS): BackgroundCommand | null {
  const first = interferers[0];
  if (!first) return null;
  const namespaces = interferers.map((endpoint) => endpoint.netns ?? '');
  return startAt(ctx, { host: first.host, netns: null }, ['sh', '-c', 'load=$1; shift; for ns; do ip netns exec "$ns" sh -c "$load" & done; wait', 'sh', LOADS[load], ...namespaces]);
}

function pairWorkload(params: WorkloadParams): PairWorkload<WorkloadParams> {
  switch (params.tool) {
    case 'iperf3':
      return runIperf3 as PairWorkload<WorkloadParams>;
    case 'sockperf':
      return runSockperf as PairWorkload<WorkloadParams>;
    case 'netperf':
      return runNetperf as PairWorkload<WorkloadParams>;
    case 'ping':
      return runPing as PairWorkload<WorkloadParams>;
    case 'launch':
      throw new CnlabError('internal', 'launch time is not a pair workload');
  }
}

/** Per-pair context: its own raw-file names and sample sources, and a stop shared by all pairs. */
function pairContext(ctx: WorkloadContext, index: number, count: number, signal: AbortSignal): WorkloadContext {
  if (count === 1) return { ...ctx, signal };
  return {
    ...ctx,
    signal,
    sample: (sample) => ctx.sample({ ...sample, source: `pair${index + 1}/${sample.source}` }),
    saveRaw: (name, text) => ctx.saveRaw(`p${index + 1}-${name}`, text),
  };
}

/** Each pair through its tool's pair executor, concurrently; the first failure stops the others. */
async function runEachPair(ctx: WorkloadContext, cell: Cell, endpoints: CaseEndpoints): Promise<Measurement> {
  const workload = pairWorkload(cell.params);
  const stopPairs = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stopPairs.signal]);
  const count = endpoints.pairs.length;
  const measurements = await Promise.all(
    endpoints.pairs.map((pair, index) =>
      workload(pairContext(ctx, index, count, signal), { params: cell.params, client: pair.client, server: pair.server }).catch((error: unknown) => {
        stopPairs.abort();
        throw error;
      }),
    ),
  );
  return combinePairs(measurements);
}

/** iperf3 with several flows: batched, N counted as pairs or (all-to-all) containers. */
async function runBatched(ctx: WorkloadContext, cell: Cell, endpoints: CaseEndpoints, pattern: Pattern): Promise<Measurement> {
  if (cell.params.tool !== 'iperf3') throw new CnlabError('internal', `${cell.params.tool} is not batched`);
  const measured = await runIperf3Flows(ctx, { params: cell.params, flows: endpoints.pairs });
  return { ...measured, metrics: { ...measured.metrics, [pattern === 'all-to-all' ? 'containers' : 'pairs']: cell.pairs } };
}

export async function runPairCase(ctx: WorkloadContext, args: { cell: Cell; endpoints: CaseEndpoints; load: keyof typeof LOADS; pattern?: Pattern }): Promise<Measurement> {
  const pattern = args.pattern ?? 'pairs';
  const batched = args.cell.params.tool === 'iperf3' && (pattern === 'all-to-all' || args.endpoints.pairs.length > 1);
  const load = startInterference(ctx, args.endpoints.interferers, args.load);
  try {
    const combined = batched ? await runBatched(ctx, args.cell, args.endpoints, pattern) : await runEachPair(ctx, args.cell, args.endpoints);
    if (load?.ended) throw new CnlabError('workload-failed', `the interference load on ${args.endpoints.interferers[0]?.host ?? 'the server host'} ended during the run: the cell was not measured under load`);
    return load ? { ...combined, metrics: { ...combined.metrics, interferers: args.endpoints.interferers.length } } : combined;
  } finally {
    await load?.stop();
  }
}

export function runLaunchCase(ctx: WorkloadContext, args: { cell: Cell; entry: ModeCase; labs: LabService; labId: string; addressPool: string; backend: 'iproute2' | 'cni'; dockerImage?: string }): Promise<Measurement> {
  const { cell, entry } = args;
  if (cell.params.tool !== 'launch') throw new CnlabError('internal', 'not a launch-time cell');
  if (!entry.network) throw new CnlabError('invalid-input', `case ${entry.label}: launch time measures a network mode; the baseline has none`);
  const peerHost = entry.placement.client !== entry.placement.server ? entry.placement.client : null;
  const docker = entry.runtime === 'docker' ? { runtime: 'docker' as const, ...(args.dockerImage ? { dockerImage: args.dockerImage } : {}) } : {};
  // Container mode: the measured containers join an owner's namespace on the case's (bridge) network.
  const shared = sharesNetns(entry) ? { sharesNetns: true } : {};
  return runLaunch(ctx, { params: cell.params, labs: args.labs, network: entry.network, labId: args.labId, addressPool: args.addressPool, backend: args.backend, host: entry.placement.server, peerHost, ...docker, ...shared });
}
