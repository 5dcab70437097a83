// A private Docker daemon inside one testbed host, for tests of cnlab's Docker runtime (issue 8).
// Its state lives in the host's private /run (images on a 1 GiB tmpfs there), its socket is the host's
// /run/docker.sock, and its bridges and iptables rules are in the host's network namespace. What reaches the
// machine: the cgroup directories of its containers (named cnl<id>-<host>-docker-<hex>, removed by stop() and the
// testbed's teardown); the key file dockerd 20.10 insists on writing to /etc/docker goes to a private bind mount.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { findCgroupDirs, hostCgroupName, removeCgroupDirs, tasksIn } from './cgroups.ts';
import { shellQuote, sleep } from './exec.ts';
import { killProcesses } from './hostproc.ts';
import { isAlive, isSameProcess, procRef, type ProcRef } from './state.ts';
import type { Testbed } from './testbed.ts';

export interface HostDockerd {
  host: string;
  /** '/run/docker.sock' inside the host. */
  socket: string;
  /** Root-namespace pid of dockerd. */
  pid: number;
  /** Removes its containers and networks, stops it and undoes everything start did; safe to call twice. */
  stop(): Promise<void>;
}

export interface HostDockerdOptions {
  /** default-address-pools base (default '198.19.0.0/16'). */
  addressPool?: string;
  /** Prefix length of each network taken from the pool (default 24). */
  poolSize?: number;
  /** docker0's address (default '198.19.255.1/24'); null: no docker0 at all (bridge none), so no host prefix overlaps a lab's pool. */
  bip?: string | null;
}

const SOCKET = '/run/docker.sock';
/** Everything of the daemon inside the host; the host's /run is its own tmpfs, so hosts never share it. */
const DOCKER_DIR = '/run/cnlab-docker';
const DOCKER = ['docker', '-H', `unix://${SOCKET}`];
/** Paths in the host's /run that dockerd and containerd's shims use whatever dockerd's flags say. */
const HOST_RUN_DIRS = ['/run/docker', '/run/containerd'];
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

/** daemon.json: addresses from the lab range, no DNS server off the lab, containers in our own cgroup. */
export function dockerdConfig(cgroupParent: string, options: HostDockerdOptions = {}): string {
  return JSON.stringify({
    'default-address-pools': [{ base: options.addressPool ?? '198.19.0.0/16', size: options.poolSize ?? 24 }],
    ...(options.bip === null ? { bridge: 'none' } : { bip: options.bip ?? '198.19.255.1/24' }),
    dns: ['127.0.0.1'],
    // Relative, so containers nest under the cgroup of whoever started the testbed (its memory limit applies).
    'cgroup-parent': cgroupParent,
  });
}

interface CgroupMount {
  type: 'tmpfs' | 'cgroup' | 'cgroup2';
  options: string;
  path: string;
}

/** Options of a cgroup v1 mount that name its hierarchy: controllers, name=…, xattr (not rw, relatime…). */
function hierarchyOptions(options: string, controllers: ReadonlySet<string>): string {
  const kept = options.split(',').filter((word) => controllers.has(word) || word.startsWith('name=') || word === 'xattr');
  return kept.some((word) => controllers.has(word)) ? kept.join(',') : ['none', ...kept].join(',');
}

/** The machine's mounts at and under /sys/fs/cgroup, in mount order, as the host must mount them again. */
export function machineCgroupMounts(mounts: string, cgroupsTable: string): CgroupMount[] {
  const controllers = new Set(cgroupsTable.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split('\t')[0] ?? ''));
  const found: CgroupMount[] = [];
  for (const line of mounts.split('\n')) {
    const [, path, type, options] = line.split(' ');
    if (!path || !options || !(path === '/sys/fs/cgroup' || path.startsWith('/sys/fs/cgroup/'))) continue;
    if (type === 'tmpfs' || type === 'cgroup2') found.push({ type, options: type === 'tmpfs' ? 'mode=0755' : '', path });
    else if (type === 'cgroup') found.push({ type, options: hierarchyOptions(options, controllers), path });
  }
  return found;
}

function mountCgroupLines(mounts: readonly CgroupMount[]): string[] {
  return mounts.map((mount) => {
    const options = mount.options ? ` -o ${shellQuote(mount.options)}` : '';
    return `mkdir -p ${shellQuote(mount.path)}; mount -t ${mount.type}${options} ${mount.type} ${shellQuote(mount.path)}`;
  });
}

/**
 * Prepares the host and starts dockerd detached in its own session (it outlives this script and is reparented to
 * the host's PID 1); prints dockerd's pid as the host sees it. Exits 17 if the host already has one.
 */
export function startScript(config: string, logPath: string, cgroupMounts: readonly CgroupMount[]): string {
  const log = shellQuote(logPath);
  return [
    'set -eu',
    `D=${DOCKER_DIR}`,
    'if [ -e "$D" ]; then echo "this host already runs a private dockerd ($D exists)" >&2; exit 17; fi',
    'mkdir -p "$D/data" "$D/exec" "$D/etc"',
    // What stop() puts back: dockerd sets FORWARD DROP, adds its chains and turns forwarding on.
    'iptables-save > "$D/iptables.before"',
    'cat /proc/sys/net/ipv4/ip_forward > "$D/ip_forward.before"',
    // dockerd makes /run/docker/plugins and the shims /run/containerd/s whatever the exec root: remove them if new.
    ...HOST_RUN_DIRS.map((dir) => `[ -e ${dir} ] || echo ${dir} >> "$D/run-dirs.ours"`),
    'mount -t tmpfs -o size=1g,mode=0711 cnlab-docker-data "$D/data"',
    // dockerd 20.10 writes its trust key to /etc/docker/key.json whatever its flags say, and /etc is the machine's.
    'mkdir -p /etc/docker',
    'mount --bind "$D/etc" /etc/docker',
    'touch "$D/etc-docker.mounted"',
    // `ip netns exec` mounted a fresh /sys without the cgroup hierarchies: mount the machine's ones again.
    'if ! mountpoint -q /sys/fs/cgroup; then',
    '  touch "$D/cgroup.mounted"',
    ...mountCgroupLines(cgroupMounts).map((line) => `  ${line}`),
    'fi',
    `printf '%s\\n' ${shellQuote(config)} > "$D/daemon.json"`,
    'cd /',
    // No registry is reachable from a testbed: Debian's dockerd then uses its bundled images without asking one.
    'DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid dockerd --config-file "$D/daemon.json" --data-root "$D/data" \\',
    `  --exec-root "$D/exec" --pidfile "$D/dockerd.pid" -H unix://${SOCKET} </dev/null >>${log} 2>&1 &`,
    'echo $!',
  ].join('\n');
}

/** Removes every container and network of the daemon through the daemon, which also drops their iptables rules. */
export function emptyScript(): string {
  const docker = DOCKER.join(' ');
  return [`ids=$(${docker} ps -aq)`, `if [ -n "$ids" ]; then ${docker} rm -f $ids >/dev/null; fi`, `${docker} network prune -f >/dev/null`].join('\n');
}

/** One table as iptables-save printed it before dockerd started, or that table empty with ACCEPT policies. */
function restoreTable(table: string, chains: readonly string[]): string[] {
  const empty = [`*${table}`, ...chains.map((chain) => `:${chain} ACCEPT [0:0]`), 'COMMIT'];
  return [
    `if grep -qx '[*]${table}' "$D/iptables.before"; then sed -n '/^[*]${table}$/,/^COMMIT$/p' "$D/iptables.before"`,
    `else printf '%s\\n' ${empty.map(shellQuote).join(' ')}; fi`,
  ];
}

/**
 * After dockerd and its containers are gone: unmounts what start mounted (deepest first), deletes the bridges it
 * made, restores the host's filter and nat tables and forwarding, and removes its directory. Stops at the first
 * failure with the directory (and its markers of what is still to undo) kept, so stop() can be tried again.
 */
export function undoScript(): string {
  return [
    'set -eu',
    `D=${DOCKER_DIR}`,
    '[ -d "$D" ] || exit 0',
    // The data tmpfs, the containers' overlay mounts in it and the netns files docker bound under the exec root.
    `for m in $(awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done`,
    'if [ -e "$D/etc-docker.mounted" ]; then umount /etc/docker; rm "$D/etc-docker.mounted"; fi',
    'if [ -e "$D/cgroup.mounted" ]; then umount -R /sys/fs/cgroup; rm "$D/cgroup.mounted"; fi',
    `for link in $(ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -E '^(docker0|br-[0-9a-f]{12})$'); do ip link del "$link"; done`,
    '{',
    ...restoreTable('filter', ['INPUT', 'FORWARD', 'OUTPUT']),
    ...restoreTable('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
    '} | iptables-restore',
    'cat "$D/ip_forward.before" > /proc/sys/net/ipv4/ip_forward',
    'if [ -e "$D/run-dirs.ours" ]; then rm -rf $(cat "$D/run-dirs.ours"); fi',
    `rm -rf "$D" ${SOCKET}`,
  ].join('\n');
}

/** Processes in the pid namespace of `pid1` (not nested ones: containers have their own). */
function processesInHost(pid1: number): { pid: number; nsPid: number; comm: string; cmdline: string }[] {
  const namespace = readLink(`/proc/${pid1}/ns/pid`);
  if (!namespace) return [];
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || readLink(`/proc/${entry}/ns/pid`) !== namespace) continue;
    const status = readText(`/proc/${entry}/status`);
    const nsPid = Number(/^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).pop());
    const comm = readText(`/proc/${entry}/comm`).trim();
    const cmdline = readText(`/proc/${entry}/cmdline`).replaceAll('\0', ' ');
    found.push({ pid: Number(entry), nsPid, comm, cmdline });
  }
  return found;
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** True once dockerd answers its API's ping; the host's socket is reachable from here through /proc/<pid>/root. */
function pingDocker(pid1: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ socketPath: `/proc/${pid1}/root${SOCKET}`, path: '/_ping', timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
  });
}

function logTail(logPath: string): string {
  const text = readText(logPath).trim();
  return text ? `\n--- dockerd.log:\n${text.split('\n').slice(-15).join('\n')}` : '';
}

async function waitReady(pid1: number, dockerd: ProcRef, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await pingDocker(pid1))) {
    if (!isSameProcess(dockerd)) throw new Error(`dockerd exited${logTail(logPath)}`);
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within ${START_TIMEOUT_MS / 1000} s${logTail(logPath)}`);
    await sleep(50);
  }
}

async function waitExit(refs: readonly ProcRef[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (refs.some((ref) => isSameProcess(ref))) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** One daemon's identity: what start made, so stop() undoes exactly that and nothing else. */
interface Daemon {
  testbed: Testbed;
  host: string;
  /** The host's PID 1 when dockerd started: a restarted host is a new one, with nothing of ours inside. */
  pid1: ProcRef;
  cgroupName: string;
  processes: ProcRef[];
}

function hostIsSame(daemon: Daemon): boolean {
  return isSameProcess(daemon.pid1);
}

/** The daemon's helpers: containerd, its shims (they outlive containerd by design) and docker-proxy. */
function isDockerHelper(proc: { comm: string; cmdline: string }): boolean {
  if (proc.comm === 'docker-proxy') return true;
  return /^(dockerd|containerd.*|runc)$/.test(proc.comm) && proc.cmdline.includes(`${DOCKER_DIR}/`);
}

/**
 * Processes of this daemon that outlived it: its helpers in the host (one daemon per host, so all are its) and
 * container processes, found by the daemon's own cgroup. Only after dockerd and containerd are gone.
 */
function strayProcesses(daemon: Daemon): ProcRef[] {
  const inHost = hostIsSame(daemon) ? processesInHost(daemon.pid1.pid).filter(isDockerHelper).map((proc) => proc.pid) : [];
  const inCgroup = tasksIn(findCgroupDirs((name) => name === daemon.cgroupName));
  return [...new Set([...inHost, ...inCgroup])].map(procRef).filter((ref): ref is ProcRef => ref !== undefined);
}

/** SIGTERM, a bounded wait for dockerd and its containerd, then SIGKILL of those and of anything they left. */
async function endProcesses(daemon: Daemon): Promise<void> {
  const [dockerd] = daemon.processes;
  if (dockerd && isSameProcess(dockerd)) process.kill(dockerd.pid, 'SIGTERM');
  if (!(await waitExit(daemon.processes, STOP_TIMEOUT_MS))) await killProcesses(daemon.processes, `dockerd of ${daemon.host}`);
  const strays = strayProcesses(daemon);
  if (strays.length > 0) await killProcesses(strays, `containers of the dockerd of ${daemon.host}`);
}

async function hostShell(daemon: Daemon, script: string): Promise<void> {
  const result = await daemon.testbed.hostExec(daemon.host, ['sh', '-c', script]);
  if (result.code !== 0) throw new Error(`on ${daemon.host}: exit ${result.code}: ${(result.stderr || result.stdout).trim()}`);
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  const problems: string[] = [];
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      problems.push((error as Error).message);
    }
  };
  // Cheaper than dockerd stopping each container on its way out (10 s each for one that ignores SIGTERM).
  if (hostIsSame(daemon) && isSameProcess(daemon.processes[0])) await attempt(() => hostShell(daemon, emptyScript()));
  await attempt(() => endProcesses(daemon));
  if (hostIsSame(daemon)) await attempt(() => hostShell(daemon, undoScript()));
  const busy = await removeCgroupDirs(findCgroupDirs((name) => name === daemon.cgroupName));
  if (busy.length > 0) problems.push(`cgroups still hold tasks: ${busy.join(', ')}`);
  daemon.testbed.untrackHostProcesses(daemon.host, daemon.processes);
  if (problems.length > 0) throw new Error(`testbed ${daemon.testbed.id}: stopping the dockerd of ${daemon.host}: ${problems.join('; ')}`);
}

/**
 * dockerd as the root namespace sees it, from its pid inside the host. The start script may exit before its
 * background child has exec'd dockerd, so the name is awaited (the start time, hence the ProcRef, stays the same).
 */
async function findDockerd(pid1: number, nsPid: number, logPath: string): Promise<ProcRef> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const found = processesInHost(pid1).find((proc) => proc.nsPid === nsPid);
    const ref = found ? procRef(found.pid) : undefined;
    if (!found || !ref) throw new Error(`dockerd exited at once${logTail(logPath)}`);
    if (found.comm === 'dockerd' || Date.now() > deadline) return ref;
    await sleep(5);
  }
}

/** dockerd starts its containerd before its API answers, so by then it is there. */
function findContainerd(pid1: number, dockerd: ProcRef): ProcRef | undefined {
  const ppidOf = (pid: number): number => Number(/^PPid:\s+(\d+)$/m.exec(readText(`/proc/${pid}/status`))?.[1]);
  const found = processesInHost(pid1).find((proc) => proc.comm === 'containerd' && ppidOf(proc.pid) === dockerd.pid);
  return found ? procRef(found.pid) : undefined;
}

async function launch(daemon: Daemon, options: HostDockerdOptions, logPath: string): Promise<void> {
  const cgroupMounts = machineCgroupMounts(readText('/proc/self/mounts'), readText('/proc/cgroups'));
  const script = startScript(dockerdConfig(daemon.cgroupName, options), logPath, cgroupMounts);
  const result = await daemon.testbed.hostExec(daemon.host, ['sh', '-c', script]);
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  const dockerd = await findDockerd(daemon.pid1.pid, Number(result.stdout.trim()), logPath);
  daemon.processes.push(dockerd);
  daemon.testbed.trackHostProcesses(daemon.host, [dockerd]);
  await waitReady(daemon.pid1.pid, dockerd, logPath);
  const containerd = findContainerd(daemon.pid1.pid, dockerd);
  if (containerd && isAlive(containerd.pid)) {
    daemon.processes.push(containerd);
    daemon.testbed.trackHostProcesses(daemon.host, [containerd]);
  }
}

/**
 * Starts a private dockerd inside `hostName` and returns once its API answers on the host's /run/docker.sock.
 * One per host; on failure nothing of it is left.
 */
export async function startHostDockerd(testbed: Testbed, hostName: string, options: HostDockerdOptions = {}): Promise<HostDockerd> {
  const host = testbed.host(hostName);
  const pid1 = host.pid1 === 0 ? undefined : procRef(host.pid1);
  if (!pid1) throw new Error(`testbed ${testbed.id}: host ${hostName} is stopped`);
  const cgroupName = hostCgroupName(`cnl${testbed.id}`, hostName, randomBytes(2).toString('hex'));
  const daemon: Daemon = { testbed, host: hostName, pid1, cgroupName, processes: [] };
  const logPath = join(testbed.dir, hostName, 'dockerd.log');
  try {
    await launch(daemon, options, logPath);
  } catch (error) {
    const message = `testbed ${testbed.id}: dockerd on ${hostName} did not start: ${(error as Error).message}`;
    // Exit 17 means another daemon owns the host: its directory and mounts are not ours to undo.
    if (/^exit 17:/.test((error as Error).message)) throw new Error(message);
    await stopDaemon(daemon).catch((cleanupError: Error) => {
      throw new Error(`${message}\n(cleanup also failed: ${cleanupError.message})`);
    });
    throw new Error(message);
  }
  let stopping: Promise<void> | undefined;
  // Concurrent calls share one stop; a failed stop may be retried.
  const stop = (): Promise<void> =>
    (stopping ??= stopDaemon(daemon).catch((error: unknown) => {
      stopping = undefined;
      throw error;
    }));
  return { host: hostName, socket: SOCKET, pid: daemon.processes[0]?.pid ?? 0, stop };
}
