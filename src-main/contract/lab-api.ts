// THE contract between the console's UI and its main process: every request the page may make (LabApi),
// the one tagged union of streamed events (LabApiEvent), and the envelope both transports carry.
// Type-only plus two constants, so the preload can import it without pulling zod (see lab-api-schemas.ts).
import type { HostFacts } from '../core/hosts/host-facts';
import type { Host, HostInput } from '../core/hosts/host-model';
import type { RecommendationPriorities, RecommendationView } from '../core/recommendation/recommendation-view';
import type { StudyComparisonView, StudySummaryView } from '../core/studies/study-view';
import type { PlannedContainer, ReachabilityExpectation } from '../core/topology/plan';

export type { PlannedContainer, PlannedInterface } from '../core/topology/plan';
export type { RankedMode, RecommendationCriterion, RecommendationEvidence, RecommendationPriorities, RecommendationView, PriorityWeight } from '../core/recommendation/recommendation-view';
export type { FindingVerdict, StudyComparisonView, StudyFindingView, StudyRowView, StudySubstitutionView, StudySummaryView } from '../core/studies/study-view';

/** Every IPC channel and WebSocket method name starts with this; the preload checks it on every call. */
export const LAB_CHANNEL_PREFIX = 'lab:';
/** The single channel streamed events arrive on (batched, at most 10 messages a second). */
export const LAB_EVENTS_CHANNEL = 'lab:events';

// ── envelope ────────────────────────────────────────────────────────────────────────────────────────

/** Plain data only: Electron's structured clone drops custom error fields, so errors cross as this. */
export interface LabApiErrorBody {
  code: string;
  message: string;
  /** Structured facts a dialog needs (a host key's fingerprint); never secrets, never a stack. */
  details?: Record<string, string | number | boolean | string[]>;
}

export type LabApiEnvelope<T> = { ok: true; value: T } | { ok: false; error: LabApiErrorBody };

// ── app and workspace ───────────────────────────────────────────────────────────────────────────────

export interface AppInfo {
  version: string;
  /** Which adapter serves the page. */
  shell: 'electron' | 'browser';
  workspaceDir: string;
  /** Root, or passwordless sudo: the demo lab can be started. */
  demoLab: { available: boolean; reason?: string; running: DemoLabInfo | null };
  platform: string;
  /** How passwords and passphrases given in the console are kept; `note` says it in words, with the fix when unprotected. */
  secrets: { protection: SecretProtectionView; note: string };
}

/** os: encrypted by the OS secret store; unprotected: on disk but recoverable by anyone who reads the user's files; memory: this session only. */
export type SecretProtectionView = 'os' | 'unprotected' | 'memory';

export type HostSecretKind = 'password' | 'passphrase';

export interface WorkspaceInfo {
  dir: string;
  hostCount: number;
  topologies: string[];
  experiments: string[];
  /** workspace.yaml's settings: how long after the last edit a draft is saved, … */
  settings: { autosaveMs: number };
  /** Set when opening upgraded an older workspace.yaml; the original was kept in backupFile. */
  upgrade: { from: number; backupFile: string } | null;
}

export interface DemoLabInfo {
  id: string;
  hosts: string[];
  /** The example topology the demo opens. */
  topologyName: string;
  topologyText: string;
}

// ── hosts ───────────────────────────────────────────────────────────────────────────────────────────

export type HostConnectionState = 'unknown' | 'checking' | 'connected' | 'unreachable' | 'auth-failed' | 'key-unknown' | 'key-changed';

export interface HostView {
  host: Host;
  state: HostConnectionState;
  /** Why the state is what it is, in words a user can act on. */
  stateMessage?: string;
  privilege?: 'root' | 'sudo' | 'none';
  connectMs?: number;
  facts: HostFacts | null;
  /** Added by the demo lab (removed when it stops). */
  demo?: boolean;
}

export interface HostCheck {
  host: string;
  connectMs: number;
  execRoundTripMs: number;
  privilege: 'root' | 'sudo' | 'none';
}

export interface SshImportPreview {
  file: string;
  hosts: HostInput[];
  /** Names already in the inventory (importing replaces nothing unless chosen). */
  existing: string[];
  warnings: string[];
}

// ── topologies and labs ─────────────────────────────────────────────────────────────────────────────

export interface TopologyCheck {
  /** Problems with the text itself or against the hosts' probed facts; empty when it can be applied. */
  problems: string[];
  labId: string | null;
}

export interface TopologyPreview {
  labId: string;
  fingerprint: string;
  scripts: { host: string; script: string }[];
  containers: PlannedContainer[];
  expectations: ReachabilityExpectation[];
}

/** A named document of the workspace as typed: a topology or an experiment file. */
export interface SavedTopology {
  name: string;
  text: string;
}

export interface LabSummary {
  labId: string;
  appliedAt: string;
  hosts: string[];
  containerCount: number;
}

export interface ContainerTiming {
  container: string;
  host: string;
  phases: { phase: string; durationMs: number }[];
}

export interface LabDetails extends LabSummary {
  fingerprint: string;
  topologyText: string;
  containers: PlannedContainer[];
  expectations: ReachabilityExpectation[];
  timings: ContainerTiming[];
}

/** The host-side device names of one network of a lab (the same on every host): where its counters are. */
export interface LabDeviceNames {
  network: string;
  bridge: string;
  vxlan: string;
}

export interface VerifyCell extends ReachabilityExpectation {
  replied: boolean;
  ok: boolean;
}

// ── experiments and runs ─────────────────────────────────────────────────────────────────────────────

export interface ExperimentPlanView {
  name: string;
  fingerprint: string;
  seed: number;
  cells: { cellId: string; caseLabel: string }[];
  /** Measured and warm-up runs in the order they will run. */
  totalRuns: number;
  /** Measured runs per cell (warm-ups not counted); adaptive runs may add more. */
  repetitions: number;
  /** The labs the run applies, one per case (none for the baseline). */
  labs: string[];
  /** A rough wall time: every run's duration plus a per-run and per-lab overhead measured on the testbed. */
  estimatedSeconds: number;
}

export type RunStateView = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/** Where a run came from: an imported bundle's runs are read-only (never resumed or rewritten). */
export interface ImportedRunSource {
  /** The bundle's folder under the workspace's imports/. */
  bundle: string;
}

export interface RunListingView {
  /** A run of the workspace, or `imports/<bundle>/<run>` for an imported one. */
  runId: string;
  imported?: ImportedRunSource;
  name: string;
  state: RunStateView;
  createdAt: string;
  cells: number;
  results: number;
  failures: number;
  planned: number;
}

export interface MetricSummaryView {
  n: number;
  mean: number;
  median: number;
  stdDev: number | null;
  min: number;
  max: number;
  ci95: { low: number; high: number; halfWidth: number } | null;
  cv: number | null;
  noisy: boolean;
  warning: string | null;
}

export interface RunCellView {
  cellIndex: number;
  cellId: string;
  caseLabel: string;
  axisValues: Record<string, string | number | boolean>;
  runs: number;
  failures: { key: string; message: string }[];
  primary: { name: string; unit: string; higherIsBetter: boolean };
  metrics: Record<string, MetricSummaryView>;
  percentiles: Record<string, { n: number; runs: number; percentiles: { p: number; value: number }[] }>;
  baseline: { label: string; comparison: { percentChange: number; ci95: { low: number; high: number } | null; significant: boolean; pValue: number | null; note: string | null } | null; note: string | null } | null;
}

export type AxisValueView = string | number | boolean;

export interface RunView {
  runId: string;
  imported?: ImportedRunSource;
  name: string;
  state: RunStateView;
  createdAt: string;
  /** The workload's parameters as the file gave them (tool, protocol, test, duration, …). */
  workload: Record<string, AxisValueView>;
  /** The axes the cells vary, in file order; `pairs`/`containers` (scalability) and `interferers` included. */
  axes: string[];
  /** The cases in file order: how the tables order their rows. */
  modes: { label: string; mode: string }[];
  /** The label of the case the others are compared with. */
  baseline: string | null;
  /** Measured runs per cell the file asked for. */
  repetitions: number;
  cells: RunCellView[];
  failures: { key: string; cellId: string; message: string }[];
  /** A run made from a study template: its numbers beside the paper's, and the findings' verdicts. */
  study?: StudyComparisonView | null;
}

export interface BundleImportView {
  bundle: string;
  folder: string;
  files: number;
  /** The imported runs as the runs list shows them (ids are imports/<bundle>/<run>). */
  runs: RunListingView[];
}

export interface BundleExportView {
  file: string;
  runs: number;
  bytes: number;
}

/** One summary side of a comparison row. */
export interface ComparedSide {
  n: number;
  mean: number;
  median: number;
  ci95: { low: number; high: number; halfWidth: number } | null;
}

/** The same cell (case label and axis values) in two runs: B against A on the primary metric. */
export interface RunComparisonRow {
  caseLabel: string;
  axisValues: Record<string, AxisValueView>;
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  a: ComparedSide | null;
  b: ComparedSide | null;
  /** B relative to A in % of A's mean, Welch's 95% interval; null when a side has too few runs (see note). */
  difference: { percentChange: number; ci95: { low: number; high: number } | null; significant: boolean; pValue: number | null } | null;
  note: string | null;
}

export interface RunComparisonView {
  a: { runId: string; name: string; createdAt: string };
  b: { runId: string; name: string; createdAt: string };
  rows: RunComparisonRow[];
}

/** One live value of a run (1 s resolution), as the hosts' samplers and the load generators report them. */
export interface LiveSampleView {
  t: number;
  metric: string;
  value: number;
  source: string;
}

// ── jobs ────────────────────────────────────────────────────────────────────────────────────────────

export type JobKind = 'apply' | 'verify' | 'teardown' | 'sweep' | 'probe-all' | 'demo-start' | 'demo-stop' | 'experiment';

export interface JobRef {
  jobId: string;
  kind: JobKind;
}

export type JobResult =
  | { kind: 'apply'; labId: string; status: 'applied' | 'unchanged'; containers: PlannedContainer[]; timings: ContainerTiming[]; hostDurationsMs: Record<string, number> }
  | { kind: 'verify'; labId: string; cells: VerifyCell[] }
  | { kind: 'teardown'; labId: string; hosts: { host: string; undone: number; leftovers: string[]; error?: string }[] }
  | { kind: 'sweep'; dryRun: boolean; hosts: { host: string; removed: string[]; error?: string }[] }
  | { kind: 'probe-all'; hosts: { host: string; ok: boolean; error?: LabApiErrorBody }[] }
  | { kind: 'demo-start'; demo: DemoLabInfo }
  | { kind: 'demo-stop'; removedHosts: string[] }
  | { kind: 'experiment'; runId: string; state: RunStateView };

// ── command log ─────────────────────────────────────────────────────────────────────────────────────

export interface CommandLogEntry {
  seq: number;
  /** ISO time the command started. */
  startedAt: string;
  host: string;
  /** The lab the command worked for, when it ran inside a lab job. */
  lab: string | null;
  /** One-line summary: the command line, or "script: <first line> (N lines)". */
  summary: string;
  /** The full command or script (truncated to 64 KiB). */
  text: string;
  /** null: ended by a signal or did not run (see error). */
  exitCode: number | null;
  durationMs: number;
  error?: string;
}

export interface CommandLogFilter {
  host?: string;
  lab?: string;
  /** Newest entries first, at most this many (default 500). */
  limit?: number;
}

// ── events ──────────────────────────────────────────────────────────────────────────────────────────

export type ContainerState = 'planned' | 'applying' | 'up' | 'failed' | 'removed';

export type LabApiEvent =
  | { type: 'job-started'; jobId: string; kind: JobKind; title: string }
  | { type: 'job-progress'; jobId: string; done: number; total: number; message: string }
  | { type: 'job-finished'; jobId: string; kind: JobKind; outcome: 'succeeded' | 'failed' | 'cancelled'; result?: JobResult; error?: LabApiErrorBody }
  | { type: 'host-apply-state'; jobId: string; labId: string; host: string; status: string }
  | { type: 'container-state'; jobId: string; labId: string; container: string; host: string; state: ContainerState; phase?: string; durationMs?: number }
  | { type: 'host-state'; host: string; view: HostView }
  | { type: 'hosts-changed' }
  | { type: 'command'; entry: CommandLogEntry }
  | { type: 'workspace-changed'; workspace: WorkspaceInfo }
  | { type: 'run-state'; jobId: string; runId: string; state: string; detail?: string }
  /** A run (key) of a cell starts: done of total so far, and the time left at the pace of this session's runs. */
  | { type: 'run-progress'; jobId: string; runId: string; key: string; cellId: string; warmup: boolean; done: number; total: number; elapsedMs: number; etaMs: number | null }
  /** A run finished (result) or failed (failure) in its cell: the per-cell status table. */
  | { type: 'run-outcome'; jobId: string; runId: string; key: string; cellId: string; warmup: boolean; outcome: 'result' | 'failure'; metrics?: Record<string, number>; message?: string }
  | { type: 'run-samples'; jobId: string; runId: string; key: string; samples: LiveSampleView[] }
  | { type: 'run-warning'; jobId: string; runId: string; message: string; fix: string }
  /** A case's lab is up: the live diagram draws its topology and maps link counters to its edges. */
  | { type: 'run-lab'; jobId: string; runId: string; caseLabel: string; labId: string; topologyText: string; containers: PlannedContainer[]; devices: LabDeviceNames[] }
  /** The desktop menu asks the page to act (the page owns unsaved designer state). */
  | { type: 'menu'; action: MenuAction };

export type MenuAction = 'new-workspace' | 'open-workspace' | 'save-workspace' | 'save-workspace-as' | 'toggle-theme' | 'toggle-log' | 'show-hosts' | 'show-topology' | 'show-experiments' | 'show-results';

// ── the API ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Everything the page may ask of the main process. Requests resolve with their value or reject with a
 * LabApiError (code, message, details). Long jobs resolve at once with a JobRef and report by events.
 */
export interface LabApiRequests {
  getAppInfo(): Promise<AppInfo>;
  openWorkspace(request: { dir: string; create: boolean }): Promise<WorkspaceInfo>;
  listRecentWorkspaces(): Promise<string[]>;
  /** Copies this workspace (file, topologies, experiments, runs, imports) into a new or empty folder and opens the copy. */
  saveWorkspaceAs(request: { dir: string }): Promise<WorkspaceInfo>;
  getWorkspaceInfo(): Promise<WorkspaceInfo>;

  listHosts(): Promise<HostView[]>;
  /** Adds a host, or replaces `originalName` (which may be the same name). Does not connect. */
  saveHost(request: { host: HostInput; originalName?: string }): Promise<HostView>;
  removeHost(request: { name: string }): Promise<void>;
  /** Connects, verifies the host key, measures; an unknown key fails with code host-key-unknown and details.fingerprint. */
  checkHost(request: { name: string }): Promise<HostCheck>;
  /** Trusts exactly the key the last check was shown (matched by fingerprint), then checks again. Never a changed key. */
  trustHostKey(request: { name: string; fingerprint: string }): Promise<HostCheck>;
  probeHost(request: { name: string }): Promise<HostFacts>;
  probeAllHosts(): Promise<JobRef>;
  previewSshConfigImport(request: { file?: string }): Promise<SshImportPreview>;
  importSshConfigHosts(request: { file?: string; names: string[] }): Promise<HostView[]>;
  /**
   * Gives a host's password or key passphrase (a connection lacking one fails with details.needsSecret). remember:
   * kept in the OS secret store (refused where there is none, or where it is unprotected unless acceptUnprotected);
   * otherwise kept in memory for this session. The value is never echoed, logged or written in plain text.
   */
  setHostSecret(request: { host: string; kind: HostSecretKind; value: string; remember: boolean; acceptUnprotected?: boolean }): Promise<{ protection: SecretProtectionView; note: string; remembered: boolean }>;
  /** Forgets a host's password or passphrase, remembered or for the session. */
  forgetHostSecret(request: { host: string; kind: HostSecretKind }): Promise<{ forgotten: boolean }>;

  listTopologies(): Promise<string[]>;
  readTopology(request: { name: string }): Promise<SavedTopology>;
  saveTopology(request: SavedTopology): Promise<void>;
  listExperiments(): Promise<string[]>;
  readExperiment(request: { name: string }): Promise<SavedTopology>;
  /** Saved as typed into experiments/<name>.yaml, even when it does not validate yet. */
  saveExperiment(request: SavedTopology): Promise<void>;
  checkTopology(request: { text: string }): Promise<TopologyCheck>;
  previewTopology(request: { text: string }): Promise<TopologyPreview>;
  applyTopology(request: { text: string }): Promise<JobRef>;
  verifyLab(request: { labId: string }): Promise<JobRef>;
  teardownLab(request: { labId: string }): Promise<JobRef>;
  sweepHosts(request: { hosts: string[]; dryRun: boolean }): Promise<JobRef>;
  listLabs(): Promise<LabSummary[]>;
  getLab(request: { labId: string }): Promise<LabDetails | null>;

  /** Cells, labs, run count and a time estimate of experiment text, without touching a host. */
  planExperiment(request: { text: string }): Promise<ExperimentPlanView>;
  /** Starts a run as a job (preflight first); live samples and per-run outcomes arrive as events. */
  startExperiment(request: { text: string }): Promise<JobRef>;
  /** Continues an interrupted, cancelled or failed run: only runs without a result run. */
  resumeRun(request: { runId: string }): Promise<JobRef>;
  listRuns(): Promise<RunListingView[]>;
  /** A run's per-cell statistics, aggregated in the main process. */
  getRun(request: { runId: string }): Promise<RunView>;
  /** Run B against run A, cell by cell (same case and axis values): differences with intervals and significance. */
  compareRuns(request: { runA: string; runB: string }): Promise<RunComparisonView>;
  /** Verifies a result bundle (every checksum first), then extracts it into imports/<name>/, read-only. */
  importBundle(request: { file: string }): Promise<BundleImportView>;
  /** Writes runs (own or imported) into one .tar.gz with manifest, results.csv, chart SVGs, report.html, SHA256SUMS. */
  exportBundle(request: { runIds: string[]; file: string }): Promise<BundleExportView>;
  /** Writes a self-contained report.html of runs. */
  writeRunReport(request: { runIds: string[]; file: string }): Promise<{ file: string }>;

  /** The study templates cnlab ships (resources/studies), as the "New experiment from study…" dialog lists them. */
  listStudies(): Promise<StudySummaryView[]>;
  /** A study part as experiment text bound to inventory hosts (hostMap: the study's name → inventory host), with notes on the mapping. */
  studyExperiment(request: { studyId: string; part: string; hostMap: Record<string, string> }): Promise<{ name: string; text: string; notes: string[] }>;
  /** The network modes ranked by the given priorities from this workspace's measured runs, with the evidence. */
  recommendModes(request: { priorities: RecommendationPriorities }): Promise<RecommendationView>;

  cancelJob(request: { jobId: string }): Promise<void>;
  getCommandLog(request: CommandLogFilter): Promise<CommandLogEntry[]>;

  startDemoLab(): Promise<JobRef>;
  stopDemoLab(): Promise<JobRef>;
}

export type LabApiMethod = keyof LabApiRequests;

export interface LabApi extends LabApiRequests {
  /** Every streamed event, in order; returns the unsubscribe function. */
  onEvent(listener: (event: LabApiEvent) => void): () => void;
}

/** The request names in one list, so both transports and the preload expose exactly these. */
export const LAB_API_METHODS = [
  'getAppInfo',
  'openWorkspace',
  'listRecentWorkspaces',
  'saveWorkspaceAs',
  'getWorkspaceInfo',
  'listHosts',
  'saveHost',
  'removeHost',
  'checkHost',
  'trustHostKey',
  'probeHost',
  'probeAllHosts',
  'previewSshConfigImport',
  'importSshConfigHosts',
  'setHostSecret',
  'forgetHostSecret',
  'listTopologies',
  'readTopology',
  'saveTopology',
  'listExperiments',
  'readExperiment',
  'saveExperiment',
  'checkTopology',
  'previewTopology',
  'applyTopology',
  'verifyLab',
  'teardownLab',
  'sweepHosts',
  'listLabs',
  'getLab',
  'planExperiment',
  'startExperiment',
  'resumeRun',
  'listRuns',
  'getRun',
  'compareRuns',
  'importBundle',
  'exportBundle',
  'writeRunReport',
  'listStudies',
  'studyExperiment',
  'recommendModes',
  'cancelJob',
  'getCommandLog',
  'startDemoLab',
  'stopDemoLab',
] as const satisfies readonly LabApiMethod[];

/** The channel (IPC) / method name (WebSocket) of a request. */
export function channelOf(method: LabApiMethod): string {
  return `${LAB_CHANNEL_PREFIX}${method}`;
}

/** What a rejected request throws in the page: the envelope's error as an Error. */
export class LabApiError extends Error {
  readonly code: string;
  readonly details: NonNullable<LabApiErrorBody['details']>;

  constructor(body: LabApiErrorBody) {
    super(body.message);
    this.name = 'LabApiError';
    this.code = body.code;
    this.details = body.details ?? {};
  }
}

/**
 * Electron's contextBridge keeps only the message of an Error that crosses it (custom fields are lost), so
 * the preload rejects with the plain error body and the page turns it back into a LabApiError here.
 */
export function toLabApiError(reason: unknown): unknown {
  if (reason instanceof LabApiError) return reason;
  if (typeof reason === 'object' && reason !== null && typeof (reason as LabApiErrorBody).code === 'string' && typeof (reason as LabApiErrorBody).message === 'string') {
    return new LabApiError(reason as LabApiErrorBody);
  }
  return reason;
}

/** Unwraps an envelope: the value, or a thrown LabApiError. */
export function unwrapEnvelope<T>(envelope: LabApiEnvelope<T>): T {
  if (envelope.ok) return envelope.value;
  throw new LabApiError(envelope.error);
}

// Compile-time check that LAB_API_METHODS lists every request: a missing one makes this line fail to type-check.
type MissingMethods = Exclude<LabApiMethod, (typeof LAB_API_METHODS)[number]>;
export const LAB_API_METHODS_COMPLETE: [MissingMethods] extends [never] ? true : MissingMethods = true;
