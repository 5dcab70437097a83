// The experiment file, format version 1: which modes to compare, where the client and server run,
// the workload and the axes of its parameter matrix, repetitions and how runs are ordered.
// Validated by one zod schema; a fingerprint (sha256 of canonical JSON) names exactly what was asked.
import { createHash } from 'node:crypto';
import { yamlDataOf } from '../yaml-data';
import { z } from 'zod';
import { CnlabError } from '../errors';
import { hostNameSchema } from '../hosts/host-model';
import { dockerOptionsSchema, networkSchema, OBJECT_NAME_PATTERN } from '../topology/topology-schema';
import { workloadSchema, type WorkloadParams } from '../workloads/workload-params';

const label = z.string().regex(OBJECT_NAME_PATTERN, 'a label has 1-31 lower-case letters, digits or "-" and starts with a letter');

export const placementSchema = z.object({ server: hostNameSchema, client: hostNameSchema }).strict();
export type Placement = z.infer<typeof placementSchema>;

/** "w/o container": the client and server run on the hosts themselves, as in the studies' baseline. */
export const BASELINE_MODE = 'baseline';

/**
 * Docker's `--network container:<owner>`, a Kubernetes pod: each client joins its server's network namespace
 * (shareNetnsWith), the server sits on a bridge network; launch time: each measured container joins an owner's.
 */
export const CONTAINER_MODE = 'container';

const modeEntrySchema = z
  .object({
    /** A network mode of the topology file, "container" (namespaces shared, owners on a bridge) or "baseline" (no container). */
    mode: z.string(),
    /** How the tables name this case (default: the mode). */
    label: label.optional(),
    /** The mode's options, as in a topology file's network (container: the owners' bridge network's). */
    options: z.record(z.string(), z.unknown()).optional(),
    /** This case's own placement (e.g. bridge only connects containers on one host). */
    placement: placementSchema.optional(),
    /** This case's runtime, when it differs from the experiment's (bridge under netns next to bridge under docker). */
    runtime: z.enum(['netns', 'docker']).optional(),
  })
  .strict();

const modesSchema = z.array(z.union([z.string(), modeEntrySchema])).min(1).max(16);

const axisValue = z.union([z.string(), z.number(), z.boolean()]);

export const experimentSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('experiment'),
    name: z.string().regex(OBJECT_NAME_PATTERN, 'a name has 1-31 lower-case letters, digits or "-" and starts with a letter'),
    description: z.string().max(2000).optional(),
    /** The host names this file uses; `--map name=inventoryHost` binds them to other inventory hosts. */
    hosts: z.array(hostNameSchema).min(1).max(16),
    addressPool: z.cidrv4().default('198.19.0.0/16'),
    backend: z.enum(['iproute2', 'cni']).default('iproute2'),
    /** Who makes the cases' labs: cnlab's own namespaces (netns) or Docker (docker); a case may override it. */
    runtime: z.enum(['netns', 'docker']).default('netns'),
    /** runtime docker: the lab image (see the topology file's docker.image). */
    docker: dockerOptionsSchema.optional(),
    placement: placementSchema,
    modes: modesSchema,
    workload: z.record(z.string(), z.unknown()),
    /** Workload parameters to vary: every combination is a cell. */
    axes: z.record(z.string(), z.array(axisValue).min(1).max(32)).default({}),
    /**
     * Scalability: N per cell (an axis). With pattern `pairs`, N concurrent client/server pairs; with
     * `all-to-all`, N containers (alternately on the server and client hosts) each sending to every other.
     */
    pairs: z.array(z.number().int().min(1).max(64)).min(1).max(16).default([1]),
    /** How the N of `pairs` load the network: N client→server pairs, or N containers all-to-all (N·(N−1) iperf3 flows). */
    pattern: z.enum(['pairs', 'all-to-all']).default('pairs'),
    /** Interference: K co-located containers on the server host loading the CPU while it measures. */
    interference: z
      .object({
        containers: z.array(z.number().int().min(0).max(64)).min(1).max(16),
        /** busy: a busy loop each; burst: about 10% of a CPU each, in 10 ms bursts every 100 ms. */
        load: z.enum(['busy', 'burst']).default('busy'),
      })
      .strict()
      .optional(),
    repetitions: z.number().int().min(1).max(1000).default(3),
    /** Runs per cell before the measured ones, discarded (caches, ARP, TCP metrics warm). */
    warmup: z.number().int().min(0).max(20).default(1),
    /** Seconds of rest between runs, so one run's tail does not skew the next. */
    cooldown: z.number().min(0).max(600).default(1),
    /** Random order of runs (blocked per topology so none is re-applied); off runs cells in file order. */
    randomize: z.boolean().default(true),
    /** Seed of the random order, for a repeatable order; the run records the one it used. */
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    /** The case others are compared with (its label). */
    baseline: label.optional(),
    /** Add repetitions until the 95% CI half-width of the primary metric is under `targetRelativeHalfWidth` × mean. */
    adaptive: z
      .object({ targetRelativeHalfWidth: z.number().gt(0).lt(1).default(0.05), maxRepetitions: z.number().int().min(2).max(1000).default(10) })
      .strict()
      .optional(),
    /** Sample CPU and the lab's link counters on the measured hosts every second. */
    sampleHosts: z.boolean().default(true),
    /** Made from a study template (resources/studies/): which study and which of its parts, so results sit beside the paper's. */
    study: z.object({ id: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a study id has lower-case letters, digits or "-"'), part: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a part name has lower-case letters, digits or "-"') }).strict().optional(),
  })
  .strict();

export type ExperimentInput = z.input<typeof experimentSchema>;
type ExperimentParsed = z.infer<typeof experimentSchema>;

/** A case of the modes list, normalised. */
export interface ModeCase {
  label: string;
  mode: string;
  /** The network of the case's topology (null for the baseline). */
  network: z.infer<typeof networkSchema> | null;
  placement: Placement;
  /** Absent in runs recorded before runtime docker existed: netns. */
  runtime?: 'netns' | 'docker';
  /**
   * Container mode: the case's containers share network namespaces (`network` is the owners' bridge network).
   * Set only when true, so other cases, their fingerprints and older runs are unchanged: absent = false.
   */
  sharesNetns?: true;
}

/** Whether a case's containers share network namespaces (container mode); false for records without the field. */
export function sharesNetns(entry: Pick<ModeCase, 'sharesNetns'>): boolean {
  return entry.sharesNetns === true;
}

export interface ExperimentSpec extends Omit<ExperimentParsed, 'modes' | 'workload'> {
  modes: ModeCase[];
  workload: WorkloadParams;
}

function describeIssues(error: z.ZodError, source: string, prefix: (string | number)[] = []): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [...prefix, ...issue.path];
      return `${source}: ${path.length > 0 ? path.join('.') : '(top)'}: ${issue.message}`;
    })
    .join('\n');
}

function invalid(source: string, message: string): CnlabError {
  return new CnlabError('invalid-input', `${source}: ${message}`);
}

function normaliseMode(entry: z.infer<typeof modesSchema>[number], index: number, parsed: ExperimentParsed, source: string): ModeCase {
  const { mode, label: name, options, placement, runtime: own } = typeof entry === 'string' ? { mode: entry, label: undefined, options: undefined, placement: undefined, runtime: undefined } : entry;
  const runtime = own ?? parsed.runtime;
  // A case under another runtime than the experiment's is told apart by default: bridge vs bridge-docker.
  const caseLabel = name ?? (own && own !== parsed.runtime ? `${mode}-${own}` : mode);
  if (mode === BASELINE_MODE) {
    if (options) throw invalid(source, `modes.${index}: the baseline runs without containers and takes no options`);
    if (own) throw invalid(source, `modes.${index}: the baseline runs without containers, so it has no runtime: remove runtime`);
    return { label: caseLabel, mode, network: null, placement: placement ?? parsed.placement, runtime };
  }
  // Container mode measures on a bridge network whose containers others join; its options are the bridge's.
  const shared = mode === CONTAINER_MODE;
  const network = networkSchema.safeParse({ name: 'net', mode: shared ? 'bridge' : mode, ...(options ? { options } : {}) });
  if (!network.success) throw new CnlabError('invalid-input', describeIssues(network.error, source, ['modes', index]));
  if (!OBJECT_NAME_PATTERN.test(caseLabel)) throw invalid(source, `modes.${index}: ${caseLabel} cannot be a label: give it a label of lower-case letters, digits or "-"`);
  return { label: caseLabel, mode, network: network.data, placement: placement ?? parsed.placement, runtime, ...(shared ? { sharesNetns: true as const } : {}) };
}

function checkAxes(parsed: ExperimentParsed, workload: WorkloadParams, source: string): void {
  for (const [axis, values] of Object.entries(parsed.axes)) {
    if (axis === 'tool') throw invalid(source, 'axes.tool: one experiment runs one tool: write one file per tool');
    for (const [index, value] of values.entries()) {
      const candidate = workloadSchema.safeParse({ ...workload, [axis]: value });
      if (!candidate.success) throw new CnlabError('invalid-input', describeIssues(candidate.error, source, ['axes', axis, index]).replace(`axes.${axis}.${index}.${axis}:`, `axes.${axis}.${index}:`));
    }
  }
}

/** All-to-all is only measured with iperf3 (its flows are batched); N·(N−1) flows bound N. */
export const MAX_ALL_TO_ALL_CONTAINERS = 16;

function checkPattern(spec: ExperimentSpec, source: string): void {
  if (spec.pattern !== 'all-to-all') return;
  if (spec.workload.tool !== 'iperf3') {
    throw invalid(source, `pattern all-to-all: only iperf3 measures all-to-all (every container sending to every other); ${spec.workload.tool} measures pairs: use pattern: pairs, or workload tool: iperf3`);
  }
  const outside = spec.pairs.find((count) => count < 2 || count > MAX_ALL_TO_ALL_CONTAINERS);
  if (outside !== undefined) {
    throw invalid(source, `pairs: with pattern all-to-all each value is a number of containers from 2 to ${MAX_ALL_TO_ALL_CONTAINERS} (N containers run N·(N−1) flows), not ${outside}`);
  }
}

/** The pattern of a spec; run records written before `pattern` existed have none and measured pairs. */
export function patternOf(spec: { pattern?: ExperimentSpec['pattern'] }): ExperimentSpec['pattern'] {
  return spec.pattern ?? 'pairs';
}

function checkHosts(spec: ExperimentSpec, source: string): void {
  const known = new Set(spec.hosts);
  for (const entry of spec.modes) {
    for (const role of ['server', 'client'] as const) {
      const host = entry.placement[role];
      if (!known.has(host)) throw invalid(source, `${entry.label}: placement.${role} is ${host}, not one of hosts (${spec.hosts.join(', ')}): add it to hosts`);
    }
  }
  if (spec.interference && spec.modes.some((entry) => entry.network === null)) {
    throw invalid(source, 'interference: its busy neighbours are containers, and the baseline case has none: measure interference on container modes only');
  }
  const labels = spec.modes.map((entry) => entry.label);
  const repeated = labels.find((name, index) => labels.indexOf(name) !== index);
  if (repeated) throw invalid(source, `modes: two cases are labelled ${repeated}: give each a distinct label`);
  if (spec.baseline && !labels.includes(spec.baseline)) throw invalid(source, `baseline ${spec.baseline} is not one of the modes' labels (${labels.join(', ')})`);
}

/** Validates parsed YAML/JSON data of an experiment file. */
export function experimentFromData(data: unknown, source = 'experiment'): ExperimentSpec {
  if (typeof data !== 'object' || data === null) throw invalid(source, 'an experiment is a mapping with v: 1, kind: experiment, name, hosts, placement, modes and workload');
  const version = (data as { v?: unknown }).v;
  if (version !== 1) throw invalid(source, `format version ${JSON.stringify(version ?? null)} is not supported: this cnlab reads v: 1`);
  if ((data as { kind?: unknown }).kind !== 'experiment') {
    throw invalid(source, 'kind must be "experiment" (a topology file is applied with `cnlab topology apply`, not run)');
  }
  const result = experimentSchema.safeParse(data);
  if (!result.success) throw new CnlabError('invalid-input', describeIssues(result.error, source));
  const parsed = result.data;
  const workload = workloadSchema.safeParse(parsed.workload);
  if (!workload.success) throw new CnlabError('invalid-input', describeIssues(workload.error, source, ['workload']));
  checkAxes(parsed, workload.data, source);
  const spec: ExperimentSpec = { ...parsed, workload: workload.data, modes: parsed.modes.map((entry, index) => normaliseMode(entry, index, parsed, source)) };
  checkHosts(spec, source);
  checkPattern(spec, source);
  return spec;
}

export function parseExperimentText(text: string, source = 'experiment'): ExperimentSpec {
  return experimentFromData(yamlDataOf(text, source), source);
}

/** JSON with object keys sorted at every level: the same experiment always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 of the canonical JSON of the validated experiment (defaults filled in). The netns runtime, the
 * default, is left out, so experiments written before runtime docker existed keep their fingerprints.
 */
export function experimentFingerprint(spec: ExperimentSpec): string {
  const { runtime, ...rest } = spec;
  const modes = spec.modes.map(({ runtime: caseRuntime, ...entry }) => (caseRuntime === 'docker' ? { ...entry, runtime: caseRuntime } : entry));
  return createHash('sha256')
    .update(canonicalJson({ ...rest, ...(runtime === 'docker' ? { runtime } : {}), modes }))
    .digest('hex');
}

/** Rebinds the file's host names to inventory hosts (`--map h1=lab-a,h2=lab-b`). */
export function mapHosts(spec: ExperimentSpec, mapping: Readonly<Record<string, string>>): ExperimentSpec {
  for (const name of Object.keys(mapping)) {
    if (!spec.hosts.includes(name)) throw new CnlabError('invalid-input', `--map names ${name}, which the experiment does not use (its hosts: ${spec.hosts.join(', ')})`);
  }
  const bind = (host: string): string => mapping[host] ?? host;
  return {
    ...spec,
    hosts: spec.hosts.map(bind),
    placement: { server: bind(spec.placement.server), client: bind(spec.placement.client) },
    modes: spec.modes.map((entry) => ({ ...entry, placement: { server: bind(entry.placement.server), client: bind(entry.placement.client) } })),
  };
}

/** Parses `role=host,role=host` of --map. */
export function parseHostMap(text: string): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
    if (!match?.[1] || !match[2]) throw new CnlabError('usage', `--map takes name=host pairs separated by commas, e.g. h1=lab-a,h2=lab-b (got "${pair}")`);
    mapping[match[1]] = match[2];
  }
  return mapping;
}
