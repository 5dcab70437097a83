// Work on hosts that a cnlab process of this workspace has started and not yet finished: an apply, a
// teardown, an experiment run. Each writes a marker in <workspace>/pending/ before it touches a host and
// removes it when it has ended (done, failed or cancelled: in every such case the hosts were cleaned or
// the user was told). A marker whose process is gone therefore means a kill -9, a crash or a power loss
// mid-work, and names what may be left on which hosts: the next start tells the user, `cnlab sweep`
// clears it. Temp files of atomic writes that such a process left are found here too.
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';

export const PENDING_DIR = 'pending';

export type PendingKind = 'apply' | 'teardown' | 'run';

export interface PendingWork {
  kind: PendingKind;
  /** The lab (apply, teardown) or the run id (run). */
  id: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for it. */
  startTicks: number | null;
  startedAt: string;
  /** The hosts the work runs on. */
  hosts: string[];
  /** Labs the work may leave on those hosts: the lab itself, or a run's case labs. */
  labs: string[];
}

/** The marker's file: kind, id and pid make it unique (two processes may work on one lab). */
export function pendingFileName(work: Pick<PendingWork, 'kind' | 'id' | 'pid'>): string {
  return `${work.kind}-${work.id}-${work.pid}.json`;
}

/** When a process started, in clock ticks since boot (Linux /proc), else null: with its pid, it names one process. */
export function processStartTicks(pid: number): number | null {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** Linux counts process start times in USER_HZ ticks, 100 a second on every architecture it runs cnlab on. */
const TICKS_PER_SECOND = 100;

/** When a process started, in ms since the epoch (to about a second: boot time is kept in seconds), else null. */
function processStartedAtMs(pid: number): number | null {
  const ticks = processStartTicks(pid);
  if (ticks === null) return null;
  try {
    const boot = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return boot ? Number(boot[1]) * 1000 + (ticks * 1000) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** True while the process that wrote a marker (or a temp file) still runs. */
export function processRuns(pid: number, startTicks: number | null = null): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Alive: the same process unless /proc says it started at another time (its pid was reused).
  if (startTicks === null) return true;
  const now = processStartTicks(pid);
  return now === null || now === startTicks;
}

export interface PendingHandle {
  /**
   * The work has ended and the user was told how: the marker goes, and with `settled` so do markers of dead
   * processes for the same work (a later apply or teardown of a lab, or a resumed run, covers them).
   */
  end(options?: { settled?: boolean }): Promise<void>;
}

/** Writes the marker of work this process is about to start on hosts. */
export async function beginPendingWork(workspaceDir: string, work: Pick<PendingWork, 'kind' | 'id' | 'hosts' | 'labs'>): Promise<PendingHandle> {
  const marker: PendingWork = { ...work, pid: process.pid, startTicks: processStartTicks(process.pid), startedAt: new Date().toISOString() };
  const dir = join(workspaceDir, PENDING_DIR);
  const file = join(dir, pendingFileName(marker));
  // Another process may remove the folder when its own last marker goes: write again then.
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFileAtomic(file, `${JSON.stringify(marker, null, 2)}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
    }
  }
  return {
    async end(options = {}) {
      await rm(file, { force: true });
      if (options.settled) {
        // A lab applied or torn down to the end supersedes an interrupted apply or teardown of it.
        const covers = (stale: PendingWork): boolean => stale.id === marker.id && (stale.kind === marker.kind || (stale.kind !== 'run' && marker.kind !== 'run'));
        for (const stale of (await orphanedWork(workspaceDir)).filter(covers)) await clearPendingWork(workspaceDir, stale);
      }
      await rmdir(dir).catch(() => undefined);
    },
  };
}

function parseMarker(text: string): PendingWork | null {
  try {
    const value = JSON.parse(text) as Partial<PendingWork>;
    const strings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
    if ((value.kind !== 'apply' && value.kind !== 'teardown' && value.kind !== 'run') || typeof value.id !== 'string' || typeof value.pid !== 'number' || !strings(value.hosts) || !strings(value.labs)) return null;
    return { kind: value.kind, id: value.id, pid: value.pid, startTicks: typeof value.startTicks === 'number' ? value.startTicks : null, startedAt: typeof value.startedAt === 'string' ? value.startedAt : '', hosts: value.hosts, labs: value.labs };
  } catch {
    return null;
  }
}

/** Every marker whose process is gone, oldest first. A marker torn by a kill mid-write never got its name, so every named one is whole. */
export async function orphanedWork(workspaceDir: string): Promise<PendingWork[]> {
  const dir = join(workspaceDir, PENDING_DIR);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  const markers = await Promise.all(names.map(async (name) => parseMarker(await readFile(join(dir, name), 'utf8').catch(() => ''))));
  return markers
    .filter((marker): marker is PendingWork => marker !== null && !processRuns(marker.pid, marker.startTicks))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export async function clearPendingWork(workspaceDir: string, work: Pick<PendingWork, 'kind' | 'id' | 'pid'>): Promise<void> {
  await rm(join(workspaceDir, PENDING_DIR, pendingFileName(work)), { force: true });
  await rmdir(join(workspaceDir, PENDING_DIR)).catch(() => undefined);
}

/** How fs/atomic-write.ts (and the other atomic writers) name their temp files: `.<name>.<pid>.<8 hex>.tmp`. */
const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** The workspace's folders that atomic writes go to, besides run folders (given by the caller: one per run to look at). */
const WRITTEN_FOLDERS = ['', 'labs', 'topologies', 'experiments', 'runs', 'cache', PENDING_DIR];

/**
 * Temp files a process that is gone left in the workspace (paths relative to it): a write killed before its
 * rename. No load reads them; they only take space. `runIds`: run folders to look in as well.
 */
export async function orphanedTempFiles(workspaceDir: string, runIds: readonly string[] = []): Promise<string[]> {
  const folders = [...WRITTEN_FOLDERS, ...runIds.flatMap((runId) => [join('runs', runId), join('runs', runId, 'deployed')])];
  const found: string[] = [];
  for (const folder of folders) {
    for (const name of await readdir(join(workspaceDir, folder)).catch(() => [] as string[])) {
      const match = TEMP_FILE.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      if (!processRuns(pid)) found.push(join(folder, name));
      else {
        // A process that started after the file was written got the writer's pid later (a second of slack:
        // boot time is known to the second).
        const written = await stat(join(workspaceDir, folder, name)).then((info) => info.mtimeMs, () => null);
        const started = processStartedAtMs(pid);
        if (written !== null && started !== null && started > written + 1000) found.push(join(folder, name));
      }
    }
  }
  return found;
}
