// Starting and killing one emulated host: `unshare` gives it private mounts, hostname and pids; sshd is its PID 1.
// Killing PID 1 (seen from the root namespace) takes every process of the host with it.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { TEST_USERS } from './accounts.ts';
import { shellQuote, sleep } from './exec.ts';
import { isAlive, isSameProcess, procRef, type ProcRef } from './state.ts';

export interface HostLaunch {
  name: string;
  address: string;
  port: number;
  netns: string;
  /** The run directory (holds etc/ and the keys); visible at the same path inside the host. */
  runDir: string;
  hostDir: string;
  sshdConfig: string;
}

const PRIVATE_ETC_FILES = ['passwd', 'shadow', 'group', 'sudoers', 'hosts'];
const START_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 5_000;
const UNSHARE_GRACE_MS = 1_000;

/** The host's init script: private /run, /root, /tmp, /var/log and /etc account files, then sshd as PID 1. */
export function hostScript(launch: HostLaunch): string {
  const dir = shellQuote(launch.runDir);
  const etc = PRIVATE_ETC_FILES.map((file) => `mount --bind ${dir}/etc/${file} /etc/${file}`);
  const homes = TEST_USERS.map(
    (user) => `mkdir -p ${user.home} && chown ${user.uid}:${user.uid} ${user.home} && chmod 0755 ${user.home}`,
  );
  return [
    'set -eu',
    // 256m: a lab's etcd (controlPlane etcd) preallocates a 61 MiB write-ahead log under /run/cnlab.
    'mount -t tmpfs -o mode=0755,size=256m cnlab-run /run',
    'mkdir -p /run/sshd /run/netns /run/lock /run/cnlab-testbed',
    'chmod 0755 /run/sshd',
    'mount -t tmpfs -o mode=0700,size=64m cnlab-root /root',
    'mount -t tmpfs -o mode=0755,size=64m cnlab-log /var/log',
    ...etc,
    ...homes,
    // A private /tmp hides the run directory, which sshd needs: carry it across at the same path.
    `mount --bind ${dir} /run/cnlab-testbed`,
    'mount -t tmpfs -o mode=1777,size=256m cnlab-tmp /tmp',
    `mkdir -p ${dir}`,
    `mount --bind /run/cnlab-testbed ${dir}`,
    'umount /run/cnlab-testbed',
    'rmdir /run/cnlab-testbed',
    `hostname ${shellQuote(launch.name)}`,
    `exec /usr/sbin/sshd -D -f ${shellQuote(launch.sshdConfig)} -E ${shellQuote(join(launch.hostDir, 'sshd.log'))}`,
  ].join('\n');
}

export interface RunningHost {
  unshare: ProcRef;
  pid1: ProcRef;
}

/** Starts the host and returns once its sshd accepts TCP; on failure nothing of it is left running. */
export async function launchHost(launch: HostLaunch): Promise<RunningHost> {
  const consoleLog = join(launch.hostDir, 'console.log');
  const output = openSync(consoleLog, 'a');
  const args = ['netns', 'exec', launch.netns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child'];
  // Detached (own session) and unref'd: a `cli.ts up` testbed outlives the process that started it.
  const child = spawn('ip', [...args, '--mount-proc', '/bin/sh', '-c', hostScript(launch)], {
    detached: true,
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  child.unref();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.on('error', () => {
    exited = true;
  });
  const unshare = child.pid === undefined ? undefined : procRef(child.pid);
  let pid1: ProcRef | undefined;
  try {
    if (!unshare) throw new Error('could not spawn ip netns exec … unshare');
    pid1 = await findPid1(unshare.pid, () => exited);
    await waitForPort(launch.address, launch.port, () => exited);
    return { unshare, pid1 };
  } catch (error) {
    await killHost(pid1, unshare, launch.name);
    throw new Error(`testbed host ${launch.name} (${launch.address}) did not start: ${(error as Error).message}\n` + logTail(launch));
  }
}

/** PID 1 of the host is unshare's only child; the kernel lists it in /proc/<pid>/task/<pid>/children. */
async function findPid1(unsharePid: number, hasExited: () => boolean): Promise<ProcRef> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('unshare exited early');
    const child = readChildren(unsharePid)[0];
    const ref = child === undefined ? undefined : procRef(child);
    if (ref) return ref;
    await sleep(5);
  }
  throw new Error('unshare did not fork the host init in time');
}

function readChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Ready means sshd sent its banner. The probe answers with its own identification before closing, so sshd does
 * not log a "kex_exchange_identification" error for every start.
 */
function sshBannerSeen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 1_000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (chunk: Buffer) => {
      if (!chunk.toString('latin1').startsWith('SSH-')) return done(false);
      socket.end('SSH-2.0-cnlab-testbed-probe\r\n', () => done(true));
    });
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function waitForPort(address: string, port: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('sshd exited');
    if (await sshBannerSeen(address, port)) return;
    await sleep(20);
  }
  throw new Error(`port ${port} did not answer with an SSH banner within ${START_TIMEOUT_MS / 1000} s`);
}

function logTail(launch: HostLaunch): string {
  return ['console.log', 'sshd.log']
    .map((file) => {
      try {
        const text = readFileSync(join(launch.hostDir, file), 'utf8').trim().split('\n').slice(-10).join('\n');
        return text ? `--- ${file}:\n${text}` : '';
      } catch {
        return '';
      }
    })
    .filter(Boolean)
    .join('\n');
}

/**
 * SIGKILLs each recorded process that is still the same process (pids get reused) and waits until all are gone.
 * `unshare` ignores SIGTERM, and SIGKILL of a pid namespace's PID 1 ends every process in that namespace.
 */
export async function killProcesses(refs: readonly ProcRef[], what: string): Promise<void> {
  const targets = refs.filter((ref) => isSameProcess(ref));
  for (const ref of targets) signalKill(ref);
  await waitGone(targets, KILL_TIMEOUT_MS, what);
}

/**
 * Kills PID 1 first and lets `unshare` reap it and exit by itself, so no zombie is left to the machine's init;
 * `unshare` is SIGKILLed only if it lingers.
 */
export async function killHost(pid1: ProcRef | undefined, unshare: ProcRef | undefined, what: string): Promise<void> {
  if (pid1 && isSameProcess(pid1)) {
    signalKill(pid1);
    try {
      await waitGone([pid1, ...(unshare ? [unshare] : [])], UNSHARE_GRACE_MS, what);
    } catch {
      // unshare still there: killed below.
    }
  }
  await killProcesses([pid1, unshare].filter((ref): ref is ProcRef => ref !== undefined), what);
}

function signalKill(ref: ProcRef): void {
  try {
    process.kill(ref.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitGone(refs: readonly ProcRef[], timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (refs.some((ref) => isAlive(ref.pid) && isSameProcess(ref))) {
    if (Date.now() > deadline) throw new Error(`testbed: processes of ${what} survived SIGKILL`);
    await sleep(5);
  }
}
