// Network launch time (Table VI of Suo et al.): one repetition = one timed apply of a lab with K
// containers on the measured host; each container's phases (namespace, links, addresses, link up,
// first reply) are timed on that host by its apply script with its monotonic clock, never across SSH.
// With fromPeer on a mode that spans hosts, the peer's host is applied first and a prober in a peer
// container times, with the peer's own clock, when each new container answers it. Always torn down.
import { CnlabError } from '../../errors';
import type { AppliedLab, LabService } from '../../topology/lab-service';
import type { LabEvent } from '../../topology/lab-runtime';
import type { LabPlan } from '../../topology/plan';
import type { Measurement, WorkloadContext } from '../workload-context';
import type { LaunchParams } from '../workload-params';
import { containerLaunches, hostSetupMs, launchMetrics, peerFigures, type ContainerLaunch } from './launch-samples';
import { launchLayout, PEER, type LaunchLayout } from './launch-topology';
import { PROBE_INTERVAL_S, startPeerProber, type PeerProber } from './peer-prober';

export interface LaunchRun {
  params: LaunchParams;
  labs: LabService;
  /** The network under test, e.g. { name: 'net', mode: 'vxlan', options: {...} } (a NetworkSpec input). */
  network: unknown;
  /** Lab name to use for this run (unique per run, ≤ 20 chars, [a-z][a-z0-9-]*). */
  labId: string;
  addressPool: string;
  backend?: 'iproute2' | 'cni';
  /** Host the measured containers are created on, and (multi-host modes) the peer host. */
  host: string;
  peerHost: string | null;
}

/** How long the peer probes each new container before it gives up. */
const PEER_BOUND_MS = 10_000;

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
    timings: true,
    signal: ctx.signal,
    hostOrder: [[layout.peerHost], [run.host]],
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
    const notes = [
      ...figures.notes,
      `peer times are from a prober on ${layout.peerHost} pinging every ${PROBE_INTERVAL_S * 1000} ms with its own ${results.clock ?? 'unknown'} clock, minus when the container's first step began on ${run.host} (its clock)`,
      ...(biasMs !== null ? [`the go signal reached the peer an estimated ${biasMs.toFixed(1)} ms before ${run.host}'s apply script began (go round trip ${goRoundTripMs.toFixed(1)} ms): peer times include it`] : []),
    ];
    return { metrics: { ...figures.metrics, ...(biasMs !== null ? { peerSignalBiasMs: biasMs } : {}) }, rawSamples: figures.rawSamples, notes };
  };
  return { applied, peer };
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
    throw new CnlabError('workload-failed', `launch time: no container of mode ${layout.network.mode} on host ${run.host} got a first ping reply (${missing.map((launch) => launch.name).join(', ')}): check the network with \`cnlab topology verify\``);
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
    ctx.logCommand({ host: layout.spec.hosts.join(','), command: `(cnlab) timed apply of lab ${run.labId}`, exitCode: 0, durationMs: Date.now() - started.getTime(), startedAt: started.toISOString() });
    await ctx.saveRaw('launch-timings.json', JSON.stringify(applied.timings, null, 1));
    const notes = checkClock(applied, run);
    // mode none has no link: its launch is the namespace alone, with nothing to ping.
    const launches = containerLaunches(applied.timings, layout.measured, layout.network.mode !== 'none');
    notes.push(...replyNotes(launches, layout, run));
    const { metrics, samples } = launchMetrics(launches);
    metrics.launchHostSetupMs = hostSetupMs(applied.timings, run.host);
    const rawSamples: Record<string, number[]> = { launchMs: samples };
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
