// workspace.yaml survives kill -9 at any moment: a child process saves the workspace in a loop (the first run also
// upgrades it from v1) and is SIGKILLed a random 20-300 ms after it starts on the workspace, 30 times. After every kill the workspace loads
// cleanly, holds one consistent save (never half of one), and no save the child reported is lost. Temp files
// left by a kill, or a half-written one, are ignored by the load.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HostInventory } from '../../src-main/core/hosts/inventory';
import { autosaveFor, savedCounter } from '../support/workspace-save-loop';

const root = join(import.meta.dirname, '..', '..');
const FIXTURE = join(root, 'src-main', 'core', 'workspace', 'fixtures', 'workspace-v1.yaml');
const RUNS = 30;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface SaveLoop {
  child: ChildProcess;
  output: () => string;
  errors: () => string;
  closed: Promise<void>;
}

/** Starts the save loop; it loads its modules, then waits for `go` before touching the workspace. */
function startSaveLoop(dir: string): SaveLoop {
  // node itself runs the script (tsx as a loader), so the pid we kill is the process that writes.
  const child = spawn(process.execPath, ['--import', 'tsx', join('tests', 'support', 'workspace-save-loop.ts'), dir], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let errors = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, output: () => output, errors: () => errors, closed };
}

/** Lets the loop save, kills it (SIGKILL, its pid only) `delayMs` later and returns its output. */
async function goAndKill({ child, output, errors, closed }: SaveLoop, delayMs: number): Promise<string> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  while (!output().includes('ready\n') && running()) await sleep(5);
  if (!running()) throw new Error(`the save loop stopped by itself: ${errors()}`);
  child.stdin?.write('go\n');
  await sleep(delayMs);
  expect(child.pid).toBeGreaterThan(1);
  const alive = running();
  process.kill(child.pid ?? 0, 'SIGKILL');
  await closed;
  if (!alive || child.signalCode !== 'SIGKILL') throw new Error(`the save loop ended before the kill (exit ${child.exitCode}): ${errors()}`);
  return output();
}

function lastSaved(output: string): number {
  const saved = [...output.matchAll(/^saved (\d+)$/gm)].map((match) => Number(match[1]));
  return saved.length > 0 ? Math.max(...saved) : -1;
}

describe('workspace.yaml under kill -9', () => {
  it(`loads cleanly with every reported save after each of ${RUNS} kills mid-save`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cnlab-workspace-crash-'));
    dirs.push(dir);
    await copyFile(FIXTURE, join(dir, 'workspace.yaml'));
    const original = await readFile(FIXTURE);
    // A half-written temp file, as a kill during a write leaves it: loads must not read it.
    await writeFile(join(dir, '.workspace.yaml.4242.deadbeef.tmp'), 'formatVersion: 2\nhosts: [\n  - name: half');

    let previous = 0;
    let reported = 0;
    let next = startSaveLoop(dir);
    for (let run = 0; run < RUNS; run++) {
      const current = next;
      // The next loop starts loading its modules now; it touches the workspace only when told to.
      if (run + 1 < RUNS) next = startSaveLoop(dir);
      const output = await goAndKill(current, 20 + Math.floor(Math.random() * 281));
      const saved = lastSaved(output);
      reported = Math.max(reported, saved);

      const inventory = await HostInventory.load(dir);
      const counter = savedCounter(inventory);
      expect(counter, `run ${run}: the file lost save ${saved}`).toBeGreaterThanOrEqual(saved);
      expect(counter, `run ${run}: the file went back`).toBeGreaterThanOrEqual(previous);
      previous = counter;
      // One save, whole: the settings carry the counter the host carries.
      expect(inventory.settings().autosaveMs).toBe(autosaveFor(counter));
      expect(inventory.list().map((host) => host.name)).toEqual(['lab-a', 'lab-b']);

      // Only temp files (ignored) and at most one backup of the original, holding its bytes, lie beside it.
      const entries = await readdir(dir);
      const others = entries.filter((name) => name !== 'workspace.yaml' && !/^\.workspace\.(yaml|v1\.yaml\.bak)\.\d+\.[0-9a-f]+\.tmp$/.test(name));
      expect(others.every((name) => name === 'workspace.v1.yaml.bak'), others.join(', ')).toBe(true);
      if (others.length > 0) expect(await readFile(join(dir, 'workspace.v1.yaml.bak'))).toEqual(original);
    }
    expect(reported, 'no run got to a save: the kills came too early to test anything').toBeGreaterThan(0);
    expect(await readdir(dir)).toContain('workspace.v1.yaml.bak');
    expect(await readFile(join(dir, 'workspace.yaml'), 'utf8')).toMatch(/^formatVersion: 2 # written by cnlab 0\.1$/m);
  }, 90_000);
});
