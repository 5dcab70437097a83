// Network modes ranked by the user's priorities from a workspace's measured runs. Throughput, latency and
// launch time are taken relative to a reference in the same run (absolute numbers from different hosts and
// days do not compare), averaged over cells and runs with their 95% intervals; isolation, multi-host reach
// and encryption are properties of the modes, each naming its source. Pure: runs in, a view out, no I/O.
import { BASELINE_MODE, CONTAINER_MODE, canonicalJson, type ModeCase, type Placement } from '../experiment/experiment-schema';
import { compareMoments, type Summary } from '../stats';
import { expectedReachable } from '../topology/modes/reachability';
import { MODES, networkSchema } from '../topology/topology-schema';
import type { WorkloadParams } from '../workloads/workload-params';
import {
  RECOMMENDATION_CRITERIA,
  type RankedMode,
  type RecommendationCriterion,
  type RecommendationEvidence,
  type RecommendationPriorities,
  type RecommendationView,
} from './recommendation-view';

/** One cell of a run as the ranking reads it: a CellSummary's fields, with the cell's own workload. */
export interface RecommendationCellInput {
  cellId: string;
  caseLabel: string;
  axisValues: Record<string, string | number | boolean>;
  /** The cell's workload (axes applied); absent: the experiment's workload. */
  params?: WorkloadParams;
  primary: { name: string; unit: string; higherIsBetter: boolean };
  /** Summaries of the measured repetitions; only the primary metric's is read. */
  metrics: Record<string, Pick<Summary, 'n' | 'mean' | 'stdDev' | 'ci95' | 'noisy'>>;
}

/** One finished (or partly finished) run: which cases it compared, where, with what, and its cells. */
export interface RecommendationRunInput {
  /** The id the Results view uses (imports/<bundle>/<run> for imported runs). */
  runId: string;
  name: string;
  experiment: {
    modes: readonly Pick<ModeCase, 'label' | 'mode' | 'placement' | 'runtime' | 'sharesNetns'>[];
    workload: WorkloadParams;
    placement: Placement;
    baseline?: string | undefined;
  };
  cells: readonly RecommendationCellInput[];
}

/** An experiment the advice can name: a study template's part (or an example), with what it would measure. */
export interface SuggestedExperiment {
  /** How the advice names it, e.g. "study suo2018-fig4 (part throughput)". */
  ref: string;
  /** Mode keys of its cases ("bridge", "vxlan (docker)"; "baseline" for no container). */
  modes: string[];
  criteria: MeasuredCriterion[];
  /** Some of its cases put client and server on different hosts. */
  acrossHosts: boolean;
}

export interface RecommendOptions {
  /** What the advice may suggest (from the shipped study templates); examples are named when none fits. */
  experiments?: readonly SuggestedExperiment[];
}

const MEASURED = ['throughput', 'latency', 'startup'] as const;
export type MeasuredCriterion = (typeof MEASURED)[number];
const isMeasured = (criterion: RecommendationCriterion): criterion is MeasuredCriterion => (MEASURED as readonly string[]).includes(criterion);

/** Which way is better for each measured criterion (a metric running the other way is inverted: RR → latency). */
const HIGHER_IS_BETTER: Record<MeasuredCriterion, boolean> = { throughput: true, latency: false, startup: false };
const NOUN: Record<RecommendationCriterion, string> = { throughput: 'throughput', latency: 'latency', startup: 'launch time', isolation: 'isolation', multiHost: 'multi-host', encryption: 'encryption' };

/** A combined interval no wider than ± this many percentage points counts as measured. */
const NARROW_HALF_WIDTH = 10;
/** Runs an evidence line lists by id (the newest, in the order given); its summary counts them all. */
export const MAX_LISTED_RUNS = 50;
/** Scores closer than this are "too close to call" when their intervals overlap too. */
const CLOSE_SCORES = 0.05;

/** The examples named when no study template covers what is missing. */
const EXAMPLES: Record<MeasuredCriterion, string> = {
  throughput: 'examples/experiment-quick-throughput.yaml',
  latency: 'examples/experiment-latency-sizes.yaml',
  startup: 'examples/experiment-launch-time.yaml',
};

/** "bridge", "vxlan (docker)": the mode with its runtime when that is not cnlab's own (netns). */
export function modeKey(entry: Pick<ModeCase, 'mode' | 'runtime'>): string {
  return entry.runtime === 'docker' && entry.mode !== BASELINE_MODE ? `${entry.mode} (docker)` : entry.mode;
}

const baseMode = (key: string): string => key.replace(/ \(docker\)$/, '');

/** Which criterion a cell's primary metric speaks to, or null (e.g. UDP at a fixed rate measures that rate, not capacity). */
export function measureOf(params: WorkloadParams, primary: RecommendationCellInput['primary']): { criterion: MeasuredCriterion; inverted: boolean; source: string } | null {
  const measure = (criterion: MeasuredCriterion, source: string) => {
    const inverted = primary.higherIsBetter !== HIGHER_IS_BETTER[criterion];
    return { criterion, inverted, source: inverted ? `${source} (latency from ${primary.unit})` : source };
  };
  switch (params.tool) {
    case 'iperf3':
      // iperf3 sends UDP at 1 Gbit/s unless told 0 (unlimited): below the link rate it measures the set rate.
      if (params.protocol === 'udp' && params.bitrate !== 0) return null;
      return measure('throughput', `iperf3 ${params.protocol.toUpperCase()}`);
    case 'netperf':
      return measure(params.test === 'TCP_STREAM' ? 'throughput' : 'latency', `netperf ${params.test}`);
    case 'sockperf':
      return measure(params.test === 'ping-pong' ? 'latency' : 'throughput', `sockperf ${params.test} ${params.protocol.toUpperCase()}`);
    case 'ping':
      return measure('latency', 'ping');
    case 'launch':
      return measure('startup', 'launch');
  }
}

// ---------------------------------------------------------------------------------------------------
// Properties of the modes

interface Property {
  score: number;
  summary: string;
}

const SUO_TABLE_II = 'Suo et al., INFOCOM 2018, Table II';
/** Table II rates the single-host modes only; the others give each container its own namespace, as bridge does. */
const OWN_NAMESPACE = `bridge's rating in ${SUO_TABLE_II}, for the same own namespace`;

const ISOLATION: Record<string, { score: number; level: string; why: string; source: string }> = {
  none: { score: 1, level: 'high', why: 'loopback only: nothing reaches it', source: SUO_TABLE_II },
  bridge: { score: 2 / 3, level: 'moderate', why: 'its own network namespace and address; the containers of its bridge reach it', source: SUO_TABLE_II },
  macvlan: { score: 2 / 3, level: 'moderate', why: "its own network namespace, with an address on the hosts' LAN segment", source: OWN_NAMESPACE },
  ipvlan: { score: 2 / 3, level: 'moderate', why: "its own network namespace, sharing the parent NIC's MAC address on the LAN segment", source: OWN_NAMESPACE },
  nat: { score: 2 / 3, level: 'moderate', why: "its own network namespace; published ports are open on the host's address", source: OWN_NAMESPACE },
  vxlan: { score: 2 / 3, level: 'moderate', why: 'its own network namespace on an overlay segment of its own', source: OWN_NAMESPACE },
  routed: { score: 2 / 3, level: 'moderate', why: 'its own network namespace, routed between the hosts', source: OWN_NAMESPACE },
  container: { score: 1 / 3, level: 'medium', why: 'shares its network namespace with the other containers of its group (a pod): no protection between them', source: SUO_TABLE_II },
  host: { score: 0, level: 'low', why: "the host's own network stack and address: no network isolation at all", source: SUO_TABLE_II },
};

const MULTI_HOST_WHY: Record<string, string> = {
  none: 'no network: it reaches nothing',
  host: "the host's own stack: containers talk at the hosts' addresses (and share their ports)",
  bridge: 'a host-local bridge: containers on other hosts are not reachable',
  nat: "host-local; other hosts reach it only through ports published on the host's address",
  macvlan: "containers sit on the hosts' LAN: reachable across hosts (the parent NICs must share a segment)",
  ipvlan: "containers sit on the hosts' LAN: reachable across hosts (the parent NICs must share a segment)",
  vxlan: 'an overlay between the hosts',
  routed: "routes between the hosts' container subnets",
  container: "joins its group owner's namespace on a host-local bridge",
};

/**
 * Whether the mode connects containers on different hosts, from cnlab's own reachability model (what verify
 * expects), so the answer cannot drift from what cnlab builds. Container mode's owners sit on a bridge.
 */
function reachesAcrossHosts(mode: string): boolean | null {
  const networkMode = mode === CONTAINER_MODE ? 'bridge' : mode;
  if (!(MODES as readonly string[]).includes(networkMode)) return null;
  const network = networkSchema.parse({ name: 'net', mode: networkMode });
  return expectedReachable(network, 'host-a', 'host-b');
}

/** A property of a mode for a criterion, or null when cnlab knows nothing of it (measured criteria: only none's "no traffic"). */
function propertyOf(criterion: RecommendationCriterion, key: string): Property | null {
  const mode = baseMode(key);
  if (mode === BASELINE_MODE) return null;
  switch (criterion) {
    case 'isolation': {
      const level = ISOLATION[mode];
      return level ? { score: level.score, summary: `${level.level} isolation: ${level.why} (property of the mode: ${level.source})` } : null;
    }
    case 'multiHost': {
      const reaches = reachesAcrossHosts(mode);
      if (reaches === null) return null;
      const why = MULTI_HOST_WHY[mode] ?? '';
      return { score: reaches ? 1 : 0, summary: `${reaches ? 'connects' : 'does not connect'} containers across hosts: ${why} (property of the mode: cnlab's reachability model, which verify checks)` };
    }
    case 'encryption':
      if (!ISOLATION[mode]) return null;
      return {
        score: 0,
        summary:
          mode === 'none'
            ? 'carries no traffic, and encrypts none (property of the mode)'
            : "does not encrypt: its traffic crosses the hosts' network in clear text (property: no cnlab mode encrypts; Suo et al. Table IV lists encryption only for Weave, Flannel and Calico, whose data paths cnlab builds without it)",
      };
    default:
      // A container without a network has no throughput or latency to measure: that is what it is, not missing data.
      return mode === 'none' && criterion !== 'startup' ? { score: 0, summary: `carries no traffic: loopback only, no ${NOUN[criterion]} to measure (property of the mode)` } : null;
  }
}

/** Why a mode fails a criterion weighted 3 (required), or null when it passes or there is nothing to judge. */
function failsRequired(criterion: RecommendationCriterion, key: string): string | null {
  const property = propertyOf(criterion, key);
  if (!property) return null;
  const mode = baseMode(key);
  switch (criterion) {
    case 'isolation': {
      const level = ISOLATION[mode];
      return level && level.score < 2 / 3 ? `isolation required: ${level.level} isolation (${level.why})` : null;
    }
    case 'multiHost':
      return property.score === 0 ? `multi-host required: ${MULTI_HOST_WHY[mode] ?? 'does not connect containers across hosts'}` : null;
    case 'encryption':
      return 'encryption required: no cnlab mode encrypts its traffic';
    default:
      return property.score === 0 ? `${NOUN[criterion]} required: it carries no traffic` : null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Measured criteria

/** One mode's cell against its group's reference, in % of the reference, in the criterion's own terms. */
interface Observation {
  mode: string;
  criterion: MeasuredCriterion;
  runId: string;
  runName: string;
  cellId: string;
  percent: number;
  /** Half-width of the 95% interval in percentage points; null without one (single repetitions). */
  halfWidth: number | null;
  /** Whom it was compared with: a mode key, or null when it was the reference itself. */
  reference: string | null;
  /** When it was the reference: as the run's baseline case, or as the best case of its group. */
  referenceRole: 'baseline' | 'best' | null;
  acrossHosts: boolean;
  noisy: boolean;
  source: string;
}

/** Appends in place: thousands of runs make tens of thousands of observations. */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** latency = 1 / rate: a rate p % higher is a latency −100·p/(100 + p) % lower. */
const invertPercent = (percent: number): number => (-100 * percent) / (100 + percent);

/**
 * A run's observations do not depend on the priorities, and Welch's interval (a t quantile each) is most of
 * the work: kept per input object, which callers never change (the console keeps a run's input while its
 * files are unchanged), so asking again with other weights over thousands of runs costs no statistics.
 */
const observationCache = new WeakMap<RecommendationRunInput, Observation[]>();

function observationsOf(run: RecommendationRunInput): Observation[] {
  let observations = observationCache.get(run);
  if (!observations) {
    observations = computeObservations(run);
    observationCache.set(run, observations);
  }
  return observations;
}

function computeObservations(run: RecommendationRunInput): Observation[] {
  const cases = new Map(run.experiment.modes.map((entry) => [entry.label, entry]));
  type Entry = { cell: RecommendationCellInput; entry: (typeof run.experiment.modes)[number]; summary: RecommendationCellInput['metrics'][string]; measure: NonNullable<ReturnType<typeof measureOf>> };
  const groups = new Map<string, Entry[]>();
  for (const cell of run.cells) {
    const entry = cases.get(cell.caseLabel);
    const measure = measureOf(cell.params ?? run.experiment.workload, cell.primary);
    const summary = cell.metrics[cell.primary.name];
    // A mean of 0 (or below) has no percentage against it, nor a meaningful one of it.
    if (!entry || !measure || !summary || summary.n < 1 || !(summary.mean > 0)) continue;
    // Cells of one run with the same axis values were measured alike: only the case differs.
    const key = `${measure.criterion} ${canonicalJson(cell.axisValues)}`;
    pushTo(groups, key, { cell, entry, summary, measure });
  }
  const observations: Observation[] = [];
  for (const group of groups.values()) {
    if (new Set(group.map((item) => item.entry.label)).size < 2) continue;
    const higher = group[0]?.cell.primary.higherIsBetter ?? true;
    // The run's own baseline case, else its no-container case, else the best case of the group.
    const named = group.find((item) => item.entry.label === run.experiment.baseline) ?? group.find((item) => item.entry.mode === BASELINE_MODE);
    const reference = named ?? group.reduce((best, item) => ((higher ? item.summary.mean > best.summary.mean : item.summary.mean < best.summary.mean) ? item : best));
    const moments = (summary: Entry['summary']) => ({ mean: summary.mean, variance: (summary.stdDev ?? 0) ** 2, n: summary.n });
    for (const item of group) {
      const base = { mode: modeKey(item.entry), criterion: item.measure.criterion, runId: run.runId, runName: run.name, cellId: item.cell.cellId, acrossHosts: item.entry.placement.server !== item.entry.placement.client, source: item.measure.source };
      if (item === reference) {
        // The reference is 0 % by definition; its own interval is what is uncertain about it.
        const own = item.summary.ci95 && item.summary.n >= 2 ? (item.summary.ci95.halfWidth / item.summary.mean) * 100 : null;
        const halfWidth = own === null ? null : item.measure.inverted ? Math.abs(invertPercent(own) - invertPercent(-own)) / 2 : own;
        observations.push({ ...base, percent: 0, halfWidth, reference: null, referenceRole: named ? 'baseline' : 'best', noisy: item.summary.noisy });
        continue;
      }
      const comparison = compareMoments(moments(item.summary), moments(reference.summary));
      let percent = comparison.percentChange;
      let interval = comparison.ci95;
      if (item.measure.inverted) {
        percent = invertPercent(percent);
        // Monotone but decreasing: the interval's ends swap; an end at −100 % (rate 0) has no latency.
        interval = interval && interval.low > -100 ? { low: invertPercent(interval.high), high: invertPercent(interval.low) } : null;
      }
      observations.push({ ...base, percent, halfWidth: interval ? (interval.high - interval.low) / 2 : null, reference: modeKey(reference.entry), referenceRole: null, noisy: item.summary.noisy || reference.summary.noisy });
    }
  }
  return observations;
}

interface Aggregate {
  percent: number;
  halfWidth: number | null;
  certainty: 'measured' | 'uncertain';
  summary: string;
  runs: RecommendationEvidence['runs'];
  /** Every run it rests on (the listed runs stop at MAX_LISTED_RUNS). */
  runIds: ReadonlySet<string>;
}

const sign = (value: number): string => (value < 0 ? '−' : value > 0 ? '+' : '±');
const number = (value: number): string => `${sign(value)}${Math.abs(value).toFixed(1)}`;
const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
const names = (keys: readonly string[]): string => (keys.length <= 1 ? (keys[0] ?? '') : `${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}`);
const referenceName = (key: string): string => (key === BASELINE_MODE ? 'baseline (no container)' : key);

/** Root of the summed squares over n: the interval of a mean of independent estimates from theirs. */
function meanHalfWidth(halfWidths: readonly (number | null)[]): number | null {
  if (halfWidths.some((value) => value === null)) return null;
  return Math.sqrt(halfWidths.reduce<number>((sum, value) => sum + (value ?? 0) ** 2, 0)) / halfWidths.length;
}

/**
 * A mode's observations on one criterion: the mean of each run's mean over its cells (runs are the
 * independent replications, so a run with many cells does not outweigh the others), with the interval of
 * that mean from the cells' Welch intervals. Differences between cells (message sizes, pairs) are effects of
 * the conditions, not noise: they are reported as a range, not folded into the interval.
 */
function aggregate(criterion: MeasuredCriterion, observations: readonly Observation[]): Aggregate {
  const byRun = new Map<string, Observation[]>();
  for (const observation of observations) pushTo(byRun, observation.runId, observation);
  const runMeans = [...byRun.values()].map((items) => ({ percent: items.reduce((sum, item) => sum + item.percent, 0) / items.length, halfWidth: meanHalfWidth(items.map((item) => item.halfWidth)) }));
  const percent = runMeans.reduce((sum, item) => sum + item.percent, 0) / runMeans.length;
  const halfWidth = meanHalfWidth(runMeans.map((item) => item.halfWidth));
  const onlyReference = observations.every((item) => item.reference === null);
  const significant = halfWidth !== null && !onlyReference && (percent - halfWidth > 0 || percent + halfWidth < 0);
  const certainty = halfWidth !== null && (halfWidth <= NARROW_HALF_WIDTH || significant) ? 'measured' : 'uncertain';

  const references = [...new Set(observations.map((item) => (item.reference === null ? 'itself (the reference)' : referenceName(item.reference))))];
  const interval = halfWidth === null ? ' (no interval: single repetitions)' : onlyReference ? ` (0 % by definition; its own 95% CI ±${halfWidth.toFixed(1)} %)` : ` (95% CI ${number(percent - halfWidth)} to ${number(percent + halfWidth)} %)`;
  const hosts = new Set(observations.map((item) => item.acrossHosts));
  const where = hosts.size === 2 ? 'on one host and across hosts' : hosts.has(true) ? 'across hosts' : 'on one host';
  const values = observations.map((item) => item.percent);
  const [low, high] = [Math.min(...values), Math.max(...values)];
  const range = observations.length > 1 && high - low >= 1 ? `; cells range ${number(low)} to ${number(high)} %` : '';
  const noisy = observations.filter((item) => item.noisy).length;
  const noise = noisy > 0 ? `; ${plural(noisy, 'noisy cell')} (CV above 10 %)` : '';
  const roles = new Set(observations.map((item) => item.referenceRole));
  const head = !onlyReference
    ? `${number(percent)} % ${NOUN[criterion]} vs ${names(references)}`
    : roles.has('best') && !roles.has('baseline')
      ? `the best ${NOUN[criterion]} of its comparisons, so their reference`
      : roles.has('baseline') && !roles.has('best')
        ? `the baseline case its runs compare the others with`
        : `the reference of its comparisons (the baseline case, or the best)`;
  const summary = `${head}${interval}, ${plural(byRun.size, 'run')}, ${plural(observations.length, 'cell')}, ${where}${range}${noise}; ${[...new Set(observations.map((item) => item.source))].join(', ')}`;
  // Thousands of runs are a count in the summary; the list names the newest (the page shows them as links).
  const runs = [...byRun.entries()].slice(-MAX_LISTED_RUNS).map(([runId, items]) => ({ runId, name: items[0]?.runName ?? runId, cells: items.map((item) => item.cellId) }));
  return { percent, halfWidth, certainty, summary, runs, runIds: new Set(byRun.keys()) };
}

/** Performance relative to the reference (1 = as good), in the direction where larger is better. */
function goodness(criterion: MeasuredCriterion, percent: number): number {
  return HIGHER_IS_BETTER[criterion] ? Math.max(0, 1 + percent / 100) : 100 / Math.max(1, 100 + percent);
}

// ---------------------------------------------------------------------------------------------------
// Advice

function suggestion(criterion: MeasuredCriterion, modes: readonly string[], acrossHosts: boolean, experiments: readonly SuggestedExperiment[]): string {
  // Greedy cover of the modes by the experiments that measure the criterion, preferring ones across hosts
  // when multi-host matters (and on one host when it does not): at most three, each naming what it adds.
  const candidates = experiments.filter((item) => item.criteria.includes(criterion));
  const wanted = new Set(modes);
  const chosen: string[] = [];
  while (chosen.length < 3 && wanted.size > 0) {
    const ranked = candidates
      .map((item) => ({ item, covers: item.modes.filter((mode) => wanted.has(mode)) }))
      .filter(({ covers }) => covers.length > 0)
      .sort((a, b) => b.covers.length - a.covers.length || Number(b.item.acrossHosts === acrossHosts) - Number(a.item.acrossHosts === acrossHosts) || a.item.ref.localeCompare(b.item.ref));
    const best = ranked[0];
    if (!best) break;
    chosen.push(`${best.item.ref} (${best.covers.join(', ')})`);
    for (const mode of best.covers) wanted.delete(mode);
  }
  const rest = [...wanted];
  if (rest.length > 0 || chosen.length === 0) chosen.push(`an experiment like ${EXAMPLES[criterion]}${rest.length > 0 ? ` with modes ${rest.join(', ')}` : ''}`);
  return chosen.join(', or ');
}

// ---------------------------------------------------------------------------------------------------

interface ModeState {
  key: string;
  evidence: RecommendationEvidence[];
  aggregates: Partial<Record<MeasuredCriterion, Aggregate>>;
  missing: RecommendationCriterion[];
  failed: string[];
  score: number | null;
  /** Has evidence for a weighted measured criterion (the ranking's first tier). */
  measured: boolean;
}

/** cnlab's own modes, in the order its docs list them, so the output is stable. */
const KNOWN_MODES = [...MODES, CONTAINER_MODE];
const modeOrder = (key: string): number => {
  const index = KNOWN_MODES.indexOf(baseMode(key));
  return (index < 0 ? KNOWN_MODES.length : index) * 2 + (key.endsWith('(docker)') ? 1 : 0);
};
const byModeOrder = (a: string, b: string): number => modeOrder(a) - modeOrder(b) || a.localeCompare(b);

export function recommend(runs: readonly RecommendationRunInput[], priorities: RecommendationPriorities, options: RecommendOptions = {}): RecommendationView {
  const experiments = options.experiments ?? [];
  const weighted = RECOMMENDATION_CRITERIA.filter((criterion) => priorities[criterion] > 0);
  const observations = runs.flatMap(observationsOf);

  // Every cnlab mode is a candidate (unmeasured ones show what to run); runs add their runtimes' variants.
  const keys = [...new Set([...KNOWN_MODES, ...runs.flatMap((run) => run.experiment.modes.map(modeKey))])].sort(byModeOrder);
  const states = new Map<string, ModeState>(keys.map((key) => [key, { key, evidence: [], aggregates: {}, missing: [], failed: [], score: null, measured: false }]));

  for (const criterion of MEASURED) {
    const byMode = new Map<string, Observation[]>();
    for (const observation of observations) if (observation.criterion === criterion) pushTo(byMode, observation.mode, observation);
    for (const [mode, items] of byMode) {
      const state = states.get(mode);
      if (state) state.aggregates[criterion] = aggregate(criterion, items);
    }
  }

  for (const criterion of weighted) {
    // Scores of measured criteria are relative to the best container mode: the baseline is a reference, not a rival.
    const best = isMeasured(criterion)
      ? Math.max(0, ...[...states.values()].flatMap((state) => (state.key !== BASELINE_MODE && state.aggregates[criterion] ? [goodness(criterion, state.aggregates[criterion].percent)] : [])))
      : 0;
    for (const state of states.values()) {
      const measured = isMeasured(criterion) ? state.aggregates[criterion] : undefined;
      const property = measured ? null : propertyOf(criterion, state.key);
      if (measured) {
        // The baseline is the reference, not one of the modes compared: it gets no score of its own.
        const score = best > 0 && state.key !== BASELINE_MODE ? goodness(criterion as MeasuredCriterion, measured.percent) / best : null;
        state.evidence.push({ criterion, score, summary: measured.summary, certainty: measured.certainty, runs: measured.runs });
      } else if (property) {
        state.evidence.push({ criterion, score: property.score, summary: property.summary, certainty: 'property', runs: [] });
      } else if (state.key !== BASELINE_MODE) {
        state.missing.push(criterion);
      }
      if (priorities[criterion] === 3) {
        const why = failsRequired(criterion, state.key);
        if (why) state.failed.push(why);
      }
    }
  }

  const measuredWeighted = weighted.filter(isMeasured);
  for (const state of states.values()) {
    let sum = 0;
    let weights = 0;
    for (const item of state.evidence) {
      if (item.score === null) continue;
      sum += priorities[item.criterion] * item.score;
      weights += priorities[item.criterion];
    }
    state.score = weights > 0 ? sum / weights : null;
    state.measured = state.evidence.some((item) => isMeasured(item.criterion));
  }

  // Ranked: modes with evidence on a weighted measured criterion first (a mode nobody measured cannot win on
  // its properties alone), then by score; equal scores share a rank.
  const tier = (state: ModeState): number => (measuredWeighted.length > 0 && !state.measured ? 1 : 0);
  const candidates = [...states.values()].filter((state) => state.key !== BASELINE_MODE && state.failed.length === 0);
  candidates.sort((a, b) => tier(a) - tier(b) || (b.score ?? -1) - (a.score ?? -1) || byModeOrder(a.key, b.key));
  const ranked: RankedMode[] = [];
  candidates.forEach((state, index) => {
    const previous = candidates[index - 1];
    const tied = previous && tier(previous) === tier(state) && Math.abs((previous.score ?? -1) - (state.score ?? -1)) < 1e-9;
    const rank = tied ? (ranked[index - 1]?.rank ?? index + 1) : index + 1;
    ranked.push({ mode: state.key, rank, score: state.score, evidence: state.evidence, missing: state.missing, excluded: null });
  });
  const excluded = [...states.values()].filter((state) => state.key !== BASELINE_MODE && state.failed.length > 0);
  for (const state of excluded) ranked.push({ mode: state.key, rank: 0, score: state.score, evidence: state.evidence, missing: state.missing, excluded: state.failed.join('; ') });
  const reference = states.get(BASELINE_MODE);
  if (reference && reference.evidence.length > 0) {
    ranked.push({ mode: BASELINE_MODE, rank: 0, score: null, evidence: reference.evidence, missing: [], excluded: 'the baseline: no container network (client and server on the hosts themselves), the reference the modes are measured against' });
  }

  // The basis is what the weighted criteria rest on, not every run of the workspace.
  const used = observations.filter((item) => priorities[item.criterion] > 0);
  const basis = { runs: new Set(used.map((item) => item.runId)).size, modes: new Set(used.filter((item) => item.mode !== BASELINE_MODE).map((item) => item.mode)).size };
  const advice = adviceFor({ priorities, weighted, runs, states: [...states.values()], ranked, basis, experiments });
  return { priorities, ranked, advice, basis };
}

function adviceFor(input: {
  priorities: RecommendationPriorities;
  weighted: readonly RecommendationCriterion[];
  runs: readonly RecommendationRunInput[];
  states: readonly ModeState[];
  ranked: readonly RankedMode[];
  basis: RecommendationView['basis'];
  experiments: readonly SuggestedExperiment[];
}): string[] {
  const { priorities, weighted, states, ranked, basis, experiments } = input;
  const advice: string[] = [];
  if (weighted.length === 0) return ['Nothing is weighted: give at least one criterion a weight (1 nice to have, 2 important, 3 required).'];
  const acrossHosts = priorities.multiHost > 0;
  if (input.runs.length === 0) advice.push('This workspace has no finished runs yet: the ranking rests on the modes’ properties alone.');
  else if (basis.runs === 0 && weighted.some(isMeasured)) {
    advice.push(`None of the ${plural(input.runs.length, 'finished run')} compares two modes on throughput, latency or launch time (each needs at least two cases with results in one run).`);
  }

  const open = states.filter((state) => state.key !== BASELINE_MODE && state.failed.length === 0 && baseMode(state.key) !== 'none');
  for (const criterion of weighted.filter(isMeasured)) {
    const measured = open.filter((state) => state.aggregates[criterion]);
    const missing = open.filter((state) => !state.aggregates[criterion]).map((state) => state.key);
    const noun = NOUN[criterion];
    if (measured.length === 0) {
      advice.push(`No ${noun} measured in this workspace: run ${suggestion(criterion, missing, acrossHosts, experiments)}.`);
      continue;
    }
    if (measured.length === 1) advice.push(`Only ${measured[0]?.key} has ${noun} measured, so nothing is ranked against it on ${noun} yet.`);
    if (missing.length > 0) advice.push(`No ${noun} measured for ${names(missing)}: run ${suggestion(criterion, missing, acrossHosts, experiments)}.`);
    const shaky = ranked
      .filter((entry) => entry.excluded === null)
      .slice(0, 3)
      .filter((entry) => entry.evidence.some((item) => item.criterion === criterion && item.certainty === 'uncertain'))
      .map((entry) => entry.mode);
    if (shaky.length > 0) advice.push(`The ${noun} of ${names(shaky)} rests on single repetitions or wide intervals: add repetitions (or run again) to firm it up.`);
  }

  const [first, second] = ranked.filter((entry) => entry.excluded === null);
  const firstState = states.find((state) => state.key === first?.mode);
  const secondState = states.find((state) => state.key === second?.mode);
  // Each run's numbers are relative to its own reference: two modes never measured side by side are ordered
  // through different references (the baseline in one run, the best case in another), which is weaker.
  const apart = weighted.filter(isMeasured).filter((criterion) => {
    const a = firstState?.aggregates[criterion];
    const b = secondState?.aggregates[criterion];
    return a && b && ![...a.runIds].some((runId) => b.runIds.has(runId));
  });
  if (first && second && apart.length > 0) {
    advice.push(`${first.mode} and ${second.mode} were never measured in one run on ${names(apart.map((criterion) => NOUN[criterion]))}: their order rests on different references. Run both in one experiment (with the baseline) to compare them directly.`);
  }
  if (first && second && first.score !== null && second.score !== null && first.score - second.score < CLOSE_SCORES) {
    const overlapping = weighted.filter(isMeasured).filter((criterion) => {
      const a = firstState?.aggregates[criterion];
      const b = secondState?.aggregates[criterion];
      return a && b && (a.halfWidth === null || b.halfWidth === null || Math.abs(a.percent - b.percent) < a.halfWidth + b.halfWidth);
    });
    if (overlapping.length > 0) {
      advice.push(`${first.mode} and ${second.mode} are too close to call (scores ${first.score.toFixed(2)} and ${second.score.toFixed(2)}; their ${names(overlapping.map((criterion) => NOUN[criterion]))} intervals overlap): add repetitions, or a run with both.`);
    }
  }

  if (priorities.encryption === 3) {
    advice.push('No cnlab mode encrypts its traffic, so none meets “encryption required”: encrypt beneath the containers (IPsec or WireGuard between the hosts) or in the application (TLS) — cnlab neither builds nor measures that yet. Lower encryption to 2 or less to rank the modes anyway.');
  } else if (priorities.encryption > 0) {
    advice.push('No cnlab mode encrypts its traffic: encryption scores 0 for every mode and does not change the order.');
  }
  if (ranked.every((entry) => entry.excluded !== null) && priorities.encryption !== 3) {
    advice.push('No mode meets every required criterion (weight 3): lower one of them to 2 to rank the modes anyway.');
  }
  return advice;
}
