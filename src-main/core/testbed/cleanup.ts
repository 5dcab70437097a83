// Tearing a testbed down from its state.json, proving nothing is left, and sweeping runs that crashed.
// Only objects named with a run's own prefix are touched, and never those of a run whose owner is still alive.
import { rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findCgroupDirs, removeCgroupDirs, removeCgroupsNamed } from './cgroups.ts';
import { killHost, killProcesses } from './hostproc.ts';
import { deleteNetns, deleteRootLink, listNetns, listRootLinks, pidsInNetns, releaseClaim, sweepOrphanClaims } from './network.ts';
import {
  BASE_DIR,
  isSameProcess,
  listRunDirs,
  NAME_PATTERN,
  procRef,
  readState,
  recordedPids,
  type ProcRef,
  type TestbedState,
} from './state.ts';

/** A run directory younger than this may be a run that has not written its state.json yet. */
const UNSTATED_DIR_GRACE_MS = 60_000;

function namespacesOf(state: TestbedState): string[] {
  return [state.switchNetns, ...state.hosts.map((host) => host.netns)];
}

/** Processes that entered the lab's namespaces by other means (e.g. `ip netns exec` from a test). */
async function straysIn(namespaces: string[]): Promise<ProcRef[]> {
  const pids = (await Promise.all(namespaces.map(pidsInNetns))).flat();
  return pids.map(procRef).filter((ref): ref is ProcRef => ref !== undefined);
}

export async function teardownFromState(state: TestbedState): Promise<void> {
  const namespaces = namespacesOf(state);
  const recorded = recordedPids(state);
  await Promise.all(state.hosts.map((host) => killHost(host.pid1, host.unshare, `testbed ${state.id}`)));
  // Daemons die with their host's PID 1; this only matters if one escaped the host's pid namespace.
  await killProcesses(state.hosts.flatMap((host) => host.daemons ?? []), `testbed ${state.id}`);
  const strays = await straysIn(namespaces);
  await killProcesses(strays, `testbed ${state.id}`);
  // Containers of a host's dockerd died with the host, but their cgroup directories outlive it.
  await removeCgroupsNamed(isRunObject(state.prefix));
  await deleteRootLink(state.runnerLink);
  await deleteNetns(namespaces);
  releaseClaim(state.subnetClaim, state.id);
  rmSync(state.dir, { recursive: true, force: true });
  await assertNothingLeft(state.prefix, [...recorded, ...strays], state.dir);
}

function isRunObject(prefix: string): (name: string) => boolean {
  return (name) => name.startsWith(`${prefix}-`);
}

/** Throws, listing what survived, if any namespace, root-namespace link, cgroup, process or file of the run remains. */
export async function assertNothingLeft(prefix: string, processes: readonly ProcRef[], dir: string): Promise<void> {
  const left: string[] = [];
  const namespaces = (await listNetns()).filter(isRunObject(prefix));
  left.push(...namespaces.map((name) => `netns ${name}`));
  const links = (await listRootLinks()).filter((name) => name.startsWith(prefix));
  left.push(...links.map((name) => `link ${name}`));
  left.push(...findCgroupDirs(isRunObject(prefix)).map((path) => `cgroup ${path}`));
  left.push(...processes.filter((ref) => isSameProcess(ref)).map((ref) => `pid ${ref.pid}`));
  if (existsPath(dir)) left.push(`dir ${dir}`);
  if (left.length > 0) throw new Error(`testbed ${prefix}: teardown left ${left.join(', ')}`);
}

function existsPath(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function isStale(state: TestbedState, includeDetached: boolean): boolean {
  if (state.detached) return includeDetached;
  return !isSameProcess(state.owner);
}

/** Run directories: tears down those whose owner is gone (detached ones only when asked, i.e. by `down`). */
async function sweepRunDirs(includeDetached: boolean, failures: string[]): Promise<string[]> {
  const swept: string[] = [];
  for (const dir of listRunDirs()) {
    const state = readState(dir);
    if (!state) {
      // No state.json means no kernel objects were made yet; only an old one is a crash leftover.
      // (The directory may also have just been removed by its owner's teardown.)
      if (Date.now() - modifiedAt(dir) > UNSTATED_DIR_GRACE_MS) {
        rmSync(dir, { recursive: true, force: true });
        swept.push(basename(dir));
      }
      continue;
    }
    if (!isStale(state, includeDetached)) continue;
    try {
      await teardownFromState(state);
      swept.push(state.id);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  return swept;
}

/** Namespaces, runner links and cgroups named like a testbed whose run directory no longer exists. */
async function sweepOrphanObjects(failures: string[]): Promise<string[]> {
  const orphanIds = new Set<string>();
  const namespaces = (await listNetns()).filter((name) => isOrphanName(name, orphanIds));
  const links = (await listRootLinks()).filter((name) => isOrphanName(name, orphanIds));
  const cgroups = findCgroupDirs((name) => isOrphanName(name, orphanIds));
  if (namespaces.length === 0 && links.length === 0 && cgroups.length === 0) return [];
  await killProcesses(await straysIn(namespaces), 'orphaned testbed namespaces');
  for (const link of links) await deleteRootLink(link);
  await deleteNetns(namespaces);
  // Once the namespaces are gone an orphan cgroup is empty; one still holding tasks is reported, not killed.
  const busy = await removeCgroupDirs(cgroups);
  if (busy.length > 0) failures.push(`orphaned testbed cgroups still hold tasks: ${busy.join(', ')}`);
  return [...orphanIds];
}

function isOrphanName(name: string, orphanIds: Set<string>): boolean {
  const id = NAME_PATTERN.exec(name)?.[1];
  if (!id || existsPath(join(BASE_DIR, id))) return false;
  orphanIds.add(id);
  return true;
}

export interface SweepOptions {
  /** Also tear down testbeds left running on purpose by `cli.ts up`. */
  includeDetached?: boolean;
}

/** Cleans testbeds of crashed runs; returns their ids. Throws after trying everything if some cleanup failed. */
export async function sweep(options: SweepOptions = {}): Promise<string[]> {
  const failures: string[] = [];
  const swept = await sweepRunDirs(options.includeDetached ?? false, failures);
  for (const id of await sweepOrphanObjects(failures)) if (!swept.includes(id)) swept.push(id);
  sweepOrphanClaims();
  if (failures.length > 0) throw new Error(`testbed sweep failed: ${failures.join('; ')}`);
  return swept;
}

/** Tears down the given runs, refusing one whose owner is alive and which was not started detached. */
export async function teardownRuns(ids: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  for (const id of ids) {
    const state = /^tb[0-9a-f]{4}$/.test(id) ? readState(join(BASE_DIR, id)) : undefined;
    if (!state) throw new Error(`testbed: no testbed ${id} under ${BASE_DIR}`);
    if (!state.detached && isSameProcess(state.owner)) {
      throw new Error(`testbed ${id} belongs to running process ${state.owner.pid}; it tears it down itself`);
    }
    await teardownFromState(state);
    done.push(id);
  }
  return done;
}
