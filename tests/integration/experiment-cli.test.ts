// Experiments end to end through the built CLI on the testbed: a 3 modes × 2 sizes × 3 repetitions
// iperf3 matrix, the shipped examples' plans, cancel with Ctrl-C, and resume after kill -9 of the
// runner. Asserts on what the run folder holds and on what is left on the hosts (nothing).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSampleLines, type ResultLine, type RunRecord } from '../../src-main/core/experiment/run-store';
import { experimentLeftovers } from '../support/lab-checks';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { assertCliBuilt, CLI_BIN, runCli } from '../support/run-cli';

const examples = join(__dirname, '..', '..', 'examples');
let testbed: Testbed;

function cliEnv(): NodeJS.ProcessEnv {
  return { HOME: join(testbed.dir, 'home'), CNLAB_CONFIG_DIR: join(testbed.dir, 'cnlab-config') };
}
const cli = (args: string[], timeoutMs = 120_000) => runCli(['--workspace', testbed.workspaceDir, ...args], cliEnv(), timeoutMs);

function runDir(runId: string): string {
  return join(testbed.workspaceDir, 'runs', runId);
}

function results(runId: string): ResultLine[] {
  return parseSampleLines(readFileSync(join(runDir(runId), 'samples.jsonl'), 'utf8')).filter((line): line is ResultLine => line.type === 'result');
}

function writeExperiment(name: string, body: string): string {
  const file = join(testbed.dir, `${name}.yaml`);
  writeFileSync(file, `v: 1\nkind: experiment\nname: ${name}\nhosts: [h1, h2]\nplacement: { server: h1, client: h2 }\n${body}`);
  return file;
}

const leftovers = (): Promise<string[]> => experimentLeftovers(testbed);

/** Starts `cnlab run` in the background; resolves its exit once it ends. */
function startRun(file: string): { child: ReturnType<typeof spawn>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI_BIN, '--workspace', testbed.workspaceDir, 'run', file], { env: { PATH: process.env.PATH, ...cliEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exit };
}

async function waitFor<T>(what: string, probe: () => T | null | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function newestRun(before: readonly string[]): string | null {
  const dir = join(testbed.workspaceDir, 'runs');
  if (!existsSync(dir)) return null;
  return readdirSync(dir).find((id) => !before.includes(id)) ?? null;
}

function runIds(): string[] {
  const dir = join(testbed.workspaceDir, 'runs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
}, 120_000);

afterAll(async () => {
  await testbed?.teardown();
});

describe('experiment files', () => {
  it('every shipped experiment plans on the testbed without touching a host', async () => {
    const files = readdirSync(examples).filter((file) => file.startsWith('experiment-') && file.endsWith('.yaml'));
    expect(files.some((file) => file.includes('quick'))).toBe(true);
    expect(files.some((file) => file.includes('launch'))).toBe(true);
    for (const file of files) {
      const run = await cli(['--json', 'run', '--plan', join(examples, file)]);
      expect(run.code, `${file}: ${run.stderr}`).toBe(0);
      const plan = JSON.parse(run.stdout) as { cells: unknown[]; totalRuns: number };
      expect(plan.cells.length).toBeGreaterThan(0);
      expect(plan.totalRuns).toBeGreaterThanOrEqual(plan.cells.length);
    }
    expect(runIds()).toEqual([]);
  });

  it('refuses bad experiments with a message naming the field and the fix', async () => {
    const bridgeAcross = writeExperiment('bad-bridge', 'modes: [bridge]\nworkload: { tool: iperf3, duration: 1 }\n');
    const run = await cli(['run', bridgeAcross]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/case bridge: with mode bridge a client on h2 cannot reach a server on h1: place client and server on one host/);
    const badField = writeExperiment('bad-field', 'modes: [vxlan]\nworkload: { tool: iperf3, parallel: 0 }\n');
    expect((await cli(['run', badField])).stderr).toMatch(/workload\.parallel/);
    const unknownHost = await cli(['run', '--map', 'h9=h1', bridgeAcross]);
    expect(unknownHost.stderr).toMatch(/--map names h9, which the experiment does not use/);
    expect(runIds()).toEqual([]);
  });
});

describe('a 3 modes × 2 sizes × 3 repetitions matrix through the CLI', () => {
  it('runs every cell, stores the run, prints per-cell statistics and leaves the hosts clean', async () => {
    const file = writeExperiment(
      'matrix',
      ['modes:', '  - { mode: bridge, placement: { server: h1, client: h1 } }', '  - macvlan', '  - vxlan', 'workload: { tool: iperf3, duration: 1 }', 'axes:', '  blockSize: [1K, 128K]', 'repetitions: 3', 'warmup: 1', 'cooldown: 0', 'baseline: bridge', ''].join('\n'),
    );
    const run = await cli(['--json', 'run', file], 300_000);
    expect(run.code, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout) as { runId: string; state: string; cells: { cell: string; runs: number; metric: string; median: number; ci95: { halfWidth: number } | null; metrics: Record<string, { median: number }> }[] };
    expect(outcome.state).toBe('completed');
    expect(outcome.cells).toHaveLength(6);
    for (const cell of outcome.cells) {
      expect(cell.runs, cell.cell).toBe(3);
      expect(cell.metric).toBe('throughputBitsPerSecond');
      // veth, macvlan and vxlan on one machine move well over 100 Mbit/s even with 1 KiB writes.
      expect(cell.median, cell.cell).toBeGreaterThan(100e6);
      expect(cell.ci95?.halfWidth, cell.cell).toBeGreaterThan(0);
      expect(cell.metrics.cpuServerPercent?.median, cell.cell).toBeGreaterThan(0);
    }
    const record = JSON.parse(readFileSync(join(runDir(outcome.runId), 'run.json'), 'utf8')) as RunRecord;
    expect(record.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(record.hostFacts.h1?.tools.iperf3).toMatch(/^3\./);
    expect(record.topologies.map((topology) => topology.caseLabel).sort()).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect((record.preflight as { ok: boolean }).ok).toBe(true);
    const lines = results(outcome.runId);
    expect(lines.filter((line) => !line.warmup)).toHaveLength(18);
    expect(lines.filter((line) => line.warmup)).toHaveLength(6);
    const commands = readFileSync(join(runDir(outcome.runId), 'commands.log'), 'utf8').trim().split('\n');
    expect(commands.some((line) => /\th2\texit 0\t\d+ms\t.*iperf3.*-c /.test(line))).toBe(true);
    expect(readdirSync(join(runDir(outcome.runId), 'raw')).some((name) => name.endsWith('iperf3-client.json'))).toBe(true);
    const live = parseSampleLines(readFileSync(join(runDir(outcome.runId), 'samples.jsonl'), 'utf8')).filter((line) => line.type === 'live');
    expect(live.some((line) => line.metric === 'cpuPercent')).toBe(true);
    expect(await leftovers()).toEqual([]);

    const shown = await cli(['runs', 'show', outcome.runId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/vxlan blockSize=128K\s+3\s+throughputBitsPerSecond\s+[\d.]+ [GM]bit\/s/);
    const listed = await cli(['runs', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${outcome.runId}\\s+matrix\\s+completed\\s+18/18`));
  }, 320_000);
});

describe('cancel and resume', () => {
  it('Ctrl-C mid-run stops at once and leaves no process and no namespace behind', async () => {
    const file = writeExperiment('cancel', 'modes: [vxlan]\nworkload: { tool: iperf3, duration: 20 }\nrepetitions: 2\nwarmup: 0\n');
    const before = runIds();
    const { child, exit } = startRun(file);
    const runId = await waitFor('the run folder', () => newestRun(before), 30_000);
    const samples = join(runDir(runId), 'samples.jsonl');
    await waitFor('live throughput samples', () => (existsSync(samples) && parseSampleLines(readFileSync(samples, 'utf8')).some((line) => line.type === 'live' && line.metric === 'throughputBitsPerSecond') ? true : null), 60_000);
    const cancelledAt = Date.now();
    child.kill('SIGINT');
    const ended = await exit;
    expect(Date.now() - cancelledAt).toBeLessThan(15_000);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(/cancelled/);
    expect(await leftovers()).toEqual([]);
    const record = JSON.parse(readFileSync(join(runDir(runId), 'run.json'), 'utf8')) as RunRecord;
    expect(record.state).toBe('cancelled');
  }, 120_000);

  it('resume after kill -9 of the runner completes only the missing runs', async () => {
    const file = writeExperiment('crash', 'modes: [macvlan]\nworkload: { tool: ping, count: 5, interval: 0.2 }\nrepetitions: 6\nwarmup: 0\ncooldown: 0\n');
    const before = runIds();
    const { child, exit } = startRun(file);
    const runId = await waitFor('the run folder', () => newestRun(before), 30_000);
    await waitFor('two results', () => (existsSync(join(runDir(runId), 'samples.jsonl')) && results(runId).length >= 2 ? true : null), 90_000);
    child.kill('SIGKILL');
    await exit;
    const doneBefore = results(runId).map((line) => line.key);
    expect(doneBefore.length).toBeGreaterThanOrEqual(2);
    expect(doneBefore.length).toBeLessThan(6);

    const listed = await cli(['--json', 'runs', 'list']);
    expect((JSON.parse(listed.stdout) as { runId: string; state: string }[]).find((run) => run.runId === runId)?.state).toBe('interrupted');
    const resumed = await cli(['--json', 'runs', 'resume', runId], 180_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    const keys = results(runId).map((line) => line.key);
    expect(new Set(keys).size).toBe(6);
    // Finished runs were not run again: each key has exactly one result.
    expect(keys).toHaveLength(6);
    for (const key of doneBefore) expect(keys.filter((candidate) => candidate === key)).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(runDir(runId), 'run.json'), 'utf8')) as RunRecord;
    expect(record.state).toBe('completed');
    expect(record.resumes).toHaveLength(1);
    expect(await leftovers()).toEqual([]);
    const again = await cli(['runs', 'resume', runId]);
    expect(again.stderr).toMatch(/is complete: nothing to resume/);
  }, 240_000);
});
