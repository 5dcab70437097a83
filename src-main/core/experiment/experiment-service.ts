// The experiment area of core as adapters use it: read an experiment file, show its plan, start a
// run (preflight first, recorded), resume an interrupted one, list and show stored runs.
import { readFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { CnlabError } from '../errors';
import type { HostService } from '../hosts/host-service';
import type { LabService } from '../topology/lab-service';
import { CNLAB_VERSION } from '../version';
import { requiredTools } from '../workloads/workload-params';
import { caseLabId, caseTopology, checkCaseReachable, checkChannelBudget, runLabTag } from './cell-topology';
import { beginPendingWork, processRuns } from '../workspace/pending-work';
import { DEFAULT_MAX_CHANNELS } from '../ssh/ssh-connection';
import { summarizeCells, type CellSummary } from './cell-summary';
import { compareRunCells, type CellComparison } from './run-comparison';
import { cachedListings } from './run-listing-index';
import { experimentFingerprint, mapHosts, parseExperimentText, type ExperimentSpec } from './experiment-schema';
import { planRuns, type Cell, type RunBlock } from './matrix';
import { installTools, runPreflight, type PreflightReport } from './preflight';
import { PORT_RANGE } from './run-context';
import type { RunEventListener } from './run-events';
import { newRunRecord, runnerStarted, RunStore, type FailureLine, type RunFolder, type RunRecord, type SampleLine } from './run-store';
import { ExperimentRunner, finishedKeys } from './runner';
import type { TopologySpec } from '../topology/topology-schema';

export interface ExperimentPlan {
  spec: ExperimentSpec;
  fingerprint: string;
  seed: number;
  cells: Cell[];
  blocks: RunBlock[];
  /** Per case: the lab it applies (null for the baseline); a run names its labs after its run id, this plan after the fingerprint. */
  topologies: { caseLabel: string; labId: string | null; topology: TopologySpec | null }[];
  totalRuns: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /** Skip the preflight (never recommended; recorded in the run). */
  skipPreflight?: boolean;
  /**
   * Asked when the preflight finds tools missing that the host's package manager offers: resolve true to
   * install them (the consent and what ran are kept in run.json). Without it nothing is installed.
   */
  consentToInstall?: (request: InstallRequest) => Promise<boolean>;
}

export interface InstallRequest {
  host: string;
  tools: string[];
  packageManager: string | null;
  packages: string[];
}

export interface RunListing {
  runId: string;
  name: string;
  /** The stored state, or "interrupted" when a running record's process is gone. */
  state: RunRecord['state'] | 'interrupted';
  createdAt: string;
  cells: number;
  results: number;
  failures: number;
  planned: number;
}

export interface RunDetails {
  record: RunRecord;
  state: RunListing['state'];
  cells: CellSummary[];
  failures: FailureLine[];
}

function effectiveState(record: RunRecord): RunListing['state'] {
  if (record.state !== 'running') return record.state;
  if (record.runnerPid === process.pid) return 'interrupted';
  // The start time tells the runner from a process that got its pid later (older records have none).
  const ticks = record.runnerStarted?.pid === record.runnerPid ? record.runnerStarted.ticks : null;
  return processRuns(record.runnerPid, ticks) ? 'running' : 'interrupted';
}

export class ExperimentService {
  readonly store: RunStore;
  private readonly runner: ExperimentRunner;

  constructor(
    readonly hosts: HostService,
    private readonly labs: LabService,
    private readonly workspaceDir: string,
  ) {
    this.store = new RunStore(workspaceDir);
    this.runner = new ExperimentRunner(hosts, labs);
  }

  async readExperiment(file: string, hostMap: Record<string, string> = {}): Promise<ExperimentSpec> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CnlabError('not-found', `cannot read experiment file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the path`);
    }
    return mapHosts(parseExperimentText(text, file), hostMap);
  }

  /** Cells, run order and labs, without touching a host (only the inventory is consulted). */
  plan(spec: ExperimentSpec, seed = spec.seed ?? randomInt(2 ** 31)): ExperimentPlan {
    const missing = spec.hosts.filter((name) => !this.hosts.inventory.find(name));
    if (missing.length > 0) {
      throw new CnlabError('invalid-input', `the experiment uses host${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not in the inventory: add ${missing.length > 1 ? 'them' : 'it'} with \`cnlab hosts add\`, or bind the file's names with --map name=host`);
    }
    for (const entry of spec.modes) checkCaseReachable(entry, spec.workload.tool, spec.pattern);
    const fingerprint = experimentFingerprint(spec);
    const { cells, blocks } = planRuns(spec, seed);
    if (spec.workload.tool !== 'launch') for (const entry of spec.modes) checkChannelBudget(entry, cells, DEFAULT_MAX_CHANNELS);
    const topologies = spec.modes.map((entry, index) => {
      const labId = entry.network ? caseLabId(fingerprint, index) : null;
      const topology = labId && spec.workload.tool !== 'launch' ? caseTopology(spec, entry, cells, labId) : null;
      return { caseLabel: entry.label, labId, topology };
    });
    return { spec, fingerprint, seed, cells, blocks, topologies, totalRuns: blocks.reduce((sum, block) => sum + block.runs.length, 0) };
  }

  /** Starts a new run: creates its folder, probes facts, runs the preflight, then every run. */
  async start(spec: ExperimentSpec, options: RunOptions & { file?: string; hostMap?: Record<string, string> } = {}): Promise<RunRecord> {
    const plan = this.plan(spec);
    const folder = await this.store.create(spec.name);
    const record = newRunRecord({
      runId: folder.runId,
      experimentFile: options.file ?? null,
      experiment: spec,
      fingerprint: plan.fingerprint,
      hostMap: options.hostMap ?? {},
      cnlabVersion: CNLAB_VERSION,
      seed: plan.seed,
      cells: plan.cells,
      blocks: plan.blocks,
    });
    await folder.saveRecord(record);
    return this.continueRun(folder, record, options);
  }

  /** Continues an interrupted, cancelled or failed run, or a completed one with failed runs: only the runs without a result are run. */
  async resume(runId: string, options: RunOptions = {}): Promise<RunRecord> {
    const folder = await this.store.open(runId);
    const record = await folder.readRecord();
    const state = effectiveState(record);
    if (state === 'running') throw new CnlabError('already-exists', `run ${record.runId} is still running (process ${record.runnerPid}): wait for it or cancel it first`);
    if (state === 'completed') {
      // A completed run may still hold failed runs (a case whose lab could not be built, a host that went
      // away mid-run): measuring them is what a resume is for. Only a run with every run measured is done.
      const finished = finishedKeys(await folder.readSamples());
      const left = record.blocks.flatMap((block) => block.runs).filter((run) => !run.warmup && !finished.has(run.key));
      if (left.length === 0) throw new CnlabError('invalid-input', `run ${record.runId} is complete: nothing to resume (see \`cnlab runs show ${record.runId}\`)`);
    }
    await folder.sealTornLines();
    record.state = 'running';
    record.runnerPid = process.pid;
    delete record.runnerStarted;
    Object.assign(record, runnerStarted());
    record.error = null;
    record.resumes.push(new Date().toISOString());
    await folder.saveRecord(record);
    return this.continueRun(folder, record, options);
  }

  /**
   * Runs what is left of a run. Its marker (pending-work.ts) names the case labs on its hosts for as long as it
   * runs: a run that returns has torn them down, one killed has not, and the next start says so.
   */
  private async continueRun(folder: RunFolder, record: RunRecord, options: RunOptions): Promise<RunRecord> {
    const labs = record.experiment.modes.flatMap((entry, index) => (entry.network ? [caseLabId(runLabTag(record.runId), index)] : []));
    const pending = await beginPendingWork(this.workspaceDir, { kind: 'run', id: record.runId, hosts: record.experiment.hosts, labs });
    let ended = false;
    try {
      const result = await this.continueMarkedRun(folder, record, options);
      ended = true;
      return result;
    } finally {
      await pending.end({ settled: ended });
    }
  }

  private async continueMarkedRun(folder: RunFolder, record: RunRecord, options: RunOptions): Promise<RunRecord> {
    const emit = options.onEvent ?? (() => undefined);
    try {
      record.hostFacts = await this.labs.factsFor(record.experiment.hosts);
      if (!options.skipPreflight) {
        emit({ type: 'state', runId: record.runId, state: 'preflight' });
        let report = await this.preflight(record.experiment, options.signal);
        if (await this.installConsented(record, report, options)) report = await this.preflight(record.experiment, options.signal);
        record.preflight = report;
        if (!report.ok) {
          const errors = report.findings.filter((finding) => finding.severity === 'error');
          throw new CnlabError('invalid-input', `preflight failed: ${errors.map((finding) => `${finding.message} (${finding.fix})`).join('; ')}`);
        }
      } else {
        record.preflight = { skipped: true };
      }
      await folder.saveRecord(record);
    } catch (error) {
      const failure = error instanceof CnlabError ? error : new CnlabError('internal', String(error));
      record.state = options.signal?.aborted ? 'cancelled' : 'failed';
      record.error = failure.message;
      record.finishedAt = new Date().toISOString();
      await folder.saveRecord(record);
      emit({ type: 'state', runId: record.runId, state: record.state, detail: failure.message });
      return record;
    }
    return this.runner.execute(folder, record, { ...options, previous: await folder.readSamples() });
  }

  /** Offers each host's missing tools for install; true when anything was installed. */
  private async installConsented(record: RunRecord, report: PreflightReport, options: RunOptions): Promise<boolean> {
    if (!options.consentToInstall) return false;
    let installed = false;
    for (const finding of report.findings.filter((item) => item.code === 'tool-missing' && item.host)) {
      const details = finding.details as { missing?: string[]; packageManager?: string | null; packages?: string[] } | undefined;
      const request: InstallRequest = { host: finding.host as string, tools: details?.missing ?? [], packageManager: details?.packageManager ?? null, packages: details?.packages ?? [] };
      if (request.packages.length === 0 || !(await options.consentToInstall(request))) continue;
      const install = await installTools(this.hosts, request.host, request.tools, options.signal ? { signal: options.signal } : {});
      record.consents.push({ at: new Date().toISOString(), host: request.host, tools: request.tools, install });
      installed = true;
    }
    return installed;
  }

  /** The preflight of an experiment: its hosts, the tools its workload needs, the ports runs use. */
  preflight(spec: ExperimentSpec, signal?: AbortSignal): Promise<PreflightReport> {
    const hosts = [...new Set(spec.modes.flatMap((entry) => [entry.placement.server, entry.placement.client]))];
    const tools = Object.fromEntries(hosts.map((host) => [host, requiredTools(spec.workload)]));
    const ports = Object.fromEntries(hosts.map((host) => [host, { ...PORT_RANGE }]));
    return runPreflight(this.hosts, { hosts, tools, ports }, signal ? { signal } : {});
  }

  /** Every run of the workspace, oldest first; counts come from runs/index.json while the files are unchanged. */
  list(): Promise<RunListing[]> {
    return listRunsIn(this.store);
  }

  /** Run B against run A, cell by cell (see run-comparison.ts). */
  async compare(runA: string, runB: string): Promise<{ a: RunRecord; b: RunRecord; rows: CellComparison[] }> {
    return compareRunFolders(await this.store.open(runA), await this.store.open(runB));
  }

  async show(runId: string): Promise<RunDetails> {
    return readRunDetails(await this.store.open(runId));
  }
}

/** The runs of a store (a workspace's runs/ or an imported bundle's), oldest first, through its index.json. */
export async function listRunsIn(store: RunStore): Promise<RunListing[]> {
  return cachedListings(store.dir, await store.list(), {
    compute: (runId) => runListing(store.folderOf(runId)),
    cacheable: (listing) => listing.state !== 'running' && listing.state !== 'interrupted',
  });
}

/** A run's line in the runs list, read synchronously (see ListingCache.compute). */
function runListing(folder: RunFolder): RunListing | null {
  try {
    const record = folder.readRecordSync();
    const { results, failures } = folder.countMeasuredSync();
    return {
      runId: folder.runId,
      name: record.experiment.name,
      state: effectiveState(record),
      createdAt: record.createdAt,
      cells: record.cells.length,
      results,
      failures,
      planned: record.blocks.reduce((sum, block) => sum + block.runs.filter((run) => !run.warmup).length, 0),
    };
  } catch {
    // A folder that is not a run (or a run.json from a newer cnlab) is left out of the list.
    return null;
  }
}

/** Run B against run A, cell by cell (see run-comparison.ts); the folders may come from different stores. */
export async function compareRunFolders(folderA: RunFolder, folderB: RunFolder): Promise<{ a: RunRecord; b: RunRecord; rows: CellComparison[] }> {
  const [a, b] = await Promise.all([folderA, folderB].map(async (folder) => ({ record: await folder.readRecord(), lines: await folder.readSamples() })));
  if (!a || !b) throw new CnlabError('internal', 'comparison lost a run');
  return { a: a.record, b: b.record, rows: compareRunCells(a, b) };
}

/** A run folder's record with its per-cell statistics and failures (also for runs outside a workspace's runs/). */
export async function readRunDetails(folder: RunFolder): Promise<RunDetails> {
  return runDetailsOf(await folder.readRecord(), await folder.readSamples());
}

/** The same from a record and its sample lines already read. */
export function runDetailsOf(record: RunRecord, lines: readonly SampleLine[]): RunDetails {
  return { record, state: effectiveState(record), cells: summarizeCells(record, lines), failures: lines.filter((line): line is FailureLine => line.type === 'failure') };
}
