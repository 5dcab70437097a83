// Where imported bundles live in a workspace: imports/<bundle name>/ (then -2, -3… : an import never
// replaces anything), each extracted only after every entry and checksum passed (bundle-archive.ts).
// The runs inside are opened read-only: cnlab never resumes or rewrites them.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CnlabError } from '../errors';
import { RunStore } from '../experiment/run-store';
import { readBundleArchive, writeBundleFiles } from './bundle-archive';

export const IMPORTS_DIR = 'imports';
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function importFolder(workspaceDir: string, file: string, attempt: number): string {
  const name = basename(file).replace(/\.tar\.gz$|\.tgz$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'bundle';
  return join(workspaceDir, IMPORTS_DIR, attempt === 0 ? name : `${name}-${attempt + 1}`);
}

/**
 * Verifies a bundle once (or takes the files a caller already read with readBundleArchive) and writes them
 * into the first free imports/ folder.
 */
export async function importBundle(workspaceDir: string, file: string, verified?: ReadonlyMap<string, Buffer>): Promise<{ target: string; bundle: string; written: string[] }> {
  const files = verified ?? (await readBundleArchive(file));
  for (let attempt = 0; attempt < 100; attempt++) {
    const target = importFolder(workspaceDir, file, attempt);
    try {
      return { target, bundle: basename(target), written: await writeBundleFiles(file, files, target) };
    } catch (error) {
      if (!(error instanceof CnlabError && /already exists/.test(error.message))) throw error;
    }
  }
  throw new CnlabError('io', `${join(workspaceDir, IMPORTS_DIR)} holds 100 imports of ${basename(file)}: remove some`);
}

/** The imported bundles of a workspace (folder names), sorted. */
export async function listImportedBundles(workspaceDir: string): Promise<string[]> {
  const entries = await readdir(join(workspaceDir, IMPORTS_DIR), { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && SAFE_NAME.test(entry.name)).map((entry) => entry.name).sort();
}

/** The run store of one imported bundle; the name must be one listImportedBundles returns. */
export function importedRunStore(workspaceDir: string, bundle: string): RunStore {
  if (!SAFE_NAME.test(bundle)) throw new CnlabError('invalid-input', `${JSON.stringify(bundle)} is not an imported bundle's name (see the Results view or imports/)`);
  return new RunStore(join(workspaceDir, IMPORTS_DIR, bundle));
}
