// Network launch time (Table VI of Suo et al.): one repetition = one timed apply of a lab with K
// containers on the measured host; each container's phases (namespace, links, addresses, link up,
// first reply) are timed on that host by its apply script with its monotonic clock, never across SSH.
// With fromPeer on a mode that spans hosts, the peer's host is applied first and a prober in a peer
// container times, with the peer's own clock, when each new container answers it. Always torn down.
//
// Dynamic control planes (vxlan + etcd, routed + bgp): every host's apply ends by waiting for the other
// hosts' routes, so the peer's host cannot be applied to the end first. It is applied up to its
// container (startNextAfter, the last step of the peer container), then the prober is started and
// signalled and the measured host's apply begins, while the peer's script goes on waiting for the
// measured host's routes. So the peer is probing before the first measured container exists, and each
// peer time stays the prober's own interval (go → reply, peer clock) minus the container's start offset
// (measured host's clock), as for static entries. etcd runs on the peer's host (the network's first
// host), since the peer's agent could not get its lease in before an etcd on the measured host started.
// Then the peer host's route daemon (watch agent or BIRD) is restarted and timed on the peer host
// alone (peer-restart.ts): peerDaemonRestartMs.
//
// Container mode (sharesNetns): an owner on the network is created first and is not a sample; each
// measured container joins its namespace (netns: nothing to create, so its launch is its first reply;
// docker: docker create and start with --network container:<owner>, then its first reply), answering on
// the owner's address. Its first reply pings what the owner pings (the bridge's gateway) from the shared
// namespace. The mode does not span hosts, so fromPeer is skipped with a note, as for bridge.
import { CnlabError } from '../../errors';
import type { AppliedLab, LabService } from '../../topology/lab-service';
import type { LabEvent } from '../../topology/lab-runtime';
import type { LabPlan } from '../../topology/plan';
import type { Measurement, WorkloadContext } from '../workload-context';
import { containerLaunches, hostSetupMs, launchMetrics, peerFigures, type ContainerLaunch } from './launch-samples';
import { launchLayout, launchModeName, OWNER, PEER, type LaunchLayout, type LaunchLayoutInput } from './launch-topology';
import { PROBE_INTERVAL_S, startPeerProber, type PeerProber } from './peer-prober';
import { restartTarget, timePeerRestart } from './peer-restart';

/** One repetition: the lab layout's inputs (network, lab id, hosts, K containers) and the service that applies it. */
export interface LaunchRun extends LaunchLayoutInput {
  labs: LabService;
}

/** How long the peer probes each new container before it gives up. */
const PEER_BOUND_MS = 10_000;
/** How long the peer waits for the measured container after its daemon's restart (a BGP session takes seconds). */
const RESTART_BOUND_MS = 60_000;

interface PeerOutcome {
  metrics: Record<string, number>;
  rawSamples: Record<string, number[]>;
  notes: string[];
}

function addressIn(plan: Pick<LabPlan, 'containers'>, name: string): string {
  const address = plan.containers.find((container) => container.name === name)?.interfaces[0]?.address?.split('/')[0];
  if (!address) throw new CnlabError('internal', `launch time: container ${name} has no address in the plan`);
  return address;
}

/** A timed apply with the peer's host first; the prober is started on it and signalled as the measured host starts. */
async function applyWithPeer(ctx: WorkloadContext, run: LaunchRun, layout: LaunchLayout & { peerHost: string }, onProber: (prober: PeerProber) => void): Promise<{ applied: AppliedLab; peer: () => Promise<PeerOutcome> }> {
  const plan = await run.labs.plan(layout.spec, { measureFirstReply: true });
  const peerNetns = plan.containers.find((container) => container.name === PEER)?.netns;
  if (!peerNetns) throw new CnlabError('internal', 'launch time: the peer container has no namespace');
  let prober: PeerProber | null = null;
  let go: Promise<number> | null = null;
  let calledAt = 0;
  let firstLine: { at: number; hostMs: number } | null = null;
  const applied = await run.labs.apply(layout.spec, {
    // Planned above for the peer's namespace: not planned (nor its swarm hosts probed) twice.
    plan,
    timings: true,
    signal: ctx.signal,
    hostOrder: [[layout.peerHost], [run.host]],
    ...(layout.controlPlane ? { startNextAfter: { host: layout.peerHost, stepId: lastPeerStep(plan, layout.peerHost) } } : {}),
    beforeGroup: async (index) => {
      if (index !== 1) return;
      prober = await startPeerProber(ctx, { host: layout.peerHost, netns: peerNetns }, layout.measured.map((name) => addressIn(plan, name)), PEER_BOUND_MS);
      onProber(prober);
      calledAt = performance.now();
      // Not awaited: it runs while the measured host's script starts.
      go = prober.go();
      go.catch(() => undefined);
    },
    onEvent: (event: LabEvent) => {
      if (event.type !== 'step' || event.host !== run.host || firstLine || event.startMs === undefined || event.durationMs === null) return;
      firstLine = { at: performance.now(), hostMs: event.startMs + event.durationMs };
    },
  });
  const peer = async (): Promise<PeerOutcome> => {
    if (!prober || !go) throw new CnlabError('internal', 'launch time: the peer prober never started');
    const goRoundTripMs = await go;
    const results = await prober.results(PEER_BOUND_MS + 5000);
    const launches = containerLaunches(applied.timings, layout.measured, true);
    const figures = peerFigures(launches, results.replies, (name) => addressIn(plan, name));
    const line = firstLine;
    // When go reached the peer vs when the measured host's script began, estimated from the console's
    // side: (its first progress line's arrival - when it was sent - the host's own time to that line) - go's round trip.
    const biasMs = line ? line.at - calledAt - line.hostMs - goRoundTripMs : null;
    const restart = layout.controlPlane ? await peerRestart(ctx, plan, { ...layout, controlPlane: layout.controlPlane }, peerNetns, addressIn(plan, layout.measured[0] ?? '')) : null;
    const notes = [
      ...figures.notes,
      ...(layout.controlPlane ? [controlPlaneNote(layout.controlPlane, run.host, layout.peerHost)] : []),
      ...(restart?.notes ?? []),
      `peer times are from a prober on ${layout.peerHost} pinging every ${PROBE_INTERVAL_S * 1000} ms with its own ${results.clock ?? 'unknown'} clock, minus when the container's first step began on ${run.host} (its clock)`,
      ...(biasMs !== null ? [`the go signal reached the peer an estimated ${biasMs.toFixed(1)} ms before ${run.host}'s apply script began (go round trip ${goRoundTripMs.toFixed(1)} ms): peer times include it`] : []),
    ];
    return {
      metrics: { ...figures.metrics, ...(biasMs !== null ? { peerSignalBiasMs: biasMs } : {}), ...restart?.metrics },
      rawSamples: { ...figures.rawSamples, ...restart?.rawSamples },
      notes,
    };
  };
  return { applied, peer };
}

function controlPlaneNote(controlPlane: 'etcd' | 'bgp', host: string, peerHost: string): string {
  const order = `control plane ${controlPlane}: ${host}'s apply began once the peer container on ${peerHost} was up, while ${peerHost} went on waiting for ${host}'s routes`;
  return controlPlane === 'etcd'
    ? `${order}; etcd runs on ${peerHost}; ${host}'s lease is written when the host joins (its agent step, before its first container), as Flannel does, so lease propagation counts only as far as it outlasts the container's own setup`
    : `${order}; ${host}'s block is announced once its BGP session is up (connect delay), its containers' /32s after its last container`;
}

/** The peer container's last step on its host: once it is done the peer can probe. */
function lastPeerStep(plan: LabPlan, peerHost: string): string {
  const step = plan.hosts.find((hostPlan) => hostPlan.host === peerHost)?.steps.filter((candidate) => candidate.container === PEER).at(-1);
  if (!step) throw new CnlabError('internal', `launch time: the peer container has no steps on host ${peerHost}`);
  return step.id;
}

/** Restarts the peer host's route daemon and times, on that host, until the first measured container answers again. */
async function peerRestart(ctx: WorkloadContext, plan: LabPlan, layout: LaunchLayout & { peerHost: string; controlPlane: 'etcd' | 'bgp' }, peerNetns: string, address: string): Promise<PeerOutcome> {
  const controlPlane = plan.controlPlanes?.find((candidate) => candidate.kind === layout.controlPlane);
  if (!controlPlane) throw new CnlabError('internal', `launch time: the plan has no ${layout.controlPlane} control plane`);
  const target = restartTarget(controlPlane, layout.peerHost, address);
  const times = await timePeerRestart(ctx, { host: layout.peerHost, netns: peerNetns }, target, address, RESTART_BOUND_MS);
  const how = `${target.program} on ${layout.peerHost} restarted (stopped by its pid file, started with the apply's command line) in ${times.startedMs?.toFixed(1) ?? '?'} ms${times.relearnedMs !== null ? `, its log said it had programmed ${address}'s block again after ${times.relearnedMs.toFixed(1)} ms` : ''}`;
  if (times.replyMs === null) return { metrics: {}, rawSamples: {}, notes: [`${how}; ${address} did not answer the peer within ${RESTART_BOUND_MS} ms after it: no peerDaemonRestartMs sample`] };
  return {
    metrics: { peerDaemonRestartMs: times.replyMs },
    rawSamples: { peerDaemonRestartMs: [times.replyMs] },
    notes: [`peerDaemonRestartMs: ${how}; ${address} answered the peer ${times.replyMs.toFixed(1)} ms after the stop began (${layout.peerHost}'s ${times.clock ?? 'unknown'} clock alone)${target.relearned ? '; the agent leaves its routes in place while stopped (as flanneld does), so the data path may never have been interrupted' : ''}`],
  };
}

function checkClock(applied: AppliedLab, run: LaunchRun): string[] {
  if (applied.clockStepped) throw new CnlabError('workload-failed', `launch time on ${run.host}: the host's realtime clock stepped during the apply (it has no readable /proc/timer_list): sample discarded`);
  return Object.entries(applied.clocks ?? {})
    .filter(([, clock]) => clock !== 'monotonic')
    .map(([host, clock]) => `${host} timed with its ${clock} clock (no readable /proc/timer_list), guarded by /proc/uptime`);
}

function replyNotes(launches: readonly ContainerLaunch[], layout: LaunchLayout, run: LaunchRun): string[] {
  const missing = launches.filter((launch) => launch.noReply);
  if (missing.length === launches.length) {
    throw new CnlabError('workload-failed', `launch time: no container of mode ${launchModeName(layout)} on host ${run.host} got a first ping reply (${missing.map((launch) => launch.name).join(', ')}): check the network with \`cnlab topology verify\``);
  }
  return missing.map((launch) => `noReply: ${launch.name} got no first ping reply within the bound: its sample is excluded`);
}

async function tearDown(ctx: WorkloadContext, run: LaunchRun): Promise<string | null> {
  const started = new Date();
  const hosts = await run.labs.teardown(run.labId);
  const problems = hosts.filter((host) => host.error || host.leftovers.length > 0);
  const problem = problems.length > 0 ? `lab ${run.labId} was not fully torn down on ${problems.map((host) => `${host.host} (${host.error ?? `${host.leftovers.length} objects left`})`).join(', ')}: run \`cnlab sweep\`` : null;
  ctx.logCommand({ host: hosts.map((host) => host.host).join(','), command: `(cnlab) teardown lab ${run.labId}`, exitCode: problem ? 1 : 0, durationMs: Date.now() - started.getTime(), startedAt: started.toISOString(), ...(problem ? { error: problem } : {}) });
  return problem;
}

export async function runLaunch(ctx: WorkloadContext, run: LaunchRun): Promise<Measurement> {
  const layout = launchLayout(run);
  let prober: PeerProber | null = null;
  let measurement: Measurement | null = null;
  const started = new Date();
  try {
    const { applied, peer } = layout.peerHost
      ? await applyWithPeer(ctx, run, { ...layout, peerHost: layout.peerHost }, (started) => (prober = started))
      : { applied: await run.labs.apply(layout.spec, { timings: true, signal: ctx.signal }), peer: null };
    // A cancel that arrived as the last step finished still cancels: the user asked for no measurement.
    if (ctx.signal.aborted) throw new CnlabError('cancelled', `launch time on ${run.host} was cancelled`);
    ctx.logCommand({ host: layout.spec.hosts.join(','), command: `(cnlab) timed apply of lab ${run.labId}`, exitCode: 0, durationMs: Date.now() - started.getTime(), startedAt: started.toISOString() });
    await ctx.saveRaw('launch-timings.json', JSON.stringify(applied.timings, null, 1));
    const notes = checkClock(applied, run);
    // Modes none and host have no link of their own, so nothing to ping: a none container's launch is its
    // namespace alone, a host container's (runtime docker) its create and start, on the host's own stack.
    const launches = containerLaunches(applied.timings, layout.measured, layout.network.mode !== 'none' && layout.network.mode !== 'host');
    notes.push(...replyNotes(launches, layout, run));
    const { metrics, samples } = launchMetrics(launches);
    metrics.launchHostSetupMs = hostSetupMs(applied.timings, run.host);
    const rawSamples: Record<string, number[]> = { launchMs: samples };
    if (layout.sharesNetns) notes.push(`mode container: ${layout.measured.join(', ')} joined the namespace of ${OWNER} (network ${layout.network.name}, mode ${layout.network.mode}), created before them and not a sample; they answer on its address`);
    if (layout.peerSkipped) notes.push(`fromPeer: ${layout.peerSkipped}; no peer measurement`);
    if (peer) {
      const outcome = await peer();
      Object.assign(metrics, outcome.metrics);
      Object.assign(rawSamples, outcome.rawSamples);
      notes.push(...outcome.notes);
    }
    measurement = { metrics, rawSamples, notes };
  } catch (error) {
    if (!(error instanceof CnlabError)) throw error;
    if (error.code !== 'cancelled' && ctx.signal.aborted) throw new CnlabError('cancelled', `launch time on ${run.host} was cancelled`);
    throw error;
  } finally {
    await (prober as PeerProber | null)?.stop();
    const problem = await tearDown(ctx, run);
    if (problem && measurement) throw new CnlabError('command-failed', problem);
  }
  return measurement;
}
