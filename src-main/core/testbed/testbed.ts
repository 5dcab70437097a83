// Lab-in-a-box: N emulated Linux hosts on this machine, each a network namespace with its own sshd.
// Used by cnlab's integration tests and by people trying cnlab without hardware (see cli.ts and README.md).
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAccountFiles, buildHostsFile, hashPassword } from './accounts.ts';
import { sweep, teardownFromState, teardownRuns } from './cleanup.ts';
import { run, runOk, type RunResult } from './exec.ts';
import { killHost, launchHost, type HostLaunch } from './hostproc.ts';
import { writeTestbedWorkspace } from './inventory.ts';
import { assertIsolation, claimSubnet, createNetwork, listNetns } from './network.ts';
import {
  generateKey,
  hostKeyPath,
  publicKey,
  writeAuthorizedKeys,
  writeKnownHosts,
  writeSshConfig,
  writeSshdConfig,
  type SshHostFiles,
} from './sshfiles.ts';
import {
  BASE_DIR,
  isSameProcess,
  procRef,
  readState,
  writeState,
  type HostState,
  type ProcRef,
  type TestbedState,
} from './state.ts';

/** Password of root, bob and alice on every host. */
export const TESTBED_PASSWORD = 'cnlab-testbed-pw-1';
/** Passphrase of the encrypted client key (encryptedClientKeyPath). */
export const TESTBED_KEY_PASSPHRASE = 'cnlab-testbed-key-pw-1';

const SSH_PORT = 22;
const MAX_HOSTS = 200;

export interface TestbedHost {
  name: string;
  address: string;
  port: number;
  netns: string;
  /** PID (root namespace) of the host's PID 1; changes on restart; 0 while stopped. */
  pid1: number;
  hostKeyPath: string;
}

export interface Testbed {
  id: string;
  dir: string;
  subnet: string;
  runnerAddress: string;
  hosts: TestbedHost[];
  clientKeyPath: string;
  encryptedClientKeyPath: string;
  sshConfigPath: string;
  knownHostsPath: string;
  /** A cnlab workspace whose inventory lists these hosts (`cnlab --workspace <it> hosts probe --all`). */
  workspaceDir: string;
  host(name: string): TestbedHost;
  /** Run argv inside a host's network+mount+pid+uts namespaces — for tests' independent checks. */
  hostExec(name: string, argv: string[]): Promise<RunResult>;
  /** Kill the host's whole process tree and start sshd again in the same netns. */
  restartHost(name: string): Promise<void>;
  /**
   * A reboot: SIGKILL of the host's PID 1 (every process, its private /run with the ledgers and `ip netns`
   * namespaces in it), a fresh network namespace (links, addresses, routes, nft rules and sysctls of the
   * old one gone), then sshd again with the same name, address, MAC, host key and users.
   */
  rebootHost(name: string): Promise<void>;
  /** Kill the host's processes; its netns (and so its address) stays. */
  stopHost(name: string): Promise<void>;
  startHost(name: string): Promise<void>;
  /** New host key, then restart; known_hosts is NOT updated (tests check that a changed key is refused). */
  regenerateHostKey(name: string): Promise<void>;
  /**
   * Records processes started inside a host that outlive the command which started them (a private dockerd):
   * teardown kills them and proves they are gone. They die with the host, so stopHost forgets them.
   */
  trackHostProcesses(name: string, refs: readonly ProcRef[]): void;
  /** Forgets processes recorded by trackHostProcesses once their owner stopped them. */
  untrackHostProcesses(name: string, refs: readonly ProcRef[]): void;
  teardown(): Promise<void>;
}

export interface StartOptions {
  /** Number of hosts, named h1..hN (default 3). */
  hosts?: number;
  /** Keep running after this process exits (for `cli.ts up`); only `cli.ts down` removes it. */
  detached?: boolean;
  /**
   * The process the testbed belongs to (default: this one); a sweep removes the testbed once it is gone.
   * The console's demo lab started through sudo names the console here, not the short-lived sudo'd CLI.
   */
  ownerPid?: number;
  /** Hand the client keys and known_hosts to this uid, so an unprivileged console can use them. */
  clientUid?: number;
  /** Called after each step: `done` of `total` steps, and what was just done. */
  onProgress?: (done: number, total: number, message: string) => void;
  /** Aborting stops the start at the next step and removes what was made. */
  signal?: AbortSignal;
}

/** The tools a testbed runs, with the Debian package that brings each. */
const REQUIRED_TOOLS: readonly { tool: string; paths: readonly string[]; pkg: string }[] = [
  { tool: 'ip', paths: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'], pkg: 'iproute2' },
  { tool: 'unshare', paths: ['/usr/bin/unshare', '/bin/unshare'], pkg: 'util-linux' },
  { tool: 'nsenter', paths: ['/usr/bin/nsenter', '/bin/nsenter'], pkg: 'util-linux' },
  { tool: 'sshd', paths: ['/usr/sbin/sshd'], pkg: 'openssh-server' },
  { tool: 'ssh-keygen', paths: ['/usr/bin/ssh-keygen', '/bin/ssh-keygen'], pkg: 'openssh-client' },
  { tool: 'openssl', paths: ['/usr/bin/openssl', '/bin/openssl'], pkg: 'openssl' },
];

/** Tools the testbed needs that this machine lacks, each with the package to install. */
export function missingTestbedTools(exists: (path: string) => boolean = existsSync): { tool: string; pkg: string }[] {
  return REQUIRED_TOOLS.filter((entry) => !entry.paths.some((path) => exists(path))).map(({ tool, pkg }) => ({ tool, pkg }));
}

/** A testbed that is still up: its state.json is there and every host's PID 1 is the process recorded. */
export function isTestbedRunning(id: string): boolean {
  const state = /^tb[0-9a-f]{4}$/.test(id) ? readState(join(BASE_DIR, id)) : undefined;
  if (!state || state.hosts.length === 0) return false;
  return state.hosts.every((host) => isSameProcess(host.pid1));
}

/** Tears down one testbed whoever owns it (the caller knows it is its own); false when there was none. */
export async function teardownTestbed(id: string): Promise<boolean> {
  const state = /^tb[0-9a-f]{4}$/.test(id) ? readState(join(BASE_DIR, id)) : undefined;
  if (!state) return false;
  await teardownFromState(state);
  return true;
}

/** Cleans testbeds left by crashed runs (never a live run's, never a detached one); returns their ids. */
export function sweepStaleTestbeds(): Promise<string[]> {
  return sweep();
}

/**
 * Tears down testbeds started by `cli.ts up`: the given ids, or all of them when none are given; stale ones go too.
 * Returns the ids removed.
 */
export async function teardownDetachedTestbeds(ids: readonly string[] = []): Promise<string[]> {
  if (ids.length === 0) return sweep({ includeDetached: true });
  const done = await teardownRuns(ids);
  return [...done, ...(await sweep())];
}

function assertRunnable(hostCount: number): void {
  if (process.getuid?.() !== 0) throw new Error('testbed: must run as root (it creates namespaces and runs sshd)');
  if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS) {
    throw new Error(`testbed: hosts must be an integer from 1 to ${MAX_HOSTS}, got ${hostCount}`);
  }
}

/** A fresh id whose directory we created exclusively and whose names no kernel object uses yet. */
async function reserveRunDir(): Promise<{ id: string; dir: string }> {
  mkdirSync(BASE_DIR, { recursive: true, mode: 0o755 });
  const namespaces = await listNetns();
  for (let attempt = 0; attempt < 32; attempt += 1) {
    const id = `tb${randomBytes(2).toString('hex')}`;
    if (namespaces.some((name) => name.startsWith(`cnl${id}-`))) continue;
    const dir = join(BASE_DIR, id);
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch {
      continue;
    }
    chmodSync(dir, 0o755);
    return { id, dir };
  }
  throw new Error('testbed: could not reserve a run id');
}

function planHosts(prefix: string, prefix24: string, count: number): HostState[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `h${index + 1}`,
    address: `${prefix24}.${11 + index}`,
    netns: `${prefix}-h${index + 1}`,
    switchPort: `p-h${index + 1}`,
  }));
}

/** The first state.json, written before any kernel object exists so a crash can always be swept. */
async function initialState(options: StartOptions): Promise<TestbedState> {
  const { id, dir } = await reserveRunDir();
  const prefix = `cnl${id}`;
  const owner = procRef(options.ownerPid ?? process.pid);
  if (!owner) throw new Error(`testbed: owner process ${options.ownerPid} is not running`);
  const state: TestbedState = {
    version: 1,
    id,
    prefix,
    dir,
    owner,
    detached: options.detached ?? false,
    createdAt: new Date().toISOString(),
    runnerLink: `${prefix}-r`,
    switchNetns: `${prefix}-sw`,
    hosts: [],
  };
  writeState(state);
  return state;
}

async function planAddresses(state: TestbedState, hostCount: number): Promise<void> {
  const { prefix24, claim } = await claimSubnet(state.id);
  state.subnetClaim = claim;
  state.subnet = `${prefix24}.0/24`;
  state.runnerAddress = `${prefix24}.1`;
  state.hosts = planHosts(state.prefix, prefix24, hostCount);
  writeState(state);
}

interface RunFiles {
  clientKeyPath: string;
  encryptedClientKeyPath: string;
  sshConfigPath: string;
  knownHostsPath: string;
  authorizedKeysPath: string;
}

function runFiles(dir: string): RunFiles {
  return {
    clientKeyPath: join(dir, 'id_ed25519'),
    encryptedClientKeyPath: join(dir, 'id_ed25519_encrypted'),
    sshConfigPath: join(dir, 'ssh_config'),
    knownHostsPath: join(dir, 'known_hosts'),
    authorizedKeysPath: join(dir, 'authorized_keys'),
  };
}

function sshHost(state: TestbedState, host: HostState): SshHostFiles {
  const dir = join(state.dir, host.name);
  return { name: host.name, address: host.address, port: SSH_PORT, dir, hostKeyPath: hostKeyPath(dir) };
}

async function writeAccountFiles(state: TestbedState): Promise<void> {
  const etc = join(state.dir, 'etc');
  mkdirSync(etc, { mode: 0o755 });
  const accounts = buildAccountFiles(await hashPassword(TESTBED_PASSWORD));
  writeFileSync(join(etc, 'passwd'), accounts.passwd, { mode: 0o644 });
  writeFileSync(join(etc, 'group'), accounts.group, { mode: 0o644 });
  writeFileSync(join(etc, 'shadow'), accounts.shadow, { mode: 0o600 });
  // sudo refuses a sudoers file that is not root-owned 0440.
  writeFileSync(join(etc, 'sudoers'), accounts.sudoers, { mode: 0o440 });
  writeFileSync(join(etc, 'hosts'), buildHostsFile(state.runnerAddress ?? '', state.hosts), { mode: 0o644 });
}

async function writeSshMaterial(state: TestbedState, files: RunFiles): Promise<SshHostFiles[]> {
  const hosts = state.hosts.map((host) => sshHost(state, host));
  for (const host of hosts) mkdirSync(host.dir, { mode: 0o755 });
  await Promise.all([
    generateKey(files.clientKeyPath, `cnlab-testbed-${state.id}`),
    generateKey(files.encryptedClientKeyPath, `cnlab-testbed-${state.id}-encrypted`, TESTBED_KEY_PASSPHRASE),
    ...hosts.map((host) => generateKey(host.hostKeyPath, `${host.name}@cnlab-testbed-${state.id}`)),
  ]);
  writeAuthorizedKeys(files.authorizedKeysPath, [publicKey(files.clientKeyPath), publicKey(files.encryptedClientKeyPath)]);
  for (const host of hosts) writeSshdConfig(host, files.authorizedKeysPath);
  writeKnownHosts(files.knownHostsPath, hosts);
  writeSshConfig(files.sshConfigPath, hosts, { identity: files.clientKeyPath, knownHosts: files.knownHostsPath });
  await writeTestbedWorkspace(state.dir, hosts, files.clientKeyPath, files.knownHostsPath);
  return hosts;
}

class LabTestbed implements Testbed {
  readonly id: string;
  readonly dir: string;
  readonly subnet: string;
  readonly runnerAddress: string;
  readonly hosts: TestbedHost[];
  readonly clientKeyPath: string;
  readonly encryptedClientKeyPath: string;
  readonly sshConfigPath: string;
  readonly knownHostsPath: string;
  readonly workspaceDir: string;
  private torndown = false;

  constructor(
    private readonly state: TestbedState,
    files: RunFiles,
    private readonly sshHosts: SshHostFiles[],
  ) {
    this.id = state.id;
    this.dir = state.dir;
    this.subnet = state.subnet ?? '';
    this.runnerAddress = state.runnerAddress ?? '';
    this.clientKeyPath = files.clientKeyPath;
    this.encryptedClientKeyPath = files.encryptedClientKeyPath;
    this.sshConfigPath = files.sshConfigPath;
    this.knownHostsPath = files.knownHostsPath;
    this.workspaceDir = join(state.dir, 'workspace');
    this.hosts = state.hosts.map((host, index) => ({
      name: host.name,
      address: host.address,
      port: SSH_PORT,
      netns: host.netns,
      pid1: host.pid1?.pid ?? 0,
      hostKeyPath: sshHosts[index]?.hostKeyPath ?? '',
    }));
  }

  host(name: string): TestbedHost {
    const host = this.hosts.find((candidate) => candidate.name === name);
    if (!host) throw new Error(`testbed ${this.id}: no host named ${name}`);
    return host;
  }

  async hostExec(name: string, argv: string[]): Promise<RunResult> {
    const { pid1 } = this.host(name);
    if (pid1 === 0) throw new Error(`testbed ${this.id}: host ${name} is stopped`);
    return run('nsenter', ['-t', String(pid1), '-n', '-m', '-p', '-u', '--', ...argv]);
  }

  async restartHost(name: string): Promise<void> {
    await this.stopHost(name);
    await this.startHost(name);
  }

  async rebootHost(name: string): Promise<void> {
    const { hostState } = this.lookup(name);
    await this.stopHost(name);
    // The MAC of eth0 survives, as a NIC's does: neighbours' ARP entries stay right.
    const links = JSON.parse(await runOk('ip', ['-n', hostState.netns, '-j', 'link', 'show', 'dev', 'eth0'])) as { address?: string }[];
    const mac = links[0]?.address;
    if (!mac) throw new Error(`testbed ${this.id}: host ${name} has no eth0 to reboot with`);
    // Deleting the switch port takes its eth0 peer at once; the old namespace goes with its last user.
    await runOk('ip', ['-n', this.state.switchNetns, 'link', 'del', hostState.switchPort]);
    await runOk('ip', ['netns', 'del', hostState.netns]);
    await runOk('ip', ['netns', 'add', hostState.netns]);
    const subnetBits = this.subnet.split('/')[1] ?? '24';
    await runOk('ip', ['-n', this.state.switchNetns, '-batch', '-'], {
      input: [`link add ${hostState.switchPort} type veth peer name eth0 address ${mac} netns ${hostState.netns}`, `link set ${hostState.switchPort} master br0`, `link set ${hostState.switchPort} up`, ''].join('\n'),
    });
    await runOk('ip', ['-n', hostState.netns, '-batch', '-'], { input: ['link set lo up', `addr add ${hostState.address}/${subnetBits} dev eth0`, 'link set eth0 up', ''].join('\n') });
    await this.startHost(name);
  }

  async stopHost(name: string): Promise<void> {
    const { hostState, host } = this.lookup(name);
    await killHost(hostState.pid1, hostState.unshare, `testbed ${this.id} host ${name}`);
    delete hostState.pid1;
    delete hostState.unshare;
    delete hostState.daemons;
    host.pid1 = 0;
    writeState(this.state);
  }

  async startHost(name: string): Promise<void> {
    const { hostState, host } = this.lookup(name);
    if (host.pid1 !== 0) throw new Error(`testbed ${this.id}: host ${name} is already running`);
    const running = await launchHost(hostLaunch(this.state, hostState, this.sshHost(name)));
    hostState.unshare = running.unshare;
    hostState.pid1 = running.pid1;
    host.pid1 = running.pid1.pid;
    writeState(this.state);
  }

  async regenerateHostKey(name: string): Promise<void> {
    const files = this.sshHost(name);
    await generateKey(files.hostKeyPath, `${name}@cnlab-testbed-${this.id}`);
    await this.restartHost(name);
  }

  trackHostProcesses(name: string, refs: readonly ProcRef[]): void {
    const { hostState } = this.lookup(name);
    hostState.daemons = [...(hostState.daemons ?? []), ...refs];
    writeState(this.state);
  }

  untrackHostProcesses(name: string, refs: readonly ProcRef[]): void {
    // A stop() after teardown: the run directory, and with it state.json, is gone.
    if (this.torndown) return;
    const { hostState } = this.lookup(name);
    const gone = (ref: ProcRef): boolean => refs.some((other) => other.pid === ref.pid && other.startTime === ref.startTime);
    const kept = (hostState.daemons ?? []).filter((ref) => !gone(ref));
    if (kept.length > 0) hostState.daemons = kept;
    else delete hostState.daemons;
    writeState(this.state);
  }

  async teardown(): Promise<void> {
    if (this.torndown) return;
    this.torndown = true;
    await teardownFromState(this.state);
    for (const host of this.hosts) host.pid1 = 0;
  }

  private lookup(name: string): { hostState: HostState; host: TestbedHost } {
    const host = this.host(name);
    const hostState = this.state.hosts.find((candidate) => candidate.name === name) as HostState;
    return { hostState, host };
  }

  private sshHost(name: string): SshHostFiles {
    return this.sshHosts.find((candidate) => candidate.name === name) as SshHostFiles;
  }
}

function hostLaunch(state: TestbedState, host: HostState, files: SshHostFiles): HostLaunch {
  return {
    name: host.name,
    address: host.address,
    port: files.port,
    netns: host.netns,
    runDir: state.dir,
    hostDir: files.dir,
    sshdConfig: join(files.dir, 'sshd_config'),
  };
}

/** Reports each finished step; `checkpoint` stops between steps once the start was aborted. */
function stepper(total: number, options: StartOptions): { done(message: string): void; checkpoint(): void } {
  let done = 0;
  return {
    done(message) {
      done += 1;
      options.onProgress?.(done, total, message);
    },
    checkpoint() {
      if (options.signal?.aborted) throw new Error('testbed: start cancelled');
    },
  };
}

function handOver(files: RunFiles, uid: number): void {
  for (const path of [files.clientKeyPath, files.encryptedClientKeyPath, files.knownHostsPath, files.sshConfigPath]) {
    chownSync(path, uid, -1);
  }
}

async function bringUp(state: TestbedState, hostCount: number, options: StartOptions): Promise<LabTestbed> {
  const step = stepper(4 + hostCount, options);
  await planAddresses(state, hostCount);
  await createNetwork(state);
  step.done(`created ${hostCount + 1} network namespaces and the switch`);
  step.checkpoint();
  await assertIsolation(state);
  step.done('checked that the hosts reach only each other and this machine');
  step.checkpoint();
  const files = runFiles(state.dir);
  await writeAccountFiles(state);
  const sshHosts = await writeSshMaterial(state, files);
  if (options.clientUid !== undefined) handOver(files, options.clientUid);
  step.done('wrote host keys, client keys and accounts');
  step.checkpoint();
  const testbed = new LabTestbed(state, files, sshHosts);
  // Every launch must settle (and record its pids) before a failure or cancel tears the run down.
  const launches = await Promise.allSettled(
    state.hosts.map(async (host) => {
      await testbed.startHost(host.name);
      step.done(`sshd is up on ${host.name} (${host.address})`);
    }),
  );
  const failed = launches.find((launch) => launch.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  step.checkpoint();
  step.done('all hosts answer on SSH');
  return testbed;
}

/** Starts a testbed of `hosts` hosts (h1..hN) after sweeping crashed runs; on any failure it leaves nothing. */
export async function startTestbed(options: StartOptions = {}): Promise<Testbed> {
  const hostCount = options.hosts ?? 3;
  assertRunnable(hostCount);
  try {
    await sweepStaleTestbeds();
  } catch (error) {
    // Someone else's leftovers must not stop this run; they are reported and retried at the next start.
    console.warn((error as Error).message);
  }
  const state = await initialState(options);
  try {
    return await bringUp(state, hostCount, options);
  } catch (error) {
    try {
      await teardownFromState(state);
    } catch (cleanupError) {
      throw new Error(`${(error as Error).message}\n(cleanup also failed: ${(cleanupError as Error).message})`);
    }
    throw error;
  }
}
