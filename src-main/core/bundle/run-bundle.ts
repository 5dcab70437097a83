// What goes into a result bundle for some runs of a workspace: every file of each run folder as written
// (record, samples, commands log, raw tool outputs), a manifest that describes the bundle without
// opening the runs (format version, cnlab version, the experiments' fingerprints, host facts, the
// topology as deployed), and results.csv with each cell's statistics. The report and the charts are made
// by the caller (extraFiles): they need the presentation layer, which core does not know.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CnlabError } from '../errors';
import { runDetailsOf, type RunDetails } from '../experiment/experiment-service';
import { deployedStatesOf, parseSampleLines, RunStore, type RunFolder } from '../experiment/run-store';
import { CNLAB_VERSION } from '../version';
import { BundleArchiveWriter, type BundleFile } from './bundle-archive';
import { addRunFolder, filesUnder, type RunFolderEntry } from './run-folder-files';

export const BUNDLE_FORMAT = 1;

export interface BundleManifest {
  bundleFormat: typeof BUNDLE_FORMAT;
  cnlabVersion: string;
  createdAt: string;
  runs: {
    runId: string;
    name: string;
    state: string;
    createdAt: string;
    experimentFingerprint: string;
    hostMap: Record<string, string>;
    hostFacts: unknown;
    /** Per host: the load generators' and network tools' versions (null: not installed). */
    toolVersions: Record<string, Record<string, string | null>>;
    topologies: unknown;
    /** Per case label: the lab as captured on each host after apply (links, MTUs, offloads, qdiscs). */
    deployed: Record<string, unknown>;
  }[];
}

/** The part of a manifest its readers rely on, as parseBundleManifest checked it (other fields kept, unchecked). */
export type BundleManifestSummary = Pick<BundleManifest, 'bundleFormat' | 'cnlabVersion' | 'createdAt'> & {
  runs: Pick<BundleManifest['runs'][number], 'runId' | 'name' | 'state' | 'createdAt'>[];
};

/**
 * What readers of a bundle's manifest rely on (the runs' ids, names, states and dates, the format and version);
 * the rest is kept as it is. A run id is a folder name under runs/: plain characters only.
 */
const manifestSchema = z.looseObject({
  bundleFormat: z.literal(BUNDLE_FORMAT),
  cnlabVersion: z.string(),
  createdAt: z.string(),
  runs: z.array(
    z.looseObject({
      runId: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'a run id has letters, digits, ".", "_" or "-"'),
      name: z.string(),
      state: z.string(),
      createdAt: z.string(),
    }),
  ),
});

/**
 * A bundle's manifest.json (its text, undefined when the bundle has none), checked: `file` names the bundle in
 * errors. A bundle of a newer format is told apart from a damaged one.
 */
export function parseBundleManifest(text: string | undefined, file: string): BundleManifestSummary {
  if (text === undefined) throw new CnlabError('invalid-input', `${file} has no manifest.json: it is not a cnlab result bundle`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CnlabError('invalid-input', `${file}: manifest.json is not valid JSON (${(error as Error).message}): the bundle was damaged or not written by cnlab`);
  }
  const format: unknown = value && typeof value === 'object' && 'bundleFormat' in value ? value.bundleFormat : undefined;
  if (typeof format === 'number' && format > BUNDLE_FORMAT) {
    throw new CnlabError('invalid-input', `${file} is a bundle of format ${format}; this cnlab reads format ${BUNDLE_FORMAT}: upgrade cnlab`, { bundleFormat: format });
  }
  const result = manifestSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`).join('; ');
    throw new CnlabError('invalid-input', `${file}: manifest.json is not a cnlab bundle manifest (${problems}): the bundle was damaged or not written by cnlab`);
  }
  return result.data;
}

const csvField = (value: string | number): string => (typeof value === 'number' ? String(value) : /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** One line per run, cell and metric: the numbers a spreadsheet or a paper's table starts from. */
function resultsCsv(rows: (string | number)[][]): string {
  const header = ['runId', 'cellId', 'case', 'axes', 'metric', 'n', 'mean', 'median', 'ci95Low', 'ci95High', 'noisy'];
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n').concat('\n');
}

/** A run as the bundle read it, handed to extraFiles so the report reads and computes nothing again. */
export interface BundledRun {
  folder: RunFolder;
  details: RunDetails;
  deployed: Record<string, unknown>;
}

export interface BundleOptions {
  now?: Date;
  /** More files made from the bundled runs (report.html, charts/); paths must not clash. */
  extraFiles?: (runs: readonly BundledRun[]) => Promise<BundleFile[]>;
}

/** Finds a run's folder by the id the caller uses (a RunStore, or a view over several stores). */
export type RunOpener = Pick<RunStore, 'open'>;

/** Runs read ahead while bundling: enough to keep the thread pool busy, few enough for open-file limits. */
const READ_AHEAD = 16;

/** Opens runs by id; a RunStore is listed once (its open() lists the folder for every run). */
async function folderOpener(store: RunOpener): Promise<(runId: string) => Promise<RunFolder>> {
  if (!(store instanceof RunStore)) return (runId) => store.open(runId);
  const listed = new Set(await store.list());
  return (runId) => (listed.has(runId) ? Promise.resolve(store.folderOf(runId)) : store.open(runId));
}

interface ReadRun extends BundledRun {
  entry: RunFolderEntry;
}

const DEPLOYED_FILE = /^deployed\/[^/]+\.json$/;

/**
 * Lists a run folder and reads what the statistics and the manifest need (record, samples, deployed labs);
 * the same bytes go into the bundle, so its files and its results.csv agree even if the run is still going.
 */
async function readRun(open: Promise<RunFolder>): Promise<ReadRun> {
  const folder = await open;
  const paths = filesUnder(folder.dir);
  if (!paths.includes('run.json')) await folder.readRecord(); // says "not a cnlab run folder"
  const known = paths.filter((path) => path === 'run.json' || path === 'samples.jsonl' || DEPLOYED_FILE.test(path)).map((path) => ({ path, content: readFileSync(join(folder.dir, ...path.split('/'))) }));
  const text = (name: string): string => known.find((file) => file.path === name)?.content.toString('utf8') ?? '';
  const deployed = deployedStatesOf(known.filter((file) => DEPLOYED_FILE.test(file.path)).map((file) => ({ name: file.path.slice('deployed/'.length), text: file.content.toString('utf8') })));
  const details = runDetailsOf(folder.parseRecord(text('run.json')), parseSampleLines(text('samples.jsonl')));
  return { folder, details, deployed, entry: { dir: folder.dir, prefix: `runs/${details.record.runId}/`, paths, known } };
}

/** Hands the bundle's runs and files for `runIds` to the writer (runs in order), and returns the manifest. */
async function collectInto(store: RunOpener, runIds: readonly string[], { now = new Date(), extraFiles }: BundleOptions, writer: BundleArchiveWriter): Promise<BundleManifest> {
  const add = (file: BundleFile): void => writer.add(file);
  if (runIds.length === 0) throw new CnlabError('usage', 'name at least one run to bundle (see `cnlab runs list`)');
  const manifest: BundleManifest = { bundleFormat: BUNDLE_FORMAT, cnlabVersion: CNLAB_VERSION, createdAt: now.toISOString(), runs: [] };
  const csvRows: (string | number)[][] = [];
  const bundledRuns: BundledRun[] = [];
  const bundled = new Set<string>();
  const open = await folderOpener(store);
  // Several runs are read at once, but taken in the order given: a failure names the first run that failed.
  const reads = new Map<number, Promise<ReadRun>>();
  const start = (index: number): void => {
    if (index >= runIds.length) return;
    const read = readRun(open(runIds[index] ?? ''));
    read.catch(() => undefined);
    reads.set(index, read);
  };
  for (let index = 0; index < READ_AHEAD; index++) start(index);
  for (let index = 0; index < runIds.length; index++) {
    const { folder, details, deployed, entry } = await (reads.get(index) as Promise<ReadRun>);
    const { record } = details;
    reads.delete(index);
    start(index + READ_AHEAD);
    bundledRuns.push({ folder, details, deployed });
    if (bundled.has(record.runId)) {
      throw new CnlabError('invalid-input', `run ${record.runId} is chosen twice (or comes from two bundles): a bundle holds each run once: choose it once`);
    }
    bundled.add(record.runId);
    manifest.runs.push({ runId: record.runId, name: record.experiment.name, state: record.state, createdAt: record.createdAt, experimentFingerprint: record.fingerprint, hostMap: record.hostMap, hostFacts: record.hostFacts, toolVersions: Object.fromEntries(Object.entries(record.hostFacts).map(([host, facts]) => [host, { ...facts.tools }])), topologies: record.topologies, deployed });
    await addRunFolder(writer, entry);
    for (const cell of details.cells) {
      for (const [metric, summary] of Object.entries(cell.metrics)) {
        csvRows.push([record.runId, cell.cellId, cell.caseLabel, JSON.stringify(cell.axisValues), metric, summary.n, summary.mean, summary.median, summary.ci95?.low ?? '', summary.ci95?.high ?? '', summary.noisy ? 'yes' : 'no']);
      }
    }
  }
  add({ path: 'manifest.json', content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
  add({ path: 'results.csv', content: Buffer.from(resultsCsv(csvRows)) });
  if (extraFiles) for (const file of await extraFiles(bundledRuns)) add(file);
  return manifest;
}

/** Writes the bundle as its files are read: compression runs on the thread pool meanwhile (bundle-archive.ts). */
export async function exportRunBundle(store: RunOpener, runIds: readonly string[], outFile: string, options: BundleOptions = {}): Promise<BundleManifest> {
  const writer = await BundleArchiveWriter.open(outFile);
  let manifest: BundleManifest;
  try {
    manifest = await collectInto(store, runIds, options, writer);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.finish();
  return manifest;
}
