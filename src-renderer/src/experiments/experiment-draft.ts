// The Experiments view's matrix builder: the form's state, the experiment file (v1) it writes, a
// best-effort reading of YAML back into the form, form-level problems with their fix, and the matrix size.
import { Document, isMap, isSeq, parseDocument } from 'yaml';
import { MODES, OBJECT_NAME_PATTERN, type NetworkMode } from '@contract/topology';
import { yamlNestingProblem } from '@common/yaml-nesting';

export const BASELINE = 'baseline';
export type CaseMode = NetworkMode | typeof BASELINE;

export const WORKLOAD_KINDS = [
  'iperf3-tcp',
  'iperf3-udp',
  'sockperf-ping-pong',
  'sockperf-throughput',
  'netperf-tcp-stream',
  'netperf-udp-rr',
  'launch',
  'cpu-cost',
  'scalability',
  'interference',
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export type Protocol = 'tcp' | 'udp';
export type Pattern = 'pairs' | 'all-to-all';
export type InterferenceLoad = 'busy' | 'burst';

export interface ExperimentCase {
  mode: CaseMode;
  /** How the tables name the case; absent or empty: the mode (with "-docker" under Docker). */
  label?: string;
  /** The case made with Docker containers and networks instead of cnlab's namespaces. */
  runtime?: 'docker';
}

export interface ExperimentDraft {
  name: string;
  hosts: { server: string; client: string };
  cases: ExperimentCase[];
  /** The label of the case the others are compared with. */
  baseline: string | null;
  workload: WorkloadKind;
  /** The size axis (iperf3 blockSize, sockperf/netperf messageSize), bytes; empty: the tool's default. */
  sizes: number[];
  /** iperf3 kinds: with both, a `protocol` axis; otherwise the kind's own protocol. */
  protocols: Protocol[];
  /** iperf3 parallel streams. */
  parallel: number;
  /** Measured seconds per run (not for launch). */
  duration: number;
  repetitions: number;
  warmup: number;
  /** Seconds of rest between runs. */
  cooldown: number;
  randomize: boolean;
  seed?: number;
  /** Scalability: the N values (`pairs`). */
  counts: number[];
  pattern: Pattern;
  /** Interference: the K values (busy or bursting neighbour containers). */
  interferers: number[];
  load: InterferenceLoad;
  /** Launch: containers created per run. */
  launchContainers: number;
}

export interface Placement {
  server: string;
  client: string;
}

export interface ExperimentCaseData {
  mode: CaseMode;
  label?: string;
  placement?: Placement;
  runtime?: 'docker';
}

export type WorkloadData = Record<string, string | number | boolean>;

/** The experiment file as the form writes it (a subset of the v1 format). */
export interface ExperimentData {
  v: 1;
  kind: 'experiment';
  name: string;
  hosts: string[];
  placement: Placement;
  modes: (CaseMode | ExperimentCaseData)[];
  baseline?: string;
  workload: WorkloadData;
  axes?: Record<string, (number | string)[]>;
  pattern?: Pattern;
  pairs?: number[];
  interference?: { containers: number[]; load: InterferenceLoad };
  repetitions: number;
  warmup: number;
  cooldown: number;
  randomize?: boolean;
  seed?: number;
}

export interface DraftProblem {
  path: string;
  message: string;
}

export type ExperimentDraftReading = { ok: true; draft: ExperimentDraft } | { ok: false; reason: string };

/** Modes whose networks are host-local (bridges without routes between hosts): a pair must share a host. */
export const SINGLE_HOST_MODES: readonly CaseMode[] = ['bridge', 'nat'];

const DEFAULT_DURATION = 3;
/** The duration the tools take when a file gives none (workload-params.ts). */
const TOOL_DEFAULT_DURATION = 10;
/** iperf3 refuses UDP datagrams above the IPv4 payload limit. */
const MAX_UDP_DATAGRAM = 65_507;
export const MAX_ALL_TO_ALL = 16;

export function newExperimentDraft(hosts: string[]): ExperimentDraft {
  const server = hosts[0] ?? '';
  return {
    name: 'experiment',
    hosts: { server, client: hosts[1] ?? server },
    cases: [{ mode: 'bridge' }, { mode: 'macvlan' }, { mode: 'vxlan' }],
    baseline: null,
    workload: 'iperf3-tcp',
    sizes: [],
    protocols: ['tcp'],
    parallel: 1,
    duration: DEFAULT_DURATION,
    repetitions: 2,
    warmup: 1,
    cooldown: 1,
    randomize: true,
    counts: [1, 2, 4, 8],
    pattern: 'pairs',
    interferers: [0, 1, 2],
    load: 'busy',
    launchContainers: 1,
  };
}

/** The label a case goes by in the tables (and in `baseline`). */
export function caseLabel(entry: ExperimentCase): string {
  return entry.label?.trim() || (entry.runtime === 'docker' ? `${entry.mode}-docker` : entry.mode);
}

export function isIperf3Kind(kind: WorkloadKind): boolean {
  return kind === 'iperf3-tcp' || kind === 'iperf3-udp' || kind === 'scalability' || kind === 'interference';
}

/** Launch time creates containers; it has no sizes to vary. */
export function usesSizes(kind: WorkloadKind): boolean {
  return kind !== 'launch';
}

function baseProtocol(kind: WorkloadKind): Protocol {
  return kind === 'iperf3-udp' ? 'udp' : 'tcp';
}

/** The protocol axis, when the draft measures more than one protocol. */
function protocolAxis(draft: ExperimentDraft): Protocol[] | null {
  if (!isIperf3Kind(draft.workload)) return null;
  const distinct = [...new Set(draft.protocols)];
  return distinct.length > 1 ? distinct : null;
}

function sizeField(kind: WorkloadKind): 'blockSize' | 'messageSize' {
  return isIperf3Kind(kind) ? 'blockSize' : 'messageSize';
}

function workloadData(draft: ExperimentDraft): WorkloadData {
  const duration = draft.duration;
  switch (draft.workload) {
    case 'iperf3-tcp':
    case 'iperf3-udp':
    case 'scalability':
    case 'interference':
      return { tool: 'iperf3', protocol: baseProtocol(draft.workload), duration, ...(draft.parallel !== 1 ? { parallel: draft.parallel } : {}) };
    case 'sockperf-ping-pong':
      return { tool: 'sockperf', test: 'ping-pong', protocol: 'udp', duration };
    case 'sockperf-throughput':
      return { tool: 'sockperf', test: 'throughput', protocol: 'udp', duration };
    case 'cpu-cost':
      // Writing every latency sample costs client CPU, which is what this workload measures.
      return { tool: 'sockperf', test: 'ping-pong', protocol: 'udp', duration, fullLog: false };
    case 'netperf-tcp-stream':
      return { tool: 'netperf', test: 'TCP_STREAM', duration };
    case 'netperf-udp-rr':
      return { tool: 'netperf', test: 'UDP_RR', duration };
    case 'launch':
      return { tool: 'launch', containers: draft.launchContainers };
  }
}

/** One size goes into the workload itself; several make the size axis. */
function withSizes(draft: ExperimentDraft, workload: WorkloadData, axes: Record<string, (number | string)[]>): void {
  if (!usesSizes(draft.workload) || draft.sizes.length === 0) return;
  const field = sizeField(draft.workload);
  const [only] = draft.sizes;
  if (draft.sizes.length === 1 && only !== undefined) workload[field] = only;
  else axes[field] = [...draft.sizes];
}

function caseData(draft: ExperimentDraft, entry: ExperimentCase): CaseMode | ExperimentCaseData {
  const { server, client } = draft.hosts;
  const label = entry.label?.trim();
  // A host-local network cannot carry a pair across hosts: the pair shares the server host.
  const placement = server !== client && SINGLE_HOST_MODES.includes(entry.mode) ? { server, client: server } : undefined;
  if (!label && !placement && !entry.runtime) return entry.mode;
  return { mode: entry.mode, ...(label ? { label } : {}), ...(placement ? { placement } : {}), ...(entry.runtime ? { runtime: entry.runtime } : {}) };
}

function usedHosts(draft: ExperimentDraft): string[] {
  return [...new Set([draft.hosts.server, draft.hosts.client].filter((host) => host !== ''))];
}

/** Scalability's N and interference's K, the matrix axes that live outside `axes`. */
function matrixData(draft: ExperimentDraft): Pick<ExperimentData, 'pattern' | 'pairs' | 'interference'> {
  if (draft.workload === 'scalability') return { ...(draft.pattern === 'all-to-all' ? { pattern: draft.pattern } : {}), pairs: [...draft.counts] };
  if (draft.workload === 'interference') return { interference: { containers: [...draft.interferers], load: draft.load } };
  return {};
}

export function experimentDraftToData(draft: ExperimentDraft): ExperimentData {
  const workload = workloadData(draft);
  const axes: Record<string, (number | string)[]> = {};
  withSizes(draft, workload, axes);
  const protocols = protocolAxis(draft);
  if (protocols) axes.protocol = protocols;
  // What is compared and measured first, then how often and in what order, as the examples read.
  return {
    v: 1,
    kind: 'experiment',
    name: draft.name,
    hosts: usedHosts(draft),
    placement: { server: draft.hosts.server, client: draft.hosts.client },
    modes: draft.cases.map((entry) => caseData(draft, entry)),
    ...(draft.baseline !== null ? { baseline: draft.baseline } : {}),
    workload,
    ...(Object.keys(axes).length > 0 ? { axes } : {}),
    ...matrixData(draft),
    repetitions: draft.repetitions,
    warmup: draft.warmup,
    cooldown: draft.cooldown,
    ...(draft.randomize ? {} : { randomize: false }),
    ...(draft.seed !== undefined ? { seed: draft.seed } : {}),
  };
}

/** YAML the way the examples read: short lists and mappings on one line. */
export function experimentDraftToYaml(draft: ExperimentDraft): string {
  const document = new Document(experimentDraftToData(draft));
  for (const key of ['hosts', 'placement', 'workload', 'pairs', 'interference']) {
    const node = document.get(key);
    if (isSeq(node) || isMap(node)) node.flow = true;
  }
  const modes = document.get('modes');
  if (isSeq(modes)) {
    const plain = modes.items.every((item) => !isMap(item));
    if (plain) modes.flow = true;
    for (const item of modes.items) if (isMap(item)) item.flow = true;
  }
  const axes = document.get('axes');
  if (isMap(axes)) for (const pair of axes.items) if (isSeq(pair.value)) pair.value.flow = true;
  return document.toString({ lineWidth: 0 });
}

export function matrixSize(draft: ExperimentDraft): { cells: number; runs: number } {
  const factor = (applies: boolean, length: number): number => (applies ? Math.max(1, length) : 1);
  const cells =
    draft.cases.length *
    factor(usesSizes(draft.workload), draft.sizes.length) *
    (protocolAxis(draft)?.length ?? 1) *
    factor(draft.workload === 'scalability', draft.counts.length) *
    factor(draft.workload === 'interference', draft.interferers.length);
  return { cells, runs: cells * (draft.repetitions + draft.warmup) };
}

// ---------------------------------------------------------------------------------------------------
// Problems: what the form can tell before the main process plans the file.

type Report = (path: string, message: string) => void;

function isWholeIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkNumber(report: Report, path: string, value: number, min: number, max: number, what: string): void {
  if (!isWholeIn(value, min, max)) report(path, `${what} is a whole number from ${min} to ${max}, not ${value}`);
}

function checkList(report: Report, path: string, values: readonly number[], min: number, max: number, what: string): void {
  const outside = values.find((value) => !isWholeIn(value, min, max));
  if (outside !== undefined) report(path, `each ${what} is a whole number from ${min} to ${max}: change or remove ${outside}`);
  const repeated = values.find((value, index) => values.indexOf(value) !== index);
  if (repeated !== undefined) report(path, `${repeated} is listed twice, which would measure the same cells twice: remove one`);
  if (values.length > 32) report(path, `at most 32 values: remove ${values.length - 32}`);
}

function checkHosts(draft: ExperimentDraft, report: Report): void {
  if (!draft.hosts.server) report('hosts.server', 'choose the host the servers run on');
  if (!draft.hosts.client) report('hosts.client', 'choose the host the clients run on (the server host measures on one host)');
}

function checkCases(draft: ExperimentDraft, report: Report): void {
  if (draft.cases.length === 0) report('cases', 'add at least one case: a network mode to measure, or the baseline');
  if (draft.cases.length > 16) report('cases', `at most 16 cases: remove ${draft.cases.length - 16}`);
  const labels = draft.cases.map(caseLabel);
  draft.cases.forEach((entry, index) => {
    const label = labels[index] ?? entry.mode;
    if (!OBJECT_NAME_PATTERN.test(label)) report(`cases.${index}.label`, `${label} cannot be a label: use 1-31 lower-case letters, digits or "-", starting with a letter`);
    if (labels.indexOf(label) !== index) report(`cases.${index}.label`, `two cases are labelled ${label}: give this one another label`);
    checkCaseWorkload(draft, entry, index, report);
  });
  if (draft.baseline !== null && !labels.includes(draft.baseline)) {
    report('baseline', `${draft.baseline} is not one of the cases (${labels.join(', ')}): pick one of them, or none`);
  }
}

function checkCaseWorkload(draft: ExperimentDraft, entry: ExperimentCase, index: number, report: Report): void {
  const path = `cases.${index}.mode`;
  if (entry.mode === 'none' && draft.workload !== 'launch') report(path, 'mode none has no network to measure: use it only with the launch workload, or remove the case');
  if (entry.mode === BASELINE && draft.workload === 'launch') report(path, 'launch time measures a network mode, and the baseline has none: remove the baseline case');
  if (entry.mode === BASELINE && draft.workload === 'interference') report(path, 'the busy neighbours are containers, and the baseline has none: remove the baseline case');
}

function checkSizes(draft: ExperimentDraft, report: Report): void {
  if (!usesSizes(draft.workload)) return;
  const [min, max] = sizeRange(draft);
  checkList(report, 'sizes', draft.sizes, min, max, draft.workload.startsWith('sockperf') || draft.workload === 'cpu-cost' ? 'message size' : 'size');
}

/** Bytes each tool accepts: sockperf needs room for its header; a UDP datagram fits an IPv4 payload. */
function sizeRange(draft: ExperimentDraft): [number, number] {
  if (draft.workload.startsWith('sockperf') || draft.workload === 'cpu-cost') return [12, 65_000];
  if (draft.workload.startsWith('netperf')) return [1, 65_000];
  const udp = draft.workload === 'iperf3-udp' || (protocolAxis(draft)?.includes('udp') ?? false);
  return [1, udp ? MAX_UDP_DATAGRAM : 2 ** 30];
}

function checkWorkloadShape(draft: ExperimentDraft, report: Report): void {
  if (draft.workload === 'launch') checkNumber(report, 'launchContainers', draft.launchContainers, 1, 200, 'containers per run');
  else checkNumber(report, 'duration', draft.duration, 1, 3600, 'the duration (s)');
  if (isIperf3Kind(draft.workload)) checkNumber(report, 'parallel', draft.parallel, 1, 128, 'parallel streams');
  if (draft.workload === 'scalability') checkCounts(draft, report);
  if (draft.workload === 'interference') {
    if (draft.interferers.length === 0) report('interferers', 'add at least one number of neighbours (K), e.g. 0, 1, 2');
    checkList(report, 'interferers', draft.interferers, 0, 64, 'number of neighbours');
    if (draft.interferers.length > 16) report('interferers', `at most 16 values: remove ${draft.interferers.length - 16}`);
  }
}

function checkCounts(draft: ExperimentDraft, report: Report): void {
  if (draft.counts.length === 0) report('counts', 'add at least one N, e.g. 1, 2, 4, 8');
  if (draft.counts.length > 16) report('counts', `at most 16 values: remove ${draft.counts.length - 16}`);
  if (draft.pattern === 'all-to-all') {
    const outside = draft.counts.find((count) => !isWholeIn(count, 2, MAX_ALL_TO_ALL));
    if (outside !== undefined) report('counts', `all-to-all needs 2 to ${MAX_ALL_TO_ALL} containers (N containers run N·(N−1) flows): change or remove ${outside}`);
  }
  checkList(report, 'counts', draft.counts, 1, 64, 'N');
}

function checkRunOrder(draft: ExperimentDraft, report: Report): void {
  checkNumber(report, 'repetitions', draft.repetitions, 1, 1000, 'repetitions');
  checkNumber(report, 'warmup', draft.warmup, 0, 20, 'warm-up runs');
  if (!(draft.cooldown >= 0 && draft.cooldown <= 600)) report('cooldown', `the cool-down is from 0 to 600 s, not ${draft.cooldown}`);
  if (draft.seed !== undefined) checkNumber(report, 'seed', draft.seed, 0, 2 ** 31, 'the seed');
}

export function draftProblems(draft: ExperimentDraft): DraftProblem[] {
  const problems: DraftProblem[] = [];
  const report: Report = (path, message) => void problems.push({ path, message });
  if (!OBJECT_NAME_PATTERN.test(draft.name)) report('name', 'name the experiment with 1-31 lower-case letters, digits or "-", starting with a letter');
  checkHosts(draft, report);
  checkCases(draft, report);
  checkSizes(draft, report);
  checkWorkloadShape(draft, report);
  checkRunOrder(draft, report);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Reading YAML back: every field the form cannot show stops the reading with a reason, so the text
// stays the source of truth instead of being silently rewritten without it.

class Unreadable extends Error {}

function refuse(reason: string): never {
  throw new Unreadable(reason);
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(record: Mapping, allowed: readonly string[], where: string): void {
  const extra = Object.keys(record).find((key) => !allowed.includes(key));
  if (extra !== undefined) refuse(`${where}${extra}: the form has no field for it (edit it here in the YAML)`);
}

function text(value: unknown, path: string): string {
  return typeof value === 'string' ? value : refuse(`${path} is not text`);
}

function num(value: unknown, path: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  return typeof value === 'number' ? value : refuse(`${path} is not a number`);
}

function flag(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return typeof value === 'boolean' ? value : refuse(`${path} is true or false`);
}

function numbers(value: unknown, path: string): number[] {
  if (!Array.isArray(value)) return refuse(`${path} is not a list of numbers`);
  return value.map((item, index) => num(item, `${path}.${index}`));
}

const SIZE = /^(\d{1,9})([KMG]?)$/;
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Sizes as iperf3 writes them ("64K") become the form's byte counts. */
function size(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  if (!match) return refuse(`${path} is not a size (bytes, or like "64K")`);
  return Number(match[1]) * (SIZE_UNITS[match[2] ?? ''] ?? 1);
}

function readPlacement(value: unknown, path: string): Placement {
  if (!isMapping(value)) return refuse(`${path} needs server and client hosts`);
  onlyKeys(value, ['server', 'client'], `${path}.`);
  return { server: text(value.server, `${path}.server`), client: text(value.client, `${path}.client`) };
}

function readMode(value: unknown, path: string): CaseMode {
  const mode = text(value, path);
  if (mode === BASELINE || (MODES as readonly string[]).includes(mode)) return mode as CaseMode;
  return refuse(`${path}: ${mode} is not a network mode (${MODES.join(', ')}) or baseline`);
}

function readCase(value: unknown, index: number, placement: Placement): ExperimentCase {
  const path = `modes.${index}`;
  if (!isMapping(value)) return { mode: readMode(value, path) };
  onlyKeys(value, ['mode', 'label', 'placement', 'runtime'], `${path}.`);
  const mode = readMode(value.mode, `${path}.mode`);
  if (value.placement !== undefined) checkCasePlacement(mode, readPlacement(value.placement, `${path}.placement`), placement, path);
  if (value.runtime !== undefined && value.runtime !== 'netns' && value.runtime !== 'docker') refuse(`${path}.runtime is netns or docker`);
  if (value.runtime === 'docker' && mode === BASELINE) refuse(`${path}.runtime: the baseline runs without containers, so it has no runtime`);
  return { mode, ...(value.label === undefined ? {} : { label: text(value.label, `${path}.label`) }), ...(value.runtime === 'docker' ? { runtime: 'docker' as const } : {}) };
}

/** The form places a host-local mode's pair on the server host and every other case as the file does. */
function checkCasePlacement(mode: CaseMode, own: Placement, placement: Placement, path: string): void {
  if (own.server === placement.server && own.client === placement.client) return;
  if (SINGLE_HOST_MODES.includes(mode) && own.server === placement.server && own.client === placement.server) return;
  refuse(`${path}.placement: the form places cases on the server and client hosts (bridge and nat both on the server host); this placement stays in the YAML`);
}

function readHosts(data: Mapping): Placement {
  const placement = readPlacement(data.placement, 'placement');
  if (!Array.isArray(data.hosts)) return refuse('hosts is not a list of host names');
  const hosts = data.hosts.map((host, index) => text(host, `hosts.${index}`));
  const unused = hosts.find((host) => host !== placement.server && host !== placement.client);
  if (unused !== undefined) refuse(`hosts: ${unused} is neither the server nor the client host, and the form shows only those two`);
  return placement;
}

interface WorkloadReading {
  kind: WorkloadKind;
  duration: number;
  parallel: number;
  launchContainers: number;
  /** The size in the workload itself (an axis overrides it). */
  size: number | null;
}

function readIperf3(workload: Mapping): WorkloadReading {
  onlyKeys(workload, ['tool', 'protocol', 'duration', 'blockSize', 'parallel', 'omit', 'reverse'], 'workload.');
  if (workload.omit !== undefined && workload.omit !== 0) refuse('workload.omit: the form has no field for omitted seconds (edit it here in the YAML)');
  if (workload.reverse !== undefined && workload.reverse !== false) refuse('workload.reverse: the form measures client to server only (edit it here in the YAML)');
  const protocol = workload.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') return refuse('workload.protocol is tcp or udp');
  return {
    kind: protocol === 'udp' ? 'iperf3-udp' : 'iperf3-tcp',
    duration: num(workload.duration, 'workload.duration', TOOL_DEFAULT_DURATION),
    parallel: num(workload.parallel, 'workload.parallel', 1),
    launchContainers: 1,
    size: workload.blockSize === undefined ? null : size(workload.blockSize, 'workload.blockSize'),
  };
}

function sockperfKind(workload: Mapping): WorkloadKind {
  const test = workload.test ?? 'ping-pong';
  if (test === 'throughput') return 'sockperf-throughput';
  if (test !== 'ping-pong') return refuse('workload.test: sockperf tests are ping-pong and throughput');
  return workload.fullLog === false ? 'cpu-cost' : 'sockperf-ping-pong';
}

function readSockperf(workload: Mapping): WorkloadReading {
  onlyKeys(workload, ['tool', 'test', 'protocol', 'duration', 'messageSize', 'fullLog', 'fullRtt'], 'workload.');
  if ((workload.protocol ?? 'udp') !== 'udp') refuse('workload.protocol: the form measures sockperf over UDP only (edit TCP here in the YAML)');
  if (workload.fullRtt !== undefined && workload.fullRtt !== false) refuse('workload.fullRtt: the form reports half round trips only (edit it here in the YAML)');
  return {
    kind: sockperfKind(workload),
    duration: num(workload.duration, 'workload.duration', TOOL_DEFAULT_DURATION),
    parallel: 1,
    launchContainers: 1,
    size: workload.messageSize === undefined ? null : num(workload.messageSize, 'workload.messageSize'),
  };
}

function readNetperf(workload: Mapping): WorkloadReading {
  onlyKeys(workload, ['tool', 'test', 'duration', 'messageSize'], 'workload.');
  const test = workload.test ?? 'TCP_STREAM';
  if (test !== 'TCP_STREAM' && test !== 'UDP_RR') return refuse(`workload.test: the form offers netperf TCP_STREAM and UDP_RR, not ${JSON.stringify(test)}`);
  return {
    kind: test === 'UDP_RR' ? 'netperf-udp-rr' : 'netperf-tcp-stream',
    duration: num(workload.duration, 'workload.duration', TOOL_DEFAULT_DURATION),
    parallel: 1,
    launchContainers: 1,
    size: workload.messageSize === undefined ? null : num(workload.messageSize, 'workload.messageSize'),
  };
}

function readLaunch(workload: Mapping): WorkloadReading {
  onlyKeys(workload, ['tool', 'containers', 'fromPeer'], 'workload.');
  if (workload.fromPeer !== undefined && workload.fromPeer !== false) refuse('workload.fromPeer: the form does not measure reachability from a peer (edit it here in the YAML)');
  return { kind: 'launch', duration: DEFAULT_DURATION, parallel: 1, launchContainers: num(workload.containers, 'workload.containers', 1), size: null };
}

function readWorkload(value: unknown): WorkloadReading {
  if (!isMapping(value)) return refuse('workload is not a mapping with a tool');
  switch (value.tool) {
    case 'iperf3':
      return readIperf3(value);
    case 'sockperf':
      return readSockperf(value);
    case 'netperf':
      return readNetperf(value);
    case 'launch':
      return readLaunch(value);
    default:
      return refuse(`workload.tool: the form offers iperf3, sockperf, netperf and launch, not ${JSON.stringify(value.tool ?? null)}`);
  }
}

interface AxesReading {
  sizes: number[] | null;
  protocols: Protocol[] | null;
}

function readAxes(value: unknown, kind: WorkloadKind): AxesReading {
  if (value === undefined) return { sizes: null, protocols: null };
  if (!isMapping(value)) return refuse('axes is not a mapping of parameter lists');
  const sizeAxis = usesSizes(kind) ? sizeField(kind) : null;
  const allowed = [...(sizeAxis ? [sizeAxis] : []), ...(isIperf3Kind(kind) ? ['protocol'] : [])];
  onlyKeys(value, allowed, 'axes.');
  const sizes = sizeAxis && value[sizeAxis] !== undefined ? listOf(value[sizeAxis], `axes.${sizeAxis}`).map((item, index) => size(item, `axes.${sizeAxis}.${index}`)) : null;
  const protocols = value.protocol === undefined ? null : listOf(value.protocol, 'axes.protocol').map((item, index) => protocolOf(item, `axes.protocol.${index}`));
  return { sizes, protocols };
}

function listOf(value: unknown, path: string): unknown[] {
  return Array.isArray(value) ? value : refuse(`${path} is not a list`);
}

function protocolOf(value: unknown, path: string): Protocol {
  return value === 'tcp' || value === 'udp' ? value : refuse(`${path}: a protocol is tcp or udp`);
}

type MatrixFields = Pick<ExperimentDraft, 'workload' | 'counts' | 'pattern' | 'interferers' | 'load'>;

/** Pairs or a pattern make an iperf3 file a scalability one; interference, an interference one. */
function readMatrix(data: Mapping, kind: WorkloadKind, defaults: ExperimentDraft): MatrixFields {
  const scaling = data.pairs !== undefined || data.pattern !== undefined;
  const interfering = data.interference !== undefined;
  if (!scaling && !interfering) return { workload: kind, counts: defaults.counts, pattern: defaults.pattern, interferers: defaults.interferers, load: defaults.load };
  if (scaling && interfering) return refuse('pairs and interference together: the form measures scalability or interference, one at a time');
  if (kind !== 'iperf3-tcp') return refuse(`${scaling ? 'pairs' : 'interference'}: the form measures ${scaling ? 'scalability' : 'interference'} with iperf3 TCP only (edit it here in the YAML)`);
  if (scaling) return { workload: 'scalability', counts: data.pairs === undefined ? [1] : numbers(data.pairs, 'pairs'), pattern: readPattern(data.pattern), interferers: defaults.interferers, load: defaults.load };
  const interference = data.interference;
  if (!isMapping(interference)) return refuse('interference needs containers (a list of K)');
  onlyKeys(interference, ['containers', 'load'], 'interference.');
  const load = interference.load ?? 'busy';
  if (load !== 'busy' && load !== 'burst') return refuse('interference.load is busy or burst');
  return { workload: 'interference', counts: defaults.counts, pattern: defaults.pattern, interferers: numbers(interference.containers, 'interference.containers'), load };
}

function readPattern(value: unknown): Pattern {
  if (value === undefined) return 'pairs';
  return value === 'pairs' || value === 'all-to-all' ? value : refuse('pattern is pairs or all-to-all');
}

const TOP_KEYS = ['v', 'kind', 'name', 'hosts', 'addressPool', 'backend', 'runtime', 'docker', 'placement', 'modes', 'workload', 'axes', 'pairs', 'pattern', 'interference', 'repetitions', 'warmup', 'cooldown', 'randomize', 'seed', 'baseline', 'sampleHosts'];

function checkTop(data: Mapping): void {
  if (data.v !== 1) refuse('write "v: 1": the form reads format version 1');
  if (data.kind !== 'experiment') refuse('kind is not experiment');
  onlyKeys(data, TOP_KEYS, '');
  if (data.addressPool !== undefined && data.addressPool !== '198.19.0.0/16') refuse('addressPool: the form uses the default pool (edit it here in the YAML)');
  if (data.backend !== undefined && data.backend !== 'iproute2') refuse('backend: the form uses the iproute2 backend (edit it here in the YAML)');
  if (data.runtime !== undefined && data.runtime !== 'netns') refuse('runtime: the form sets the runtime per case (edit it here in the YAML)');
  if (data.docker !== undefined) refuse('docker: the form uses the lab image cnlab builds (edit it here in the YAML)');
  if (data.sampleHosts !== undefined && data.sampleHosts !== true) refuse('sampleHosts: the form always samples the hosts (edit it here in the YAML)');
}

function readCases(value: unknown, placement: Placement): ExperimentCase[] {
  return listOf(value, 'modes').map((entry, index) => readCase(entry, index, placement));
}

function draftFromData(data: Mapping): ExperimentDraft {
  checkTop(data);
  const hosts = readHosts(data);
  const defaults = newExperimentDraft([hosts.server, hosts.client]);
  const workload = readWorkload(data.workload);
  const matrix = readMatrix(data, workload.kind, defaults);
  const axes = readAxes(data.axes, matrix.workload);
  const sizes = axes.sizes ?? (workload.size !== null ? [workload.size] : []);
  return {
    ...defaults,
    ...matrix,
    name: text(data.name, 'name'),
    hosts,
    cases: readCases(data.modes, hosts),
    baseline: data.baseline === undefined ? null : text(data.baseline, 'baseline'),
    sizes,
    protocols: axes.protocols ?? [baseProtocol(matrix.workload)],
    parallel: workload.parallel,
    duration: workload.duration,
    launchContainers: workload.launchContainers,
    repetitions: num(data.repetitions, 'repetitions', 3),
    warmup: num(data.warmup, 'warmup', 1),
    cooldown: num(data.cooldown, 'cooldown', 1),
    randomize: flag(data.randomize, 'randomize', true),
    ...(data.seed !== undefined ? { seed: num(data.seed, 'seed') } : {}),
  };
}

/** The form for YAML text, or why the form cannot show it (the text then stays the source of truth). */
export function readExperimentDraft(source: string): ExperimentDraftReading {
  const deep = yamlNestingProblem(source);
  if (deep) return { ok: false, reason: `not valid YAML: ${deep}` };
  const document = parseDocument(source, { uniqueKeys: true });
  if (document.errors.length > 0) return { ok: false, reason: `not valid YAML: ${document.errors[0]?.message.split('\n')[0] ?? 'parse error'}` };
  let data: unknown;
  try {
    // An alias that points nowhere (or expands past the library's limit) throws here, not in errors.
    data = document.toJS();
  } catch (error) {
    return { ok: false, reason: `not valid YAML: ${(error as Error).message.split('\n')[0] ?? 'alias error'}` };
  }
  if (!isMapping(data)) return { ok: false, reason: 'an experiment is a mapping with v: 1, kind: experiment, name, hosts, placement, modes and workload' };
  try {
    return { ok: true, draft: draftFromData(data) };
  } catch (failure) {
    if (failure instanceof Unreadable) return { ok: false, reason: failure.message };
    throw failure;
  }
}
