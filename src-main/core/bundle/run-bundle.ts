// What goes into a result bundle for some runs of a workspace: every file of each run folder as written
// (record, samples, commands log, raw tool outputs), a manifest that describes the bundle without
// opening the runs (format version, cnlab version, the experiments' fingerprints, host facts, the
// topology as deployed), and results.csv with each cell's statistics. The report and the charts are made
// by the caller (extraFiles): they need the presentation layer, which core does not know.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CnlabError } from '../errors';
import { summarizeCells } from '../experiment/cell-summary';
import type { RunFolder, RunStore } from '../experiment/run-store';
import { CNLAB_VERSION } from '../version';
import { writeBundleArchive, type BundleFile } from './bundle-archive';

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

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

const csvField = (value: string | number): string => (typeof value === 'number' ? String(value) : /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** One line per run, cell and metric: the numbers a spreadsheet or a paper's table starts from. */
function resultsCsv(rows: (string | number)[][]): string {
  const header = ['runId', 'cellId', 'case', 'axes', 'metric', 'n', 'mean', 'median', 'ci95Low', 'ci95High', 'noisy'];
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n').concat('\n');
}

export interface BundleOptions {
  now?: Date;
  /** More files made from the bundled run folders (report.html, charts/); paths must not clash. */
  extraFiles?: (folders: readonly RunFolder[]) => Promise<BundleFile[]>;
}

/** The bundle's files for `runIds` (each must be a run of `store`), and the manifest among them. */
export async function collectRunBundle(store: RunStore, runIds: readonly string[], { now = new Date(), extraFiles }: BundleOptions = {}): Promise<{ files: BundleFile[]; manifest: BundleManifest }> {
  if (runIds.length === 0) throw new CnlabError('usage', 'name at least one run to bundle (see `cnlab runs list`)');
  const files: BundleFile[] = [];
  const manifest: BundleManifest = { bundleFormat: BUNDLE_FORMAT, cnlabVersion: CNLAB_VERSION, createdAt: now.toISOString(), runs: [] };
  const csvRows: (string | number)[][] = [];
  const folders: RunFolder[] = [];
  for (const requested of runIds) {
    const folder = await store.open(requested);
    folders.push(folder);
    const record = await folder.readRecord();
    const lines = await folder.readSamples();
    manifest.runs.push({ runId: record.runId, name: record.experiment.name, state: record.state, createdAt: record.createdAt, experimentFingerprint: record.fingerprint, hostMap: record.hostMap, hostFacts: record.hostFacts, toolVersions: Object.fromEntries(Object.entries(record.hostFacts).map(([host, facts]) => [host, { ...facts.tools }])), topologies: record.topologies, deployed: await folder.readDeployed() });
    for (const path of await filesUnder(folder.dir)) files.push({ path: `runs/${record.runId}/${path}`, content: await readFile(join(folder.dir, ...path.split('/'))) });
    for (const cell of summarizeCells(record, lines)) {
      for (const [metric, summary] of Object.entries(cell.metrics)) {
        csvRows.push([record.runId, cell.cellId, cell.caseLabel, JSON.stringify(cell.axisValues), metric, summary.n, summary.mean, summary.median, summary.ci95?.low ?? '', summary.ci95?.high ?? '', summary.noisy ? 'yes' : 'no']);
      }
    }
  }
  files.push({ path: 'manifest.json', content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
  files.push({ path: 'results.csv', content: Buffer.from(resultsCsv(csvRows)) });
  if (extraFiles) files.push(...(await extraFiles(folders)));
  return { files, manifest };
}

export async function exportRunBundle(store: RunStore, runIds: readonly string[], outFile: string, options: BundleOptions = {}): Promise<BundleManifest> {
  const { files, manifest } = await collectRunBundle(store, runIds, options);
  await writeBundleArchive(outFile, files);
  return manifest;
}
