// Testbed state on disk (state.json) and process identity checks.
// state.json is written before any kernel object exists, so a crashed run can always be found and cleaned.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BASE_DIR = '/tmp/cnlab-testbed';
/** Every kernel object of a run is named `cnl<id>…`; ids are `tb` + 4 hex digits. */
export const NAME_PATTERN = /^cnl(tb[0-9a-f]{4})-/;

/** A pid plus its start time: pids are reused, so a bare pid is never enough to decide to kill. */
export interface ProcRef {
  pid: number;
  startTime: string;
}

export interface HostState {
  name: string;
  address: string;
  netns: string;
  /** The veth end inside the switch namespace. */
  switchPort: string;
  unshare?: ProcRef;
  pid1?: ProcRef;
  /** Long-lived processes started inside the host (e.g. a private dockerd); they die with its PID 1. */
  daemons?: ProcRef[];
}

export interface TestbedState {
  version: 1;
  id: string;
  prefix: string;
  dir: string;
  owner: ProcRef;
  /** Started by `cli.ts up`: the owner exits on purpose, so sweeps leave it alone until `down`. */
  detached: boolean;
  createdAt: string;
  subnet?: string;
  runnerAddress?: string;
  runnerLink: string;
  switchNetns: string;
  subnetClaim?: string;
  hosts: HostState[];
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

/** Atomic write: a concurrent sweep must never read half a file. */
export function writeState(state: TestbedState): void {
  const path = statePath(state.dir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, path);
}

export function readState(dir: string): TestbedState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as TestbedState;
  } catch {
    return undefined;
  }
}

/** Run directories under BASE_DIR (with or without a readable state.json). */
export function listRunDirs(): string[] {
  if (!existsSync(BASE_DIR)) return [];
  return readdirSync(BASE_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^tb[0-9a-f]{4}$/.test(entry.name))
    .map((entry) => join(BASE_DIR, entry.name));
}

interface ProcStat {
  state: string;
  startTime: string;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const startTime = fields[19];
    return state && startTime ? { state, startTime } : undefined;
  } catch {
    return undefined;
  }
}

export function procRef(pid: number): ProcRef | undefined {
  const stat = readProcStat(pid);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

/** Running (not a zombie): a zombie holds no namespace and no socket any more. */
export function isAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** The very process recorded earlier, still running. */
export function isSameProcess(ref: ProcRef | undefined): ref is ProcRef {
  if (!ref) return false;
  const stat = readProcStat(ref.pid);
  return stat !== undefined && stat.startTime === ref.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function recordedPids(state: TestbedState): ProcRef[] {
  return state.hosts.flatMap((host) =>
    [host.pid1, host.unshare, ...(host.daemons ?? [])].filter((ref): ref is ProcRef => ref !== undefined),
  );
}
