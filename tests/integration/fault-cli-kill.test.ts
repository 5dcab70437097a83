// Fault campaign of issue 10: kill -9 the built CLI during `topology apply`, `run` (a 1 s iperf3
// experiment) and a save of the workspace (`hosts add` / `hosts remove`), at a seeded random moment aimed
// mid-operation. After every kill: the next cnlab start names what was left and the fix, `cnlab sweep
// --all` removes it, the hosts hold nothing of cnlab's (namespaces, links, nft tables, ledgers, processes),
// and the workspace loads with every save the killed CLI reported, its runs readable, no temp file left.
// 6 rounds in `npm test`, 50 under `npm run soak`; CNLAB_FAULT_SEED replays a campaign's choices.
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunFolder, type RunRecord } from '../../src-main/core/experiment/run-store';
import { HostInventory } from '../../src-main/core/hosts/inventory';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { campaignRandom, campaignRounds, campaignSeed, campaignTimeout } from '../support/fault-campaign';
import { assertCliBuilt, CLI_BIN, runCli, type CliRun } from '../support/run-cli';

type Operation = 'apply' | 'run' | 'save';

const ROUNDS = campaignRounds(6);
const SEED = campaignSeed(20_261_206);

const { random, between } = campaignRandom(SEED);

let testbed: Testbed;
let scratch: string;
let workspace: string;
const children = new Set<ChildProcess>();

const env = (): NodeJS.ProcessEnv => ({ HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config') });
const cli = (args: string[], timeoutMs = 90_000): Promise<CliRun> => runCli(['--workspace', workspace, ...args], env(), timeoutMs);

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
  scratch = await mkdtemp(join(tmpdir(), 'cnlab-fault-cli-'));
  workspace = testbed.workspaceDir;
  // Hosts the save rounds add point at h1 with the testbed's key; ~/.ssh/known_hosts vouches for its key,
  // so `sweep --all` reaches them like the others.
  await mkdir(join(scratch, 'home', '.ssh'), { recursive: true });
  await copyFile(testbed.knownHostsPath, join(scratch, 'home', '.ssh', 'known_hosts'));
  const containers = (name: string, host: string): string => `  - { name: ${name}, count: 20, host: ${host}, networks: [ov] }`;
  await writeFile(join(scratch, 'topology.yaml'), ['v: 1', 'name: LAB', 'hosts: [h1, h2]', 'networks:', '  - { name: ov, mode: vxlan }', 'containers:', containers('a', 'h1'), containers('b', 'h2'), ''].join('\n'));
  await writeFile(
    join(scratch, 'experiment.yaml'),
    ['v: 1', 'kind: experiment', 'name: killed', 'hosts: [h1, h2]', 'placement: { server: h1, client: h2 }', 'modes: [vxlan]', 'workload: { tool: iperf3, duration: 1 }', 'repetitions: 2', 'warmup: 0', 'cooldown: 0', ''].join('\n'),
  );
  const probe = await cli(['hosts', 'probe', '--all']);
  expect(probe.code, probe.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await testbed?.teardown();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The CLI started in the background, its streams collected, with a way to wait for a line of its stderr. */
interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<void>;
  /** Resolves when `test` holds for the stderr so far (or the process has exited). */
  stderrReaches(test: (stderr: string) => boolean): Promise<void>;
}

function spawnCli(args: string[]): Spawned {
  const child = spawn(process.execPath, [CLI_BIN, '--workspace', workspace, ...args], { env: { PATH: process.env.PATH, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: { test: (text: string) => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(stderr)) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    check();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      children.delete(child);
      for (const waiter of waiters.splice(0)) waiter.resolve();
      resolve();
    }),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stderrReaches: (test) =>
      new Promise<void>((resolve) => {
        if (test(stderr) || child.exitCode !== null || child.signalCode !== null) resolve();
        else waiters.push({ test, resolve });
      }),
  };
}

/** Waits for the trigger, then `delayMs`, then SIGKILLs the CLI (its pid only); true when the kill hit it. */
async function killAfter(spawned: Spawned, trigger: Promise<void>, delayMs: number): Promise<boolean> {
  await Promise.race([trigger, spawned.exited]);
  if (delayMs > 0) await Promise.race([sleep(delayMs), spawned.exited]);
  const alive = spawned.child.exitCode === null && spawned.child.signalCode === null;
  if (alive) spawned.child.kill('SIGKILL');
  await spawned.exited;
  return alive && spawned.child.signalCode === 'SIGKILL';
}

/**
 * What cnlab left on a host, read with the host's own tools: lab namespaces, links with cnlab's alias, nft
 * tables, ledgers, temp dirs of load generators, and any process but sshd and this check (load generators,
 * samplers, apply scripts or daemons a killed CLI's session left running).
 */
async function hostLeftovers(host: string): Promise<string[]> {
  const script = [
    "ip netns list | awk '$1 ~ /^cnl-/ { print \"netns \" $1 }'",
    "ip -o link show | grep 'alias cnlab:' | sed 's/^/link /' || true",
    "nft list tables 2>/dev/null | grep cnlab_ | sed 's/^/nft /' || true",
    "ls /run/cnlab 2>/dev/null | sed 's/^/ledger /'",
    "ls -d /tmp/cnlab-iperf3.* /tmp/cnlab-sockperf.* 2>/dev/null | sed 's/^/temp /'",
    'ps -e -o pid=,ppid=,args= | awk -v me=$$ \'$1 != me && $2 != me && $3 !~ /^sshd/ { print "process " $0 }\'',
    'true',
  ].join('\n');
  const result = await testbed.hostExec(host, ['sh', '-c', script]);
  return result.stdout.split('\n').filter(Boolean).map((line) => `${host}: ${line.trim()}`);
}

/** Nothing of cnlab's on any host; a session's last processes get a few seconds to notice their channel closed. */
async function expectHostsClean(context: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let found: string[] = [];
  do {
    found = (await Promise.all(testbed.hosts.map((host) => hostLeftovers(host.name)))).flat();
    if (found.length === 0) return;
    await sleep(250);
  } while (Date.now() < deadline);
  expect(found, `${context}: left on the hosts`).toEqual([]);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

const tempFilesIn = async (dir: string): Promise<string[]> => (await filesUnder(dir)).filter((file) => file.endsWith('.tmp'));

interface Listing {
  runId: string;
  state: string;
}

interface Round {
  index: number;
  op: Operation;
  killed: boolean;
  /** The kill came while the operation was under way (not before it started nor after it ended). */
  midOperation: boolean;
  notice: string[];
  detail: string;
  /** The round's wall time: the operation, the next start, the sweep and every check. */
  ms?: number;
}

/** What an operation's round did, before the next start looked at it: the lab it applied, the run it started. */
type Outcome = Omit<Round, 'notice'> & { labId?: string; runId?: string | null };

/** Read by `cnlab runs list` and the run store: every run folder whole, killed runs interrupted, not corrupt. */
async function checkRuns(context: string): Promise<{ listing: Listing[]; stderr: string }> {
  const listed = await cli(['--json', 'runs', 'list']);
  expect(listed.code, `${context}: ${listed.stderr}`).toBe(0);
  const listing = JSON.parse(listed.stdout) as Listing[];
  const folders = (await readdir(join(workspace, 'runs'), { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  expect(listing.map((run) => run.runId).sort(), `${context}: every run folder is listed`).toEqual(folders.sort());
  for (const runId of folders) {
    const folder = new RunFolder(join(workspace, 'runs', runId));
    const record = await folder.readRecord();
    await folder.readSamples();
    const listed = listing.find((run) => run.runId === runId)?.state;
    expect(listed, `${context}: run ${runId}`).toBe(record.state === 'running' ? 'interrupted' : record.state);
  }
  return { listing, stderr: listed.stderr };
}

/** The workspace after a sweep: loads with exactly `hosts`, no temp file, no lab record, no marker. */
async function checkWorkspace(context: string, hosts: readonly string[]): Promise<void> {
  const inventory = await HostInventory.load(workspace);
  expect(inventory.list().map((host) => host.name).sort(), `${context}: hosts in workspace.yaml`).toEqual([...hosts].sort());
  expect(await tempFilesIn(workspace), `${context}: temp files`).toEqual([]);
  expect((await readdir(join(workspace, 'labs')).catch(() => [])).filter((name) => name.endsWith('.json')), `${context}: lab records`).toEqual([]);
  expect(await readdir(join(workspace, 'pending')).catch(() => []), `${context}: markers`).toEqual([]);
}

const NOTICE = /^cnlab: .*`cnlab sweep --all`/;
const noticeLines = (stderr: string): string[] => stderr.split('\n').filter((line) => NOTICE.test(line));

/** The hosts workspace.yaml holds; saves change it, a killed save either whole or not at all. */
let hosts: string[] = ['h1', 'h2'];
let added: string | null = null;

async function applyRound(index: number): Promise<Outcome> {
  const labId = `k${index}`;
  const file = join(scratch, `${labId}.yaml`);
  await writeFile(file, (await readFile(join(scratch, 'topology.yaml'), 'utf8')).replace('name: LAB', `name: ${labId}`));
  const spawned = spawnCli(['topology', 'apply', '--timings', file]);
  // 40 containers give some 200 step lines; most kills land among them, a few near the end.
  const steps = between(1, 190);
  const killed = await killAfter(spawned, spawned.stderrReaches((text) => (text.match(/ ok \(/g) ?? []).length >= steps), between(0, 120));
  const done = spawned.stdout().includes(`applied lab ${labId}`);
  return { index, op: 'apply', killed, midOperation: killed && !done, detail: `lab ${labId}, after ${steps} steps`, labId };
}

async function runRound(index: number): Promise<Outcome> {
  const before = new Set(await readdir(join(workspace, 'runs')).catch(() => []));
  const spawned = spawnCli(['run', join(scratch, 'experiment.yaml')]);
  const phases = ['preflight', 'applying:', '0/2', '1/2', 'tearing-down:'];
  const phase = phases[between(0, phases.length - 1)] ?? 'preflight';
  const killed = await killAfter(spawned, spawned.stderrReaches((text) => text.includes(phase)), between(0, 500));
  const runId = (await readdir(join(workspace, 'runs')).catch(() => [])).find((name) => !before.has(name) && name !== 'index.json') ?? null;
  const record = runId ? (JSON.parse(await readFile(join(workspace, 'runs', runId, 'run.json'), 'utf8')) as RunRecord) : null;
  return { index, op: 'run', killed, midOperation: killed && record?.state === 'running', detail: `run ${runId ?? '(none)'}, after "${phase}", stored ${record?.state ?? '-'}`, runId };
}

/** Adds a host (pointing at h1) or removes the one added before; killed once its temp file appears, or at random. */
async function saveRound(index: number): Promise<Outcome> {
  const name = added ?? `s${index}`;
  const args = added ? ['hosts', 'remove', name] : ['hosts', 'add', name, '--address', testbed.host('h1').address, '--key', testbed.clientKeyPath, '--no-check', '--notes', `round ${index}`];
  let watcher: FSWatcher | null = null;
  const saving = new Promise<void>((resolve) => {
    watcher = watch(workspace, (_event, file) => {
      if (typeof file === 'string' && /^\.workspace\.yaml\.\d+\.[0-9a-f]{8}\.tmp$/.test(file)) resolve();
    });
  });
  // One kill in five comes at a random moment of the whole command (start-up included); the others while it writes.
  const atRandom = random() < 0.2;
  const spawned = spawnCli(args);
  const killed = await killAfter(spawned, atRandom ? sleep(between(200, 700)) : saving, atRandom ? 0 : between(0, 6));
  (watcher as FSWatcher | null)?.close();
  const reported = spawned.stdout().includes(added ? `removed host ${name}` : `added host ${name}`);
  const saved = (await HostInventory.load(workspace)).list().map((host) => host.name);
  const before = hosts;
  const after = added ? hosts.filter((host) => host !== name) : [...hosts, name];
  // One save, whole or not at all; a save the CLI reported is kept.
  expect([before, after].map((list) => [...list].sort().join(',')), `round ${index}: workspace.yaml holds ${saved.join(', ')}`).toContain([...saved].sort().join(','));
  if (reported) expect(saved.sort()).toEqual([...after].sort());
  if (saved.includes(name) && !added) {
    const host = (await HostInventory.load(workspace)).getSsh(name);
    expect({ address: host.address, notes: host.notes }).toEqual({ address: testbed.host('h1').address, notes: `round ${index}` });
  }
  hosts = saved;
  added = saved.includes(name) && name.startsWith('s') ? name : null;
  return { index, op: 'save', killed, midOperation: killed && !atRandom, detail: `${args.slice(0, 3).join(' ')}${atRandom ? ' (random moment)' : ''}, ${reported ? 'reported' : 'not reported'}, holds ${saved.length} hosts` };
}

/** Three operations per three rounds, in a seeded order, so even the short campaign has each twice. */
function operations(count: number): Operation[] {
  const ops: Operation[] = [];
  while (ops.length < count) {
    const triple: Operation[] = ['apply', 'run', 'save'];
    for (let i = triple.length - 1; i > 0; i--) {
      const j = between(0, i);
      [triple[i], triple[j]] = [triple[j] as Operation, triple[i] as Operation];
    }
    ops.push(...triple);
  }
  return ops.slice(0, count);
}

describe(`kill -9 of the CLI, ${ROUNDS} rounds (seed ${SEED})`, () => {
  it('the next start names the leftovers, sweep removes them, the workspace stays whole', async () => {
    const rounds: Round[] = [];
    for (const [index, op] of operations(ROUNDS).entries()) {
      const context = `round ${index} (${op}, seed ${SEED})`;
      const began = Date.now();
      const outcome: Outcome = op === 'apply' ? await applyRound(index) : op === 'run' ? await runRound(index) : await saveRound(index);
      const ctx = `${context}: ${outcome.detail}`;

      // The next start (any command does: this one also checks every run folder); its stderr carries the notice.
      const { listing, stderr } = await checkRuns(ctx);
      const notice = noticeLines(stderr);
      const temp = (await tempFilesIn(workspace)).map((file) => file.slice(workspace.length + 1));
      if (temp.length > 0) expect(notice.join('\n'), `${ctx}: the notice names the temp files`).toMatch(new RegExp(`${temp.length} temp files? of writes a killed cnlab did not finish`));
      else expect(notice.join('\n'), ctx).not.toMatch(/temp file/);

      const { labId, runId } = outcome;
      if (labId) {
        const applied = await cli(['--json', 'topology', 'status', labId]);
        const status = JSON.parse(applied.stdout) as { applied: boolean; hosts: { host: string; state: string; current: boolean }[] };
        const whole = status.applied && status.hosts.every((host) => host.state === 'applied' && host.current);
        // Either the apply got to its end (recorded, applied everywhere) or the start says it did not. (A kill
        // right after the record was saved, before the marker went, may leave both: then the sweep removes it.)
        const noticed = notice.some((line) => line.includes(`ended while applying lab ${labId}, so h1, h2 may still hold part of it`));
        if (!whole) expect(noticed, `${ctx}: ${applied.stdout}\n${notice.join('\n')}`).toBe(true);
        expect(notice.filter((line) => !line.includes(`lab ${labId},`) && !line.includes('temp file')), ctx).toEqual([]);
        if (whole && !noticed) expect((await cli(['topology', 'teardown', labId])).code, ctx).toBe(0);
      } else if (runId) {
        const state = listing.find((run) => run.runId === runId)?.state;
        if (state === 'interrupted') {
          expect(notice.join('\n'), ctx).toMatch(new RegExp(`run ${runId} was interrupted: .* may still hold its labs \\(x[0-9a-f]{8}-0\\) and load generators`));
          expect(notice.join('\n'), ctx).toContain(`\`cnlab runs resume ${runId}\``);
          const shown = await cli(['runs', 'show', runId]);
          expect(shown.code, `${ctx}: ${shown.stderr}`).toBe(0);
          expect(shown.stdout, ctx).toContain(`run ${runId} (killed): interrupted`);
        } else {
          // Killed after the run had ended: nothing, or (killed before its marker went) no claim that it was interrupted.
          expect(notice.filter((line) => line.includes(`run ${runId} was interrupted`)), ctx).toEqual([]);
        }
      } else if (op === 'save') expect(notice.filter((line) => !line.includes('temp file')), `${ctx}: a save leaves no work on hosts`).toEqual([]);
      rounds.push({ ...outcome, notice });

      const swept = await cli(['sweep', '--all']);
      expect(swept.code, `${ctx}: ${swept.stdout}${swept.stderr}`).toBe(0);
      if (temp.length > 0) expect(swept.stdout, ctx).toContain(`removed ${temp.length} temp file`);
      // After the sweep a start has nothing to say, and the workspace loads through the CLI as well.
      const after = await cli(['--json', 'workspace', 'info']);
      expect(after.code, `${ctx}: ${after.stderr}`).toBe(0);
      expect(noticeLines(after.stderr), `${ctx}: notice after the sweep`).toEqual([]);
      expect((JSON.parse(after.stdout) as { hosts: string[] }).hosts.sort(), ctx).toEqual([...hosts].sort());
      await expectHostsClean(ctx);
      await checkWorkspace(ctx, hosts);
      (rounds.at(-1) as Round).ms = Date.now() - began;
    }

    // Killed runs stay resumable: the last interrupted one runs to its end, on clean hosts.
    const interrupted = (await checkRuns('after the campaign')).listing.filter((run) => run.state === 'interrupted').at(-1);
    if (interrupted) {
      const resumed = await cli(['--json', 'runs', 'resume', interrupted.runId], 120_000);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect((JSON.parse(resumed.stdout) as { state: string }).state).toBe('completed');
      await expectHostsClean('after the resume');
    }

    const summary = rounds.map((round) => `${round.index} ${round.op} ${round.killed ? (round.midOperation ? 'killed mid-operation' : 'killed') : 'finished first'}; ${round.detail}; notice: ${round.notice.length}; ${round.ms ?? 0} ms`);
    console.info(`fault-cli-kill (seed ${SEED}):\n${summary.join('\n')}`);
    // The campaign tested something: most kills landed mid-operation, and apply and run kills were noticed.
    const mid = rounds.filter((round) => round.midOperation).length;
    expect(mid, summary.join('\n')).toBeGreaterThanOrEqual(Math.ceil(rounds.length / 2));
    for (const op of ['apply', 'run'] as const) expect(rounds.some((round) => round.op === op && round.notice.length > 0), `${op}: ${summary.join('\n')}`).toBe(true);
  }, campaignTimeout(ROUNDS, 12_000, 60_000));
});
