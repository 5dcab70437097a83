// Experiments through the console's LabApi, below the UI: the real backend runs a small iperf3 comparison on
// the testbed as a job; live samples and per-run outcomes arrive as batched events; a cancelled run is resumed
// to completion; the run's statistics come back aggregated by the main process. Nothing is left on the hosts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentPlanView, LabApiEvent, RunComparisonView, RunListingView, RunView } from '../../src-main/contract/lab-api';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { experimentLeftovers } from '../support/lab-checks';
import { openTestConsole, type TestConsole } from '../support/lab-console';
import { testbedHost } from '../support/testbed-hosts';

let testbed: Testbed;
let lab: TestConsole;
const events = (): LabApiEvent[] => lab.events();
const call = <T>(method: string, payload?: unknown) => lab.call<T>(method, payload);
const value = <T>(method: string, payload?: unknown) => lab.value<T>(method, payload);

const experimentText = [
  'v: 1',
  'kind: experiment',
  'name: api-compare',
  'hosts: [h1, h2]',
  'placement: { server: h1, client: h2 }',
  'modes:',
  '  - { mode: bridge, placement: { server: h1, client: h1 } }',
  '  - vxlan',
  'workload: { tool: iperf3, protocol: tcp, duration: 2 }',
  'repetitions: 2',
  'warmup: 0',
  'cooldown: 0',
  '',
].join('\n');

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  lab = await openTestConsole('cnlab-api-experiments-');
  // The testbed's known_hosts: these hosts need no trust decision here (that flow is lab-api.test.ts's).
  for (const name of ['h1', 'h2']) await value('saveHost', { host: testbedHost(testbed, name) });
}, 120_000);

afterAll(async () => {
  await lab?.dispose();
  await testbed?.teardown();
});

describe('experiments through the LabApi', () => {
  it('plans without touching a host: cells, labs, runs and a time estimate; bad text is refused with the field', async () => {
    const plan = await value<ExperimentPlanView>('planExperiment', { text: experimentText });
    expect(plan.cells.map((cell) => cell.cellId)).toEqual(['bridge', 'vxlan']);
    expect(plan.totalRuns).toBe(4);
    expect(plan.labs).toHaveLength(2);
    expect(plan.estimatedSeconds).toBeGreaterThanOrEqual(4 * 2);
    const unknownHost = await call('planExperiment', { text: experimentText.replace('hosts: [h1, h2]', 'hosts: [h1, h9]') });
    expect(unknownHost).toMatchObject({ ok: false, error: { message: expect.stringMatching(/h9/) } });
    expect(await call('startExperiment', { text: 'v: 1\nkind: experiment\n' })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it('cancels a run on its first result, then resumes it to completion; live samples arrive while it runs', async () => {
    const job = await value<{ jobId: string }>('startExperiment', { text: experimentText });
    let runId = '';
    for (let waited = 0; waited < 120_000 && !runId; waited += 50) {
      const outcome = events().find((event) => event.type === 'run-outcome' && event.jobId === job.jobId && event.outcome === 'result');
      if (outcome && outcome.type === 'run-outcome') {
        runId = outcome.runId;
        await value('cancelJob', { jobId: job.jobId });
      } else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelled = await lab.finished(job.jobId, 120_000);
    expect(cancelled).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled', details: { runId } } });
    expect(events().some((event) => event.type === 'run-samples' && event.jobId === job.jobId && event.samples.some((sample) => sample.metric === 'throughputBitsPerSecond'))).toBe(true);
    expect(events().some((event) => event.type === 'job-progress' && event.jobId === job.jobId && event.total === 4)).toBe(true);
    // The live diagram's input: the case's topology and where its containers' links ended up.
    const labUp = events().find((event): event is Extract<LabApiEvent, { type: 'run-lab' }> => event.type === 'run-lab' && event.jobId === job.jobId);
    expect(labUp?.topologyText).toMatch(/runtime: netns/);
    expect(labUp?.containers.flatMap((container) => container.interfaces.map((link) => link.hostDevice)).filter(Boolean).length).toBeGreaterThan(0);
    const listed = await value<RunListingView[]>('listRuns');
    expect(listed.find((run) => run.runId === runId)).toMatchObject({ state: 'cancelled', planned: 4 });
    expect(await experimentLeftovers(testbed)).toEqual([]);

    const resumed = await value<{ jobId: string }>('resumeRun', { runId });
    const done = await lab.finished(resumed.jobId, 120_000);
    expect(done).toMatchObject({ outcome: 'succeeded', result: { kind: 'experiment', runId, state: 'completed' } });
    const run = await value<RunView>('getRun', { runId });
    expect(run.state).toBe('completed');
    expect(run.cells.map((cell) => [cell.cellId, cell.runs])).toEqual([['bridge', 2], ['vxlan', 2]]);
    expect(run).toMatchObject({ workload: { tool: 'iperf3', protocol: 'tcp', duration: 2 }, axes: [], modes: [{ label: 'bridge', mode: 'bridge' }, { label: 'vxlan', mode: 'vxlan' }], baseline: null });
    for (const cell of run.cells) {
      expect(cell.primary.name).toBe('throughputBitsPerSecond');
      expect(cell.metrics.throughputBitsPerSecond?.median ?? 0).toBeGreaterThan(100e6);
      expect(cell.metrics.throughputBitsPerSecond?.ci95).not.toBeNull();
    }
    expect(await experimentLeftovers(testbed)).toEqual([]);

    // A run against itself: every cell matched, no difference, nothing significant.
    const same = await value<RunComparisonView>('compareRuns', { runA: runId, runB: runId });
    expect(same.rows.map((row) => [row.caseLabel, row.difference?.percentChange, row.difference?.significant])).toEqual([['bridge', 0, false], ['vxlan', 0, false]]);
    expect(await call('compareRuns', { runA: runId, runB: 'no-such-run' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  }, 240_000);
});
