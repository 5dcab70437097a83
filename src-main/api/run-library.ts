// The runs the Results view reads: the workspace's own (runs/) and every imported bundle's
// (imports/<bundle>/runs/), named by one id each: a run id, or imports/<bundle>/<run id>. Imported runs are
// read-only: listed, shown, compared, exported and reported, never resumed.
import { importedRunStore, listImportedBundles } from '../core/bundle/bundle-import';
import { CnlabError } from '../core/errors';
import { listRunsIn } from '../core/experiment/experiment-service';
import { RunStore, type RunFolder } from '../core/experiment/run-store';
import type { ImportedRunSource, RunListingView } from '../contract/lab-api';

const IMPORTED_REF = /^imports\/([^/]+)\/([^/]+)$/;

export const importedRunRef = (bundle: string, runId: string): string => `imports/${bundle}/${runId}`;

export interface LibraryRun {
  folder: RunFolder;
  /** The id the page uses (imports/<bundle>/<run> for imported runs). */
  ref: string;
  imported: ImportedRunSource | null;
}

export class RunLibrary {
  private readonly own: RunStore;

  constructor(private readonly workspaceDir: string) {
    this.own = new RunStore(workspaceDir);
  }

  /** Own runs, then each imported bundle's, each oldest first. */
  async list(): Promise<RunListingView[]> {
    const own = await listRunsIn(this.own);
    const bundles = await listImportedBundles(this.workspaceDir);
    const imported = await Promise.all(bundles.map((bundle) => this.listBundle(bundle)));
    return [...own, ...imported.flat()];
  }

  async listBundle(bundle: string): Promise<RunListingView[]> {
    const listings = await listRunsIn(importedRunStore(this.workspaceDir, bundle));
    return listings.map((listing) => ({ ...listing, runId: importedRunRef(bundle, listing.runId), imported: { bundle } }));
  }

  async open(ref: string): Promise<LibraryRun> {
    const match = IMPORTED_REF.exec(ref);
    if (!match) {
      const folder = await this.own.open(ref);
      return { folder, ref: folder.runId, imported: null };
    }
    const [, bundle = '', runId = ''] = match;
    if (!(await listImportedBundles(this.workspaceDir)).includes(bundle)) {
      throw new CnlabError('not-found', `no imported bundle ${bundle} in this workspace: import it first (Results → Import bundle, or \`cnlab bundle import FILE\`)`);
    }
    const folder = await importedRunStore(this.workspaceDir, bundle).open(runId);
    return { folder, ref: importedRunRef(bundle, folder.runId), imported: { bundle } };
  }
}
