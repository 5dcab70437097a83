// Executes an experiment's runs: per block (one case) apply its lab once, run warm-ups then the
// measured runs in their planned order with a cool-down between, add adaptive repetitions, tear the
// lab down. Every result is appended as it comes, so a crash loses at most the run in flight and a
// resume skips what is done. Cancel stops the run in flight and tears down everything it applied.
import { CnlabError, toCnlabError } from '../errors';
import type { HostService } from '../hosts/host-service';
import { adaptiveRepetitions } from '../stats';
import type { LabService } from '../topology/lab-service';
import { labNames } from '../topology/naming';
import type { Measurement, WorkloadContext } from '../workloads/workload-context';
import { primaryMetric } from '../workloads/workload-params';
import { withCpu } from './aggregate';
import { readCaseOffloads } from './case-offloads';
import { captureDeployedState } from '../topology/deployed-state';
import type { PlannedContainer } from '../topology/plan';
import { caseLabId, caseTopology, checkCaseReachable, runLabTag } from './cell-topology';
import { compareOffloads, noiseFinding } from './preflight';
import { patternOf, type ModeCase } from './experiment-schema';
import { runKey, type Cell, type PlannedRun } from './matrix';
import { RunContext } from './run-context';
import { estimateRemainingMs, type RunEventListener } from './run-events';
import type { ResultLine, RunFolder, RunRecord, SampleLine } from './run-store';
import { caseEndpoints, runLaunchCase, runPairCase, type CaseLab } from './workload-dispatch';

export interface ExecuteOptions {
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /** Lines already stored (a resume): finished runs are skipped. */
  previous?: readonly SampleLine[];
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(new CnlabError('cancelled', 'the run was cancelled'));
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** Runs whose latest line is a result (failures are retried by a resume). */
export function finishedKeys(lines: readonly SampleLine[]): Set<string> {
  const latest = new Map<string, SampleLine['type']>();
  for (const line of lines) if (line.type !== 'live') latest.set(line.key, line.type);
  return new Set([...latest].filter(([, type]) => type === 'result').map(([key]) => key));
}

export class ExperimentRunner {
  constructor(
    private readonly hosts: HostService,
    private readonly labs: LabService,
  ) {}

  /** Runs every run of the record not yet finished; resolves with the final state stored in run.json. */
  async execute(folder: RunFolder, record: RunRecord, options: ExecuteOptions = {}): Promise<RunRecord> {
    const signal = options.signal ?? new AbortController().signal;
    const context = new RunContext(folder, record, this.hosts, signal, options.onEvent);
    const lines = [...(options.previous ?? [])];
    const done = finishedKeys(lines);
    const applied = new Map<string, string[]>();
    const total = record.blocks.reduce((sum, block) => sum + block.runs.filter((run) => !run.warmup).length, 0);
    const durations: number[] = [];
    const startedAt = Date.now();

    /** Runs one run and stores its line; resolves true when it gave a result. */
    const runOne = async (run: PlannedRun, entry: ModeCase, caseIndex: number, lab: CaseLab | null): Promise<boolean> => {
      const cell = record.cells[run.cellIndex] as Cell;
      context.emit({ type: 'progress', runId: record.runId, done: done.size, total, key: run.key, cellId: cell.id, warmup: run.warmup, elapsedMs: Date.now() - startedAt, etaMs: estimateRemainingMs(durations, Math.max(0, total - done.size)) });
      const began = Date.now();
      const line = await this.measure(context, run, cell, entry, caseIndex, lab);
      durations.push(Date.now() - began);
      lines.push(line);
      await context.append(line);
      if (line.type === 'result') {
        if (!run.warmup) done.add(run.key);
        else if (run.repetition === record.experiment.warmup) this.checkWarmupNoise(context, lines, cell);
      }
      return line.type === 'result';
    };

    const failedCases: string[] = [];
    let firstRun = true;
    const rest = async (): Promise<void> => {
      if (!firstRun) await abortableSleep(record.experiment.cooldown * 1000, signal);
      firstRun = false;
    };

    try {
      context.emit({ type: 'state', runId: record.runId, state: 'running' });
      for (const block of record.blocks) {
        const caseIndex = record.experiment.modes.findIndex((entry) => entry.label === block.caseLabel);
        const entry = record.experiment.modes[caseIndex] as ModeCase;
        const pendingMeasured = block.runs.filter((run) => !run.warmup && !done.has(run.key));
        const adaptiveCells = record.experiment.adaptive ? record.cells.filter((cell) => cell.caseLabel === block.caseLabel) : [];
        if (pendingMeasured.length === 0 && !adaptiveCells.some((cell) => this.needsMore(record, lines, cell))) continue;
        let lab: CaseLab | null;
        try {
          lab = await this.prepareCase(context, entry, caseIndex, applied);
        } catch (error) {
          // A case whose lab cannot be built (a mode this kernel lacks, say) costs its own runs, not the others'.
          if (signal.aborted) throw error;
          const failure = toCnlabError(error);
          failedCases.push(`${entry.label}: ${failure.message}`);
          for (const run of block.runs.filter((candidate) => !candidate.warmup && !done.has(candidate.key))) lines.push(await this.caseFailed(context, run, failure));
          if (applied.has(caseLabId(runLabTag(record.runId), caseIndex))) await this.teardownCase(context, caseLabId(runLabTag(record.runId), caseIndex), applied);
          continue;
        }
        const pendingCells = new Set(pendingMeasured.map((run) => run.cellIndex));
        // Warm-ups again for any cell still to measure: a crash or a new session starts cold.
        for (const run of block.runs.filter((candidate) => candidate.warmup ? pendingCells.has(candidate.cellIndex) : !done.has(candidate.key))) {
          await rest();
          await runOne(run, entry, caseIndex, lab);
        }
        for (const cell of adaptiveCells) {
          while (this.needsMore(record, lines, cell)) {
            const repetition = 1 + Math.max(0, ...lines.filter((line) => line.type === 'result' && line.cellIndex === cell.index && !line.warmup).map((line) => (line as ResultLine).repetition));
            await rest();
            // A failed extra run adds nothing to the interval: stop adding rather than retry forever.
            if (!(await runOne({ key: runKey(cell.index, false, repetition), cellIndex: cell.index, repetition, warmup: false }, entry, caseIndex, lab))) break;
          }
        }
        if (lab) await this.teardownCase(context, lab.labId, applied);
      }
      const allFailed = failedCases.length > 0 && failedCases.length === record.blocks.length;
      record.state = allFailed ? 'failed' : 'completed';
      record.error = allFailed ? `no case could be set up: ${failedCases.join('; ')}` : null;
      if (!allFailed) {
        for (const reason of failedCases) context.warn({ severity: 'warning', code: 'case-failed', host: null, message: `case ${reason}`, fix: 'its runs are recorded as failures and the other cases were measured: fix the cause and `cnlab runs resume` the run to measure it' });
      }
    } catch (error) {
      const failure = toCnlabError(error);
      record.state = signal.aborted || failure.code === 'cancelled' ? 'cancelled' : 'failed';
      record.error = record.state === 'cancelled' ? 'cancelled by the user' : failure.message;
    } finally {
      for (const labId of [...applied.keys()]) {
        await this.teardownCase(context, labId, applied).catch((error: unknown) => {
          record.error = `${record.error ? `${record.error}; ` : ''}teardown of lab ${labId} failed: ${toCnlabError(error).message} (run \`cnlab topology teardown ${labId}\`)`;
          if (record.state === 'completed') record.state = 'failed';
        });
      }
      record.finishedAt = new Date().toISOString();
      await context.close();
      context.emit({ type: 'state', runId: record.runId, state: record.state, ...(record.error ? { detail: record.error } : {}) });
    }
    return record;
  }

  /** Offloads differing between the cases applied so far: one warning per differing feature, kept in the run. */
  private warnAboutOffloads(context: RunContext): void {
    const byCase = Object.fromEntries(context.record.topologies.flatMap((item) => (item.offloads ? [[item.caseLabel, item.offloads] as const] : [])));
    for (const finding of compareOffloads(byCase)) context.warn(finding);
  }

  /** After a cell's last warm-up: does its spread say the planned repetitions cannot give a tight interval? */
  private checkWarmupNoise(context: RunContext, lines: readonly SampleLine[], cell: Cell): void {
    const metric = primaryMetric(cell.params).name;
    const warmups = lines.filter((line): line is ResultLine => line.type === 'result' && line.cellIndex === cell.index && line.warmup);
    // Needs two warm-ups or more: per-second intervals inside one run vary far more than run means do.
    const values = warmups.map((line) => line.metrics[metric]).filter((value): value is number => typeof value === 'number');
    const finding = noiseFinding(cell.id, values, context.record.experiment.repetitions);
    if (finding) context.warn(finding);
  }

  /** Adaptive rule on the primary metric: more repetitions until the CI is narrow enough or the cap is hit. */
  private needsMore(record: RunRecord, lines: readonly SampleLine[], cell: Cell): boolean {
    const adaptive = record.experiment.adaptive;
    if (!adaptive) return false;
    const metric = primaryMetric(cell.params).name;
    const latest = new Map<string, ResultLine>();
    for (const line of lines) if (line.type === 'result' && line.cellIndex === cell.index && !line.warmup) latest.set(line.key, line);
    const values = [...latest.values()].map((line) => line.metrics[metric]).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    if (values.length < record.experiment.repetitions) return false;
    const minRepetitions = Math.max(2, record.experiment.repetitions);
    return adaptiveRepetitions(values, { targetRelativeHalfWidth: adaptive.targetRelativeHalfWidth, minRepetitions, maxRepetitions: Math.max(minRepetitions, adaptive.maxRepetitions) }).action === 'continue';
  }

  /** Applies the case's lab (reused when it is already applied with the same plan) and records it. */
  private async prepareCase(context: RunContext, entry: ModeCase, caseIndex: number, applied: Map<string, string[]>): Promise<CaseLab | null> {
    const record = context.record;
    if (!entry.network) return null;
    checkCaseReachable(entry, record.experiment.workload.tool, patternOf(record.experiment));
    // Launch-time runs apply and tear down their own lab, one per run.
    if (record.experiment.workload.tool === 'launch') return null;
    const labId = caseLabId(runLabTag(record.runId), caseIndex);
    const topology = caseTopology(record.experiment, entry, record.cells, labId);
    if (!topology) return null;
    context.emit({ type: 'state', runId: record.runId, state: 'applying', detail: `${entry.label}: lab ${labId}` });
    applied.set(labId, topology.hosts);
    const result = await this.labs.apply(topology, { signal: context.signal });
    const lab = { labId, record: result.record };
    context.emit({ type: 'lab', runId: record.runId, caseLabel: entry.label, labId, topology, containers: result.record.containers });
    const offloads = await readCaseOffloads(context.workloadContext(`setup-${caseIndex}`), lab).catch(() => null);
    await this.recordDeployedState(context, entry.label, caseIndex, result.record);
    const existing = record.topologies.findIndex((item) => item.labId === labId);
    const entryRecord = { caseLabel: entry.label, labId, fingerprint: result.record.fingerprint, appliedAt: result.record.appliedAt, containers: result.record.containers, offloads };
    if (existing >= 0) record.topologies[existing] = entryRecord;
    else record.topologies.push(entryRecord);
    this.warnAboutOffloads(context);
    await context.saveRecord();
    return lab;
  }

  /** Links, MTUs, offloads and qdiscs of the case's lab as the hosts report them; a failed read is noted, never fatal. */
  private async recordDeployedState(context: RunContext, caseLabel: string, caseIndex: number, lab: { labId: string; hosts: readonly string[]; containers: readonly PlannedContainer[] }): Promise<void> {
    try {
      const state = await captureDeployedState(lab, (host) => this.hosts.executor(host), { signal: context.signal, timeoutMs: 30_000 });
      await context.folder.saveDeployed(caseIndex, { caseLabel, ...state });
    } catch (error) {
      if (context.signal.aborted) throw error;
      await context.folder.saveDeployed(caseIndex, { caseLabel, labId: lab.labId, hosts: [], failures: [{ host: lab.hosts.join(','), error: (error as Error).message }] });
    }
  }

  private async teardownCase(context: RunContext, labId: string, applied: Map<string, string[]>): Promise<void> {
    context.emit({ type: 'state', runId: context.record.runId, state: 'tearing-down', detail: `lab ${labId}` });
    const hosts = await this.labs.teardown(labId, applied.get(labId));
    const problems = hosts.filter((host) => host.error || host.leftovers.length > 0);
    if (problems.length > 0) {
      throw new CnlabError('command-failed', `lab ${labId} was not fully torn down on ${problems.map((host) => `${host.host} (${host.error ?? `${host.leftovers.length} objects left`})`).join(', ')}`);
    }
    applied.delete(labId);
  }

  /** A run of a case whose lab could not be built: a failure line with the reason, as if it had run. */
  private async caseFailed(context: RunContext, run: PlannedRun, failure: CnlabError): Promise<SampleLine> {
    const cell = context.record.cells[run.cellIndex] as Cell;
    const message = `its lab could not be set up: ${failure.message}`;
    context.emit({ type: 'failure', runId: context.record.runId, key: run.key, cellId: cell.id, warmup: run.warmup, message });
    const line: SampleLine = { type: 'failure', key: run.key, cellIndex: run.cellIndex, repetition: run.repetition, warmup: run.warmup, startedAt: new Date().toISOString(), durationMs: 0, error: { code: failure.code, message } };
    await context.append(line);
    return line;
  }

  /** One run: never throws for a workload failure (that is a failure line); only cancel propagates. */
  private async measure(context: RunContext, run: PlannedRun, cell: Cell, entry: ModeCase, caseIndex: number, lab: CaseLab | null): Promise<SampleLine> {
    const startedAt = new Date();
    const base = { key: run.key, cellIndex: run.cellIndex, repetition: run.repetition, warmup: run.warmup, startedAt: startedAt.toISOString() };
    const ctx: WorkloadContext = context.workloadContext(run.key);
    try {
      let measurement: Measurement;
      if (cell.params.tool === 'launch') {
        measurement = await runLaunchCase(ctx, { cell, entry, labs: this.labs, labId: caseLabId(runLabTag(context.record.runId), caseIndex), addressPool: context.record.experiment.addressPool, backend: context.record.experiment.backend, ...(context.record.experiment.docker?.image ? { dockerImage: context.record.experiment.docker.image } : {}) });
      } else {
        const pattern = patternOf(context.record.experiment);
        const endpoints = caseEndpoints(entry, lab, cell, (host) => this.labs.managementAddress(host, context.record.hostFacts[host]), pattern);
        const prefixes = lab ? [labNames(lab.labId).link('v', '').slice(0, 5)] : [];
        const { server, client } = entry.placement;
        const measured = await context.withHostSamplers([server, client], prefixes, run.key, () =>
          runPairCase(ctx, { cell, endpoints, load: context.record.experiment.interference?.load ?? 'busy', pattern }),
        );
        measurement = withCpu(measured.value, { ...(measured.cpu[server] ? { server: measured.cpu[server] } : {}), ...(measured.cpu[client] ? { client: measured.cpu[client] } : {}) });
      }
      const line: ResultLine = { type: 'result', ...base, durationMs: Date.now() - startedAt.getTime(), metrics: measurement.metrics, ...(measurement.rawSamples ? { rawSamples: measurement.rawSamples } : {}), ...(measurement.notes ? { notes: measurement.notes } : {}) };
      context.emit({ type: 'result', runId: context.record.runId, key: run.key, cellId: cell.id, warmup: run.warmup, metrics: measurement.metrics });
      return line;
    } catch (error) {
      const failure = toCnlabError(error);
      if (context.signal.aborted) throw new CnlabError('cancelled', 'the run was cancelled');
      context.emit({ type: 'failure', runId: context.record.runId, key: run.key, cellId: cell.id, warmup: run.warmup, message: failure.message });
      return { type: 'failure', ...base, durationMs: Date.now() - startedAt.getTime(), error: { code: failure.code, message: failure.message } };
    }
  }
}
