// "Save As" of a workspace: a copy in a new or empty folder with its file, topologies, experiments, runs
// and imports. Not labs/ nor pending/ (the labs on the hosts, and what a killed process left there, stay the
// original's to tear down: two workspaces must not both think they own one) nor cache/ (facts are probed
// again), nor temp files of an interrupted write.
import { cp, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { CnlabError } from '../errors';

const LEFT_BEHIND = ['labs', 'pending', 'cache'];

export async function copyWorkspace(source: string, target: string): Promise<string> {
  const from = resolve(source);
  const dir = resolve(target);
  if (dir === from || dir.startsWith(`${from}${sep}`)) throw new CnlabError('invalid-input', `${dir} is this workspace or inside it: choose a folder outside ${from}`);
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new CnlabError('io', `cannot use ${dir}: ${error.message}`);
  });
  if (existing.length > 0) throw new CnlabError('invalid-input', `${dir} is not empty: choose a new or empty folder for the copy`);
  const skipped = new Set(LEFT_BEHIND.map((name) => join(from, name)));
  await cp(from, dir, { recursive: true, errorOnExist: true, force: false, filter: (path) => !skipped.has(path) && !/\/\.[^/]*\.tmp$/.test(path) });
  return dir;
}
