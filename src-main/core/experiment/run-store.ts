// A run's folder in the workspace (runs/<run id>/): run.json replaced atomically on every state
// change, samples.jsonl and commands.log only ever appended (one write per line), raw tool outputs
// beside them. A crash or kill -9 at any moment leaves every earlier line and file intact; a torn last
// line is skipped when reading and sealed before the next append.
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { processStartTicks } from '../workspace/pending-work';
import { runRecordProblem } from './run-record-schema';
import type { HostFacts } from '../hosts/host-facts';
import type { CommandRecord, LiveSample } from '../workloads/workload-context';
import type { ExperimentSpec } from './experiment-schema';
import type { Cell, RunBlock } from './matrix';
import type { InstallRecord, PreflightFinding } from './preflight';

export type RunState = 'running' | 'completed' | 'cancelled' | 'failed';

export interface TopologyRecord {
  caseLabel: string;
  labId: string;
  /** The lab's plan fingerprint and what was deployed (containers, addresses) when it was applied. */
  fingerprint: string;
  appliedAt: string;
  containers: unknown[];
  /** TSO/GSO/GRO of the server container's interface (null: ethtool missing); compared between cases. */
  offloads?: Record<string, 'on' | 'off'> | null;
}

/** An install the user agreed to before the run, with what ran (the run must say its hosts were changed). */
export interface ConsentRecord {
  at: string;
  host: string;
  tools: string[];
  install: InstallRecord;
}

export interface RunRecord {
  formatVersion: 1;
  runId: string;
  state: RunState;
  /** The process running it; a `running` record whose runner is gone was interrupted (resume it). */
  runnerPid: number;
  /**
   * When that process started (Linux), so that another process given the same pid later (pids wrap within
   * minutes on a busy machine) is not taken for the runner; absent in older records and where unknown.
   */
  runnerStarted?: { pid: number; ticks: number };
  experimentFile: string | null;
  experiment: ExperimentSpec;
  fingerprint: string;
  hostMap: Record<string, string>;
  cnlabVersion: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  seed: number;
  cells: Cell[];
  blocks: RunBlock[];
  hostFacts: Record<string, HostFacts>;
  preflight: unknown;
  consents: ConsentRecord[];
  topologies: TopologyRecord[];
  error: string | null;
  /** Resumes so far, with when they started. */
  resumes: string[];
  /** What the run itself noticed that may skew results (noisy warm-ups, offloads differing between cases). */
  warnings: PreflightFinding[];
}

/** A run.json's text as a record, or a CnlabError naming `file`: valid JSON, this format version, a run record's shape. */
export function parseRunRecord(text: string, file: string, runId: string): RunRecord {
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch (error) {
    throw new CnlabError('invalid-input', `${file} is not valid JSON (${(error as Error).message}): it was edited or damaged outside cnlab`);
  }
  const version = record !== null && typeof record === 'object' ? record.formatVersion : undefined;
  if (version !== 1 && typeof version === 'number') throw new CnlabError('invalid-input', `run ${runId}: format version ${String(version)} is not supported by this cnlab`);
  const problem = runRecordProblem(record);
  if (problem !== null) throw new CnlabError('invalid-input', `${file} is not a cnlab run record (${problem}): it was edited or damaged outside cnlab`);
  return record;
}

/** This process as a run's runner: its pid and start time (see RunRecord.runnerStarted). */
export function runnerStarted(): Pick<RunRecord, 'runnerStarted'> {
  const ticks = processStartTicks(process.pid);
  return ticks === null ? {} : { runnerStarted: { pid: process.pid, ticks } };
}

/** A fresh record for a run that has not started yet (state running, nothing measured). */
export function newRunRecord(fields: Pick<RunRecord, 'runId' | 'experimentFile' | 'experiment' | 'fingerprint' | 'hostMap' | 'cnlabVersion' | 'seed' | 'cells' | 'blocks'>, now = new Date().toISOString()): RunRecord {
  return {
    formatVersion: 1,
    state: 'running',
    runnerPid: process.pid,
    ...runnerStarted(),
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    hostFacts: {},
    preflight: null,
    consents: [],
    topologies: [],
    error: null,
    resumes: [],
    warnings: [],
    ...fields,
  };
}

/** What every stored line about one run (measured or warm-up) carries. */
interface RunLineBase {
  key: string;
  cellIndex: number;
  repetition: number;
  warmup: boolean;
  startedAt: string;
  durationMs: number;
}

export interface ResultLine extends RunLineBase {
  type: 'result';
  metrics: Record<string, number>;
  rawSamples?: Record<string, number[]>;
  notes?: string[];
}

export interface FailureLine extends RunLineBase {
  type: 'failure';
  error: { code: string; message: string };
}

export interface LiveLine extends LiveSample {
  type: 'live';
  key: string;
}

export type SampleLine = ResultLine | FailureLine | LiveLine;

/** One line of commands.log: tab-separated, the command last with newlines escaped. */
export function formatCommandLine(record: CommandRecord, runKey: string): string {
  const outcome = record.stopped ? 'stopped' : record.error ? `error: ${record.error}` : `exit ${record.exitCode === null ? 'signal' : String(record.exitCode)}`;
  const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return `${record.startedAt}\t${runKey}\t${record.host}\t${escape(outcome)}\t${Math.round(record.durationMs)}ms\t${escape(record.command)}\n`;
}

/** How a result or failure line starts as the runner writes it (runner.ts: type, then the run's base fields). */
const MEASURED_HEAD = /^\{"type":"(result|failure)","key":("(?:[^"\\]|\\.)*"),"cellIndex":\d+,"repetition":\d+,"warmup":(true|false),/;

/**
 * Distinct measured run keys with a result, and measured failures, of samples.jsonl text: what the runs list
 * shows. Reads each line's head only (a result line can carry thousands of raw samples); a line written in
 * another shape is parsed whole.
 */
export function countMeasured(text: string): { results: number; failures: number } {
  const results = new Set<string>();
  let failures = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith(LIVE_PREFIX)) continue;
    const head = MEASURED_HEAD.exec(line);
    const parsed: { type?: string; key?: string; warmup?: boolean } | undefined = head
      ? { type: head[1], key: JSON.parse(head[2] ?? '""') as string, warmup: head[3] === 'true' }
      : parseSampleLines(line)[0];
    if (!parsed?.key || parsed.warmup) continue;
    if (parsed.type === 'result') results.add(parsed.key);
    else if (parsed.type === 'failure') failures++;
  }
  return { results: results.size, failures };
}

/** Live lines start so (run-context.ts writes `type` first): a listing skips them without parsing. */
const LIVE_PREFIX = '{"type":"live"';

export function parseSampleLines(text: string, { skipLive = false }: { skipLive?: boolean } = {}): SampleLine[] {
  const lines: SampleLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || (skipLive && line.startsWith(LIVE_PREFIX))) continue;
    try {
      const value = JSON.parse(line) as SampleLine;
      if (value && typeof value === 'object' && typeof value.type === 'string') lines.push(value);
    } catch {
      // A line torn by a crash mid-write: everything before it is intact, the run it belonged to is redone.
    }
  }
  return lines;
}

/** The labs as deployed, by case label, from a run's deployed/<case>.json files (name and text, sorted by name). */
export function deployedStatesOf(files: readonly { name: string; text: string }[]): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  for (const { name, text } of files) {
    try {
      const value = JSON.parse(text) as { caseLabel?: unknown };
      states[typeof value.caseLabel === 'string' ? value.caseLabel : name.replace(/\.json$/, '')] = value;
    } catch {
      // Torn by a crash mid-capture: the rest of the run is still valid.
    }
  }
  return states;
}

export class RunFolder {
  constructor(readonly dir: string) {}

  get runId(): string {
    return this.dir.split('/').at(-1) ?? this.dir;
  }

  async saveRecord(record: RunRecord): Promise<void> {
    await writeFileAtomic(join(this.dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  }

  async readRecord(): Promise<RunRecord> {
    return this.parseRecord(await readFile(join(this.dir, 'run.json'), 'utf8').catch((error: unknown) => this.recordReadError(error)));
  }

  /**
   * The same, read synchronously: listing thousands of runs without an index reads each run this way, about
   * three times faster than through the thread pool (the listing yields between batches).
   */
  readRecordSync(): RunRecord {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'run.json'), 'utf8');
    } catch (error) {
      this.recordReadError(error);
    }
    return this.parseRecord(text);
  }

  private recordReadError(error: unknown): never {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CnlabError('not-found', `run ${this.runId} has no run.json (${this.dir}): it is not a cnlab run folder`);
    throw new CnlabError('io', `cannot read ${join(this.dir, 'run.json')}: ${(error as Error).message}`);
  }

  /** run.json's text (read by the caller) as a record: valid JSON of a format this cnlab reads. */
  parseRecord(text: string): RunRecord {
    return parseRunRecord(text, join(this.dir, 'run.json'), this.runId);
  }

  /** Every line of samples.jsonl; `skipLive` leaves out the per-second live samples (most of the file). */
  async readSamples(options: { skipLive?: boolean } = {}): Promise<SampleLine[]> {
    try {
      return parseSampleLines(await readFile(join(this.dir, 'samples.jsonl'), 'utf8'), options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** countMeasured of samples.jsonl, read synchronously (see readRecordSync). */
  countMeasuredSync(): { results: number; failures: number } {
    try {
      return countMeasured(readFileSync(join(this.dir, 'samples.jsonl'), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { results: 0, failures: 0 };
      throw error;
    }
  }

  /** Appends lines in one write (O_APPEND), so concurrent readers never see half of a batch's line. */
  async appendSamples(lines: readonly SampleLine[]): Promise<void> {
    if (lines.length === 0) return;
    await appendFile(join(this.dir, 'samples.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  }

  async appendCommands(text: string): Promise<void> {
    if (text) await appendFile(join(this.dir, 'commands.log'), text);
  }

  /** A case's lab as captured on its hosts after apply (bundles and reports show it as deployed). */
  async saveDeployed(caseIndex: number, state: unknown): Promise<void> {
    await writeFileAtomic(join(this.dir, 'deployed', `case-${caseIndex}.json`), `${JSON.stringify(state, null, 1)}\n`);
  }

  /** Every case's captured lab (saveDeployed), by case label; unreadable files are left out. */
  async readDeployed(): Promise<Record<string, unknown>> {
    const names = (await readdir(join(this.dir, 'deployed')).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).sort();
    return deployedStatesOf(await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(this.dir, 'deployed', name), 'utf8').catch(() => '') }))));
  }

  async saveRaw(name: string, text: string): Promise<void> {
    const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
    await mkdir(join(this.dir, 'raw'), { recursive: true });
    await writeFile(join(this.dir, 'raw', safe), text);
  }

  /** Before appending after a crash: ends a torn last line so the next line starts clean. */
  async sealTornLines(): Promise<void> {
    for (const file of ['samples.jsonl', 'commands.log']) {
      const path = join(this.dir, file);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        continue;
      }
      if (size === 0) continue;
      const handle = await open(path, 'r');
      const last = Buffer.alloc(1);
      try {
        await handle.read(last, 0, 1, size - 1);
      } finally {
        await handle.close();
      }
      if (last.toString() !== '\n') await appendFile(path, '\n');
    }
  }
}

/** The runs/ folder of a workspace. */
export class RunStore {
  readonly dir: string;

  constructor(workspaceDir: string) {
    this.dir = join(workspaceDir, 'runs');
  }

  /** A new run folder named by time and experiment: sortable, readable, unique. */
  async create(experimentName: string, now = new Date()): Promise<RunFolder> {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    await mkdir(this.dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const runId = `${stamp}-${experimentName}${attempt > 0 ? `-${attempt + 1}` : ''}`;
      try {
        await mkdir(join(this.dir, runId));
        return new RunFolder(join(this.dir, runId));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
      }
    }
  }

  /** An existing run by id, or by a unique prefix of it. */
  async open(runId: string): Promise<RunFolder> {
    if (!/^[A-Za-z0-9._-]+$/.test(runId)) throw new CnlabError('invalid-input', `${runId} is not a run id: run ids look like 20261122-051500-quick (see \`cnlab runs list\`)`);
    const ids = await this.list();
    if (ids.includes(runId)) return new RunFolder(join(this.dir, runId));
    const matches = ids.filter((id) => id.startsWith(runId));
    if (matches.length === 1 && matches[0]) return new RunFolder(join(this.dir, matches[0]));
    if (matches.length > 1) throw new CnlabError('invalid-input', `run id ${runId} is ambiguous (${matches.slice(0, 5).join(', ')}): give more of it`);
    throw new CnlabError('not-found', `no run ${runId} in this workspace (${this.dir}): see \`cnlab runs list\``);
  }

  /** The folder of an id `list()` returned (no lookup: that costs a directory read per run). */
  folderOf(listedRunId: string): RunFolder {
    return new RunFolder(join(this.dir, listedRunId));
  }

  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    } catch {
      return [];
    }
  }
}
