// The Results requests of the LabApi: the runs list (own and imported), a run's statistics, run-vs-run
// comparisons (across bundles too), and bundles in and out: import (verified, read-only), export with
// report.html and chart SVGs, and a report alone. Aggregation happens here, never in the page.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { importBundle } from '../core/bundle/bundle-import';
import { exportRunBundle, type RunOpener } from '../core/bundle/run-bundle';
import { CnlabError } from '../core/errors';
import { compareRunFolders, readRunDetails } from '../core/experiment/experiment-service';
import { writeFileAtomic } from '../core/fs/atomic-write';
import type { BundleExportView, BundleImportView, RunComparisonView, RunListingView, RunView } from '../contract/lab-api';
import { bundlePresentationFiles, writeReportHtml } from './report-runs';
import { RunLibrary, type LibraryRun } from './run-library';
import { runViewWithStudy } from './run-view';
import type { WorkspaceSession } from './workspace-session';

/** The console writes new files only: a path typed into a dialog never replaces what is there. */
async function newFile(file: string): Promise<string> {
  const out = resolve(file);
  if (await stat(out).then(() => true, () => false)) throw new CnlabError('invalid-input', `${out} already exists: choose another file name (the console never replaces a file)`);
  return out;
}

export class ResultsArea {
  constructor(private readonly session: () => WorkspaceSession) {}

  private library(): RunLibrary {
    return new RunLibrary(this.session().dir);
  }

  list(): Promise<RunListingView[]> {
    return this.library().list();
  }

  async get(ref: string): Promise<RunView> {
    const run = await this.library().open(ref);
    const view = await runViewWithStudy(await readRunDetails(run.folder));
    return { ...view, runId: run.ref, ...(run.imported ? { imported: run.imported } : {}) };
  }

  async compare(refA: string, refB: string): Promise<RunComparisonView> {
    const library = this.library();
    const [a, b] = await Promise.all([library.open(refA), library.open(refB)]);
    const { a: recordA, b: recordB, rows } = await compareRunFolders(a.folder, b.folder);
    const heading = (run: LibraryRun, record: typeof recordA) => ({ runId: run.ref, name: record.experiment.name, createdAt: record.createdAt });
    return { a: heading(a, recordA), b: heading(b, recordB), rows };
  }

  async importBundle(file: string): Promise<BundleImportView> {
    const { target, bundle, written } = await importBundle(this.session().dir, resolve(file));
    return { bundle, folder: target, files: written.length, runs: await this.library().listBundle(bundle) };
  }

  private opener(): RunOpener {
    const library = this.library();
    return { open: async (ref) => (await library.open(ref)).folder };
  }

  async exportBundle(refs: readonly string[], file: string): Promise<BundleExportView> {
    const out = await newFile(file);
    const manifest = await exportRunBundle(this.opener(), refs, out, { extraFiles: (runs) => bundlePresentationFiles(runs) });
    return { file: out, runs: manifest.runs.length, bytes: (await stat(out)).size };
  }

  async writeReport(refs: readonly string[], file: string): Promise<{ file: string }> {
    const out = await newFile(file);
    const opener = this.opener();
    await writeFileAtomic(out, await writeReportHtml(await Promise.all(refs.map((ref) => opener.open(ref)))));
    return { file: out };
  }
}
