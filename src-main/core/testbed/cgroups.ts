// Cgroup directories that a host's private dockerd creates in the machine's real cgroup hierarchies.
// A host's processes die with its pid namespace, but a cgroup directory is no process: it stays until someone
// rmdirs it. Only directories named like a testbed object (cnl<id>-…) are ever removed, and nothing is killed here.
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './exec.ts';

export const CGROUP_ROOT = '/sys/fs/cgroup';
/** Deep enough for <hierarchy>/<the caller's own cgroup, e.g. a/b/c>/<ours>/<container>. */
const MAX_DEPTH = 8;
/** A task that just exited can keep its cgroup busy for a moment. */
const RMDIR_RETRY_MS = 2_000;

/**
 * The cgroup-parent of one private dockerd of a host, named like every other kernel object of the run; `unique`
 * tells daemons of the same host apart, so a stale handle after a host restart never touches the new daemon's.
 */
export function hostCgroupName(prefix: string, host: string, unique: string): string {
  return `${prefix}-${host}-docker-${unique}`;
}

function subdirectories(dir: string): string[] {
  try {
    // Dirent.isDirectory() is false for symlinks (e.g. cpu -> cpu,cpuacct), so no hierarchy is walked twice.
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

/**
 * Directories anywhere in the cgroup hierarchies whose own name matches (not their subdirectories). A relative
 * cgroup-parent lands under the cgroup of whoever started dockerd, which differs per hierarchy, hence the walk.
 */
export function findCgroupDirs(matches: (name: string) => boolean, root = CGROUP_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const name of subdirectories(dir)) {
      const path = join(dir, name);
      if (matches(name)) found.push(path);
      else if (depth < MAX_DEPTH) walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

/** Root-namespace pids of the processes in these cgroups or below them. */
export function tasksIn(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  const collect = (dir: string): void => {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
    } catch {
      // Gone meanwhile.
    }
    for (const name of subdirectories(dir)) collect(join(dir, name));
  };
  for (const dir of dirs) collect(dir);
  return [...pids];
}

function removeTree(dir: string): boolean {
  for (const name of subdirectories(dir)) if (!removeTree(join(dir, name))) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** rmdirs each tree depth-first, retrying briefly; returns the directories that could not be removed. */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + RMDIR_RETRY_MS;
  let left = [...dirs];
  while (left.length > 0) {
    left = left.filter((dir) => !removeTree(dir));
    if (left.length === 0 || Date.now() > deadline) break;
    await sleep(50);
  }
  return left;
}

/** Finds and removes the cgroups whose name matches; returns those left (they still hold tasks). */
export function removeCgroupsNamed(matches: (name: string) => boolean): Promise<string[]> {
  return removeCgroupDirs(findCgroupDirs(matches));
}
