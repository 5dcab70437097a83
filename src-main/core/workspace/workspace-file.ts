// Reading and writing <workspace>/workspace.yaml. A file in an older format is upgraded when it is loaded:
// its original bytes are first kept beside it as workspace.v<old>.yaml.bak (never overwriting a backup),
// then the upgraded file replaces it atomically, so a kill at any moment loses neither.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { yamlNestingProblem, yamlProblem } from '../yaml-data';
import { freshWorkspaceText, upgradeWorkspaceDocument, validateWorkspace, WORKSPACE_FORMAT_VERSION, type Workspace } from './workspace-format';

export const WORKSPACE_FILE = 'workspace.yaml';

export interface LoadedWorkspace {
  /** The file as a yaml Document (comments and unknown keys kept), in the current format. */
  document: Document;
  /** The validated content of `document`. */
  workspace: Workspace;
  /** The format version the file had when cnlab upgraded it on this load, else null. */
  upgradedFrom: number | null;
  /** Where the original file was kept when it was upgraded, else null. */
  backupFile: string | null;
}

/** Loads workspace.yaml (a fresh document when there is none, not written until saved), upgrading it if old. */
export async function loadWorkspaceDocument(workspaceDir: string): Promise<LoadedWorkspace> {
  const file = join(workspaceDir, WORKSPACE_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CnlabError('io', `cannot read ${file}: ${(error as Error).message}`);
    }
    const document = parseDocument(freshWorkspaceText());
    return { document, workspace: validateWorkspace(document, file), upgradedFrom: null, backupFile: null };
  }
  const text = bytes.toString('utf8');
  const deep = yamlNestingProblem(text);
  if (deep) throw new CnlabError('invalid-input', `${file} is not valid YAML: ${deep}: fix or restore the file`);
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new CnlabError('invalid-input', `${file} is not valid YAML: ${yamlProblem(document.errors[0]?.message ?? '')}: fix or restore the file`);
  }
  // An alias that points nowhere (or expands past the library's limit) throws from toJS, not into errors.
  try {
    document.toJS();
  } catch (error) {
    throw new CnlabError('invalid-input', `${file} is not valid YAML: ${yamlProblem((error as Error).message)}: fix or restore the file`);
  }
  const { upgradedFrom, workspace } = upgradeWorkspaceDocument(document, file);
  if (upgradedFrom === null) return { document, workspace, upgradedFrom, backupFile: null };
  const backupFile = await keepBackup(workspaceDir, upgradedFrom, bytes);
  await writeFileAtomic(file, document.toString());
  return { document, workspace, upgradedFrom, backupFile };
}

/** Validates the document in the current format and replaces workspace.yaml with it atomically. */
export async function saveWorkspaceDocument(workspaceDir: string, document: Document): Promise<void> {
  const file = join(workspaceDir, WORKSPACE_FILE);
  if (!document.has('formatVersion')) document.set('formatVersion', WORKSPACE_FORMAT_VERSION);
  validateWorkspace(document, file);
  await writeFileAtomic(file, document.toString());
}

/**
 * Writes `bytes` to the first free name of workspace.v<N>.yaml.bak, workspace.v<N>.1.yaml.bak, … and returns it.
 * A backup that already holds exactly these bytes (an upgrade killed before its write) is reused.
 */
async function keepBackup(workspaceDir: string, version: number, bytes: Buffer): Promise<string> {
  await mkdir(workspaceDir, { recursive: true });
  for (let index = 0; index < 1000; index++) {
    const name = index === 0 ? `workspace.v${version}.yaml.bak` : `workspace.v${version}.${index}.yaml.bak`;
    const path = join(workspaceDir, name);
    const existing = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw new CnlabError('io', `cannot read ${path}: ${error.message}`);
    });
    if (existing?.equals(bytes)) return path;
    if (existing) continue;
    if (await writeFileExclusive(path, bytes)) return path;
  }
  throw new CnlabError('io', `${workspaceDir} has 1000 backups of workspace.yaml version ${version}: move some away`);
}

/**
 * Creates `path` with `bytes`, all or nothing, failing (false) when it exists: a synced temp file is hard-linked
 * to the name, which never replaces a file. Where hard links are not supported, the file is created exclusively.
 */
async function writeFileExclusive(path: string, bytes: Buffer): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeSynced(temp, bytes, 'wx');
    await link(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') {
      throw new CnlabError('io', `cannot write ${path}: ${(error as Error).message}`);
    }
    try {
      await writeSynced(path, bytes, 'wx');
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new CnlabError('io', `cannot write ${path}: ${(fallbackError as Error).message}`);
    }
  } finally {
    await rm(temp, { force: true });
  }
  await syncFolder(dirname(path));
  return true;
}

async function writeSynced(path: string, bytes: Buffer, flags: string): Promise<void> {
  const handle = await open(path, flags, 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
