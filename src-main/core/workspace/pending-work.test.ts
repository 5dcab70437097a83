// Markers of work on hosts and temp files of writes, as a killed process leaves them: found once their
// process is gone (or its pid belongs to a later process), never while it runs, and cleared when later
// work of the same lab or run settles them. Runs whose runner's pid was reused list as interrupted.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listRunsIn } from '../experiment/experiment-service';
import { RunStore } from '../experiment/run-store';
import { syntheticRun } from '../../../tests/support/synthetic-runs';
import { beginPendingWork, orphanedTempFiles, orphanedWork, pendingFileName, processStartTicks, type PendingWork } from './pending-work';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cnlab-pending-'));
  dirs.push(dir);
  return dir;
}

/** The pid of a process that has exited (and been reaped), as a kill -9 leaves it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('close', resolve));
  return child.pid ?? 0;
}

async function writeMarker(dir: string, marker: PendingWork): Promise<void> {
  await mkdir(join(dir, 'pending'), { recursive: true });
  await writeFile(join(dir, 'pending', pendingFileName(marker)), JSON.stringify(marker));
}

const marker = (fields: Partial<PendingWork> & Pick<PendingWork, 'pid'>): PendingWork => ({ kind: 'apply', id: 'lab1', startTicks: null, startedAt: '2026-01-01T00:00:00.000Z', hosts: ['h1', 'h2'], labs: ['lab1'], ...fields });

describe('pending work', () => {
  it('is orphaned once its process is gone, never while it runs', async () => {
    const dir = await workspace();
    const live = await beginPendingWork(dir, { kind: 'run', id: 'r1', hosts: ['h1'], labs: ['x1-0'] });
    const gone = marker({ pid: await deadPid() });
    await writeMarker(dir, gone);
    expect(await orphanedWork(dir)).toEqual([gone]);
    await live.end();
    expect(await readdir(join(dir, 'pending'))).toEqual([pendingFileName(gone)]);
  });

  it('takes a live pid with another start time for a reused pid', async () => {
    const dir = await workspace();
    const parent = processStartTicks(process.ppid);
    expect(parent).not.toBeNull();
    const reused = marker({ pid: process.ppid, startTicks: (parent ?? 0) + 1 });
    const same = marker({ pid: process.ppid, startTicks: parent, id: 'lab2', labs: ['lab2'] });
    await writeMarker(dir, reused);
    await writeMarker(dir, same);
    expect(await orphanedWork(dir)).toEqual([reused]);
  });

  it('a settled apply clears dead markers of its lab, not those of other labs or runs; the folder goes when empty', async () => {
    const dir = await workspace();
    const pid = await deadPid();
    const others = [marker({ pid, id: 'lab2', labs: ['lab2'] }), marker({ pid, kind: 'run', id: 'lab1', labs: ['x1-0'] })];
    for (const item of [marker({ pid }), marker({ pid, kind: 'teardown' }), ...others]) await writeMarker(dir, item);
    const failed = await beginPendingWork(dir, { kind: 'apply', id: 'lab1', hosts: ['h1'], labs: ['lab1'] });
    await failed.end();
    expect(await orphanedWork(dir)).toHaveLength(4);
    const applied = await beginPendingWork(dir, { kind: 'apply', id: 'lab1', hosts: ['h1'], labs: ['lab1'] });
    await applied.end({ settled: true });
    expect((await orphanedWork(dir)).map((item) => `${item.kind} ${item.id}`).sort()).toEqual(['apply lab2', 'run lab1']);
    for (const item of others) await rm(join(dir, 'pending', pendingFileName(item)));
    const last = await beginPendingWork(dir, { kind: 'teardown', id: 'lab3', hosts: ['h1'], labs: ['lab3'] });
    await last.end();
    expect(await readdir(dir)).toEqual([]);
  });

  it('ignores markers that are not its own', async () => {
    const dir = await workspace();
    await mkdir(join(dir, 'pending'));
    await writeFile(join(dir, 'pending', 'notes.json'), '{"kind":"apply"}');
    await writeFile(join(dir, 'pending', 'apply-lab1-1.json'), '{ torn');
    expect(await orphanedWork(dir)).toEqual([]);
  });
});

describe('temp files of unfinished writes', () => {
  it('are found when their writer is gone or its pid now names a later process, not while it writes', async () => {
    const dir = await workspace();
    const gone = await deadPid();
    await mkdir(join(dir, 'runs', 'r1'), { recursive: true });
    await writeFile(join(dir, `.workspace.yaml.${gone}.0123abcd.tmp`), 'half');
    await writeFile(join(dir, 'runs', 'r1', `.run.json.${gone}.89abcdef.tmp`), 'half');
    await writeFile(join(dir, `.workspace.yaml.${process.pid}.00000000.tmp`), 'being written');
    // Written a day before the parent process (this test's runner) started: not by it.
    const reused = join(dir, `.workspace.yaml.${process.ppid}.11111111.tmp`);
    await writeFile(reused, 'old');
    const dayAgo = new Date(Date.now() - 86_400_000 - process.uptime() * 1000);
    await utimes(reused, dayAgo, dayAgo);
    await writeFile(join(dir, 'workspace.yaml.tmp'), 'not a temp file of cnlab');
    expect((await orphanedTempFiles(dir)).sort()).toEqual([`.workspace.yaml.${gone}.0123abcd.tmp`, `.workspace.yaml.${process.ppid}.11111111.tmp`].sort());
    expect(await orphanedTempFiles(dir, ['r1'])).toContain(join('runs', 'r1', `.run.json.${gone}.89abcdef.tmp`));
  });
});

describe('runs whose runner is gone', () => {
  it('list as interrupted even when another process now has the runner pid', async () => {
    const dir = await workspace();
    const store = new RunStore(dir);
    const ticks = processStartTicks(process.ppid) ?? 0;
    const { record } = syntheticRun(1);
    const reused = await store.create('reused', new Date(Date.UTC(2027, 0, 1)));
    await reused.saveRecord({ ...record, runId: reused.runId, state: 'running', runnerPid: process.ppid, runnerStarted: { pid: process.ppid, ticks: ticks + 1 } });
    const live = await store.create('live', new Date(Date.UTC(2027, 0, 2)));
    await live.saveRecord({ ...record, runId: live.runId, state: 'running', runnerPid: process.ppid, runnerStarted: { pid: process.ppid, ticks } });
    const older = await store.create('older', new Date(Date.UTC(2027, 0, 3)));
    const { runnerStarted: _dropped, ...withoutStart } = record;
    await older.saveRecord({ ...withoutStart, runId: older.runId, state: 'running', runnerPid: process.ppid });
    expect((await listRunsIn(store)).map((run) => `${run.name} ${run.state}`)).toEqual([`${record.experiment.name} interrupted`, `${record.experiment.name} running`, `${record.experiment.name} running`]);
  });
});
