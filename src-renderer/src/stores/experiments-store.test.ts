// The experiments store: the plan follows the text after a pause, a run's events become phase, progress,
// per-cell status and live data; cancel makes the run resumable, resume restarts it from its stored cells;
// a run this page did not start (a reload mid-run) is followed from its events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { LabApiError, type ExperimentPlanView, type LabApiEvent, type RunView } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { PLAN_DEBOUNCE_MS, useExperimentsStore } from './experiments-store';

let api: FakeLabApi;

const plan: ExperimentPlanView = {
  name: 'compare',
  fingerprint: 'f',
  seed: 1,
  cells: [
    { cellId: 'bridge', caseLabel: 'bridge' },
    { cellId: 'vxlan', caseLabel: 'vxlan' },
  ],
  totalRuns: 4,
  repetitions: 2,
  labs: ['l0', 'l1'],
  estimatedSeconds: 30,
};

const runView = (cells: [string, number][]): RunView => ({
  runId: 'run-1',
  name: 'compare',
  state: 'cancelled',
  createdAt: '2026-11-22T00:00:00Z',
  workload: { tool: 'iperf3' },
  axes: [],
  modes: [],
  baseline: null,
  repetitions: 2,
  cells: cells.map(([cellId, runs], cellIndex) => ({ cellIndex, cellId, caseLabel: cellId, axisValues: {}, runs, failures: [], primary: { name: 'throughputBitsPerSecond', unit: 'bit/s', higherIsBetter: true }, metrics: {}, percentiles: {}, baseline: null })),
  failures: [],
});

beforeEach(() => {
  vi.useFakeTimers();
  window.localStorage.clear();
  api = createFakeLabApi({
    planExperiment: () => Promise.resolve(plan),
    startExperiment: () => Promise.resolve({ jobId: 'job-1', kind: 'experiment' }),
    resumeRun: () => Promise.resolve({ jobId: 'job-2', kind: 'experiment' }),
    getRun: () => Promise.resolve(runView([['bridge', 2], ['vxlan', 1]])),
    saveExperiment: () => Promise.resolve(),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  vi.useRealTimers();
});

async function planned(): Promise<ReturnType<typeof useExperimentsStore>> {
  const store = useExperimentsStore();
  store.initialise(['h1', 'h2']);
  await vi.advanceTimersByTimeAsync(PLAN_DEBOUNCE_MS + 10);
  return store;
}

const send = (event: LabApiEvent) => useExperimentsStore().applyEvent(event);

describe('experiments store', () => {
  it('saves the text into the workspace under its name a moment after the last edit, and opens a saved one', async () => {
    const store = await planned();
    await vi.advanceTimersByTimeAsync(2000);
    api.saveExperiment.mockClear();
    store.setText('v: 1\nkind: experiment\nname: bridge-vs-vxlan\n');
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.saveExperiment).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(600);
    expect(api.saveExperiment).toHaveBeenCalledWith({ name: 'bridge-vs-vxlan', text: 'v: 1\nkind: experiment\nname: bridge-vs-vxlan\n' });
    expect(store.savedNames).toEqual(['bridge-vs-vxlan']);

    // Without a usable name there is nothing to save it under.
    api.saveExperiment.mockClear();
    store.setText('v: 1\nkind: experiment\nname: Not A Name\n');
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.saveExperiment).not.toHaveBeenCalled();

    api.readExperiment.mockResolvedValue({ name: 'older', text: 'v: 1\nkind: experiment\nname: older\n' });
    await store.open('older');
    expect(store.text).toBe('v: 1\nkind: experiment\nname: older\n');
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.saveExperiment).not.toHaveBeenCalled();
  });

  it('plans the text after a pause, and says why when the main process refuses it', async () => {
    const store = await planned();
    expect(api.planExperiment).toHaveBeenCalledTimes(1);
    expect(api.planExperiment.mock.calls[0]?.[0].text).toMatch(/kind: experiment/);
    expect(store.plan?.totalRuns).toBe(4);
    expect(store.canStart).toBe(true);

    api.planExperiment.mockRejectedValueOnce(new LabApiError({ code: 'invalid-input', message: 'experiment: hosts: h9 is unknown' }));
    store.setText('v: 1\nkind: experiment\nname: x\n');
    await vi.advanceTimersByTimeAsync(PLAN_DEBOUNCE_MS - 50);
    expect(api.planExperiment).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.planProblem).toBe('experiment: hosts: h9 is unknown');
    expect(store.canStart).toBe(false);
  });

  it('keeps the form and the YAML in step both ways, and keeps text the form cannot show', async () => {
    const store = await planned();
    store.draft.name = 'renamed';
    await vi.advanceTimersByTimeAsync(1);
    expect(store.text).toMatch(/name: renamed/);
    store.setText(store.text.replace('name: renamed', 'name: typed'));
    expect(store.draft.name).toBe('typed');
    store.setText(`${store.text}description: the form has no field for this\n`);
    expect(store.formUnavailable).toMatch(/description/);
    expect(store.text).toMatch(/description/);
  });

  it('turns run events into phase, progress, cell status and live data', async () => {
    const store = await planned();
    await store.start();
    expect(store.cells.map((row) => row.status)).toEqual(['queued', 'queued']);
    send({ type: 'run-state', jobId: 'job-1', runId: 'run-1', state: 'applying', detail: 'bridge: lab l0' });
    expect(store.phase).toBe('applying');
    send({ type: 'run-progress', jobId: 'job-1', runId: 'run-1', key: '0.r1', cellId: 'bridge', warmup: false, done: 0, total: 4, elapsedMs: 0, etaMs: null });
    expect(store.cells[0]?.status).toBe('running');
    send({ type: 'run-samples', jobId: 'job-1', runId: 'run-1', key: '0.r1', samples: [{ t: 1, metric: 'throughputBitsPerSecond', value: 9e9, source: 'pair1/pair' }] });
    expect(store.liveVersion).toBeGreaterThan(0);
    send({ type: 'run-outcome', jobId: 'job-1', runId: 'run-1', key: '0.r1', cellId: 'bridge', warmup: false, outcome: 'result', metrics: { throughputBitsPerSecond: 9e9 } });
    send({ type: 'run-progress', jobId: 'job-1', runId: 'run-1', key: '1.r1', cellId: 'vxlan', warmup: false, done: 1, total: 4, elapsedMs: 5000, etaMs: 15000 });
    // One of bridge's two repetitions: random order comes back to it.
    expect(store.cells.map((row) => row.status)).toEqual(['queued', 'running']);
    send({ type: 'run-outcome', jobId: 'job-1', runId: 'run-1', key: '1.r1', cellId: 'vxlan', warmup: false, outcome: 'failure', message: 'iperf3: connection refused' });
    // Another job's events never touch this run.
    send({ type: 'run-outcome', jobId: 'job-9', runId: 'run-9', key: '0.r1', cellId: 'bridge', warmup: false, outcome: 'result', metrics: {} });
    send({ type: 'run-progress', jobId: 'job-1', runId: 'run-1', key: '0.r2', cellId: 'bridge', warmup: false, done: 2, total: 4, elapsedMs: 9000, etaMs: 9000 });
    send({ type: 'run-outcome', jobId: 'job-1', runId: 'run-1', key: '0.r2', cellId: 'bridge', warmup: false, outcome: 'result', metrics: { throughputBitsPerSecond: 9.1e9 } });
    send({ type: 'job-finished', jobId: 'job-1', kind: 'experiment', outcome: 'failed', error: { code: 'workload-failed', message: 'every run of vxlan failed', details: { runId: 'run-1' } } });
    expect(store.phase).toBe('failed');
    expect(store.cells.map((row) => [row.status, row.results])).toEqual([['done', 2], ['failed', 0]]);
    expect(store.cells[1]?.failures[0]?.message).toMatch(/connection refused/);
    expect(store.error).toMatch(/vxlan failed/);
    expect(store.resumable).toBe('run-1');
  });

  it('resumes a cancelled run from its stored cells', async () => {
    const store = await planned();
    await store.start();
    send({ type: 'job-finished', jobId: 'job-1', kind: 'experiment', outcome: 'cancelled', error: { code: 'cancelled', message: 'cancelled', details: { runId: 'run-1' } } });
    expect(store.phase).toBe('cancelled');
    await store.resume();
    expect(api.resumeRun).toHaveBeenCalledWith({ runId: 'run-1' });
    expect(store.cells.map((row) => [row.cellId, row.results])).toEqual([['bridge', 2], ['vxlan', 1]]);
    expect(store.running).toBe(true);
    send({ type: 'job-finished', jobId: 'job-2', kind: 'experiment', outcome: 'succeeded', result: { kind: 'experiment', runId: 'run-1', state: 'completed' } });
    expect(store.phase).toBe('completed');
    expect(store.resumable).toBeNull();
  });

  it('follows a run it did not start, from its events, while it follows none', async () => {
    const store = await planned();
    send({ type: 'run-progress', jobId: 'job-7', runId: 'run-7', key: '3.r2', cellId: 'macvlan blockSize=1400', warmup: false, done: 5, total: 8, elapsedMs: 1, etaMs: 2 });
    expect(store.phase).toBe('running');
    expect(store.cells.map((row) => [row.cellIndex, row.cellId, row.status])).toEqual([[3, 'macvlan blockSize=1400', 'running']]);
    send({ type: 'run-progress', jobId: 'job-8', runId: 'run-8', key: '0.r1', cellId: 'other', warmup: false, done: 0, total: 1, elapsedMs: 1, etaMs: 2 });
    expect(store.cells).toHaveLength(1);
  });
});
