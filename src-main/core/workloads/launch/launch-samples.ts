// From a timed apply's step timings (and a peer prober's replies) to a launch-time measurement: per
// measured container the wall time from its first step to its first reply, per phase the mean, and the
// peer's convergence split into the cases that differ in cost. Pure: tested without hosts.
import type { StepTiming } from '../../topology/lab-runtime';
import type { StepPhase } from '../../topology/plan';
import type { ProbeReply } from './peer-prober';

/** Metric name of each per-container phase. */
const PHASE_METRICS: Partial<Record<StepPhase, string>> = {
  'container-create': 'launchCreateMs',
  'container-start': 'launchStartMs',
  netns: 'launchNetnsMs',
  links: 'launchLinksMs',
  addresses: 'launchAddressesMs',
  'link-up': 'launchLinkUpMs',
  routes: 'launchRoutesMs',
  shaping: 'launchShapingMs',
  cni: 'launchCniMs',
  'first-reply': 'launchFirstReplyMs',
};

export interface ContainerLaunch {
  name: string;
  /** Wall time from its first step to its first reply (launchSpan); null when it got no reply (not a sample). */
  launchMs: number | null;
  phases: Partial<Record<StepPhase, number>>;
  /** When its first step began, ms after its host's script began (its host's clock). */
  startMs: number | null;
  noReply: boolean;
}

/**
 * Wall time on the host from the container's first step to its first reply: what a user waits for,
 * including the work between steps (cnlab's ledger writes, as Docker's bookkeeping counts in `docker
 * run`). Without step start times (older scripts) the sum of the phases, which leaves that work out.
 */
export function launchSpan(own: readonly StepTiming[]): number {
  const sum = own.reduce((total, timing) => total + timing.durationMs, 0);
  if (own.length === 0 || own.some((timing) => timing.startMs === undefined)) return sum;
  const start = Math.min(...own.map((timing) => timing.startMs ?? 0));
  const end = Math.max(...own.map((timing) => (timing.startMs ?? 0) + timing.durationMs));
  return Math.max(sum, end - start);
}

export function containerLaunches(timings: readonly StepTiming[], measured: readonly string[], expectReply: boolean): ContainerLaunch[] {
  return measured.map((name) => {
    const own = timings.filter((timing) => timing.container === name);
    const phases: Partial<Record<StepPhase, number>> = {};
    for (const timing of own) if (timing.phase) phases[timing.phase] = (phases[timing.phase] ?? 0) + timing.durationMs;
    const reply = own.find((timing) => timing.phase === 'first-reply');
    const noReply = own.length === 0 || (expectReply && (!reply || reply.noReply === true));
    const starts = own.map((timing) => timing.startMs).filter((start): start is number => start !== undefined);
    return { name, launchMs: noReply ? null : launchSpan(own), phases, startMs: starts.length > 0 ? Math.min(...starts) : null, noReply };
  });
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

export function launchMetrics(launches: readonly ContainerLaunch[]): { metrics: Record<string, number>; samples: number[] } {
  const replied = launches.filter((launch) => launch.launchMs !== null);
  const samples = replied.map((launch) => launch.launchMs ?? 0);
  const metrics: Record<string, number> = { launchMs: mean(samples), containers: replied.length };
  for (const [phase, metric] of Object.entries(PHASE_METRICS) as [StepPhase, string][]) {
    const values = replied.map((launch) => launch.phases[phase]).filter((value): value is number => value !== undefined);
    if (values.length > 0) metrics[metric] = mean(values);
  }
  return { metrics, samples };
}

/** Host-level steps of the measured host (bridge, VTEP, peers' entries): not part of a container's launch. */
export function hostSetupMs(timings: readonly StepTiming[], host: string): number {
  return timings.filter((timing) => timing.host === host && timing.container === null).reduce((sum, timing) => sum + timing.durationMs, 0);
}

export interface PeerFigures {
  metrics: Record<string, number>;
  rawSamples: Record<string, number[]>;
  notes: string[];
}

/**
 * Peer convergence of each measured container: the prober's time from go to its first reply minus
 * when the container's first step began on its host (each a duration on one clock). The first
 * container is the first of a host that had none; a later one counts as "existing block" only when it
 * was created after the peer already reached the first (else the block was not known yet either).
 */
export function peerFigures(launches: readonly ContainerLaunch[], replies: readonly ProbeReply[], addressOf: (name: string) => string): PeerFigures {
  const notes: string[] = [];
  const times = launches.map((launch) => {
    const reply = replies.find((candidate) => candidate.address === addressOf(launch.name));
    if (!reply || reply.ms === null) {
      notes.push(`the peer got no reply from ${launch.name} (${addressOf(launch.name)}) within its bound: not a sample`);
      return null;
    }
    if (launch.startMs === null) return null;
    return { name: launch.name, goMs: reply.ms, ms: reply.ms - launch.startMs, startMs: launch.startMs };
  });
  const metrics: Record<string, number> = {};
  const rawSamples: Record<string, number[]> = {};
  const first = times[0];
  if (first) metrics.peerFirstContainerMs = first.ms;
  const existing: number[] = [];
  times.slice(1).forEach((time, index) => {
    if (!time) return;
    if (first && time.startMs >= first.goMs) existing.push(time.ms);
    else notes.push(`${launches[index + 1]?.name ?? '?'} was created before the peer reached the first container: not an existing-block sample`);
  });
  if (existing.length > 0) {
    metrics.peerExistingBlockMs = mean(existing);
    rawSamples.peerExistingBlockMs = existing;
  }
  return { metrics, rawSamples, notes };
}
