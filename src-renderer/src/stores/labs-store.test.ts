// The labs store: container states follow events of its own lab only (batched per frame), a finished job
// updates progress, states and results, and jobs are followed even when their events arrive early.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { LabApiEvent } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { useLabsStore } from './labs-store';

let api: FakeLabApi;

const containerState = (labId: string, container: string, state: 'applying' | 'up' | 'failed'): LabApiEvent => ({ type: 'container-state', jobId: 'j1', labId, container, host: 'h1', state });

beforeEach(() => {
  api = createFakeLabApi({
    applyTopology: () => Promise.resolve({ jobId: 'j1', kind: 'apply' }),
    verifyLab: () => Promise.resolve({ jobId: 'j2', kind: 'verify' }),
    teardownLab: () => Promise.resolve({ jobId: 'j3', kind: 'teardown' }),
    getLab: () => Promise.resolve(null),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

describe('labs store', () => {
  it('applies container-state events only for its own lab', async () => {
    const labs = useLabsStore();
    labs.listen();
    await labs.apply('v: 1', 'demo');
    api.emit(containerState('demo', 'web', 'applying'));
    api.emit(containerState('other', 'db', 'up'));
    api.emit(containerState('demo', 'web', 'up'));
    labs.flushStates();
    expect(labs.containerStates).toEqual({ web: 'up' });
  });

  it('sends the text to applyTopology and follows the job to its end', async () => {
    const labs = useLabsStore();
    labs.listen();
    await labs.apply('the text', 'demo');
    expect(api.applyTopology).toHaveBeenCalledWith({ text: 'the text' });
    api.emit({ type: 'job-progress', jobId: 'j1', done: 3, total: 6, message: 'h1: web veth' });
    expect(labs.jobs[0]).toMatchObject({ done: 3, total: 6, outcome: 'running' });
    api.emit({
      type: 'job-finished',
      jobId: 'j1',
      kind: 'apply',
      outcome: 'succeeded',
      result: { kind: 'apply', labId: 'demo', status: 'applied', containers: [{ name: 'web', host: 'h1', netns: 'n', sharesWith: null, cpuset: null, interfaces: [] }], timings: [], hostDurationsMs: {} },
    });
    labs.flushStates();
    expect(labs.jobs[0]).toMatchObject({ done: 6, outcome: 'succeeded' });
    expect(labs.containerStates).toEqual({ web: 'up' });
    expect(api.getLab).toHaveBeenCalledWith({ labId: 'demo' });
  });

  it('marks containers that did not come up as failed when the apply fails, with the error message', async () => {
    const labs = useLabsStore();
    labs.listen();
    await labs.apply('v: 1', 'demo');
    api.emit(containerState('demo', 'web', 'applying'));
    api.emit({ type: 'job-finished', jobId: 'j1', kind: 'apply', outcome: 'failed', error: { code: 'apply-failed', message: 'h1: ip link add failed: File exists' } });
    labs.flushStates();
    expect(labs.containerStates).toEqual({ web: 'failed' });
    expect(labs.jobs[0]?.error).toBe('h1: ip link add failed: File exists');
  });

  it('keeps events that arrive before the job reference and applies them once it does', async () => {
    const labs = useLabsStore();
    labs.listen();
    api.emit({ type: 'job-finished', jobId: 'j2', kind: 'verify', outcome: 'succeeded', result: { kind: 'verify', labId: 'demo', cells: [] } });
    await labs.verify('demo');
    expect(labs.jobs[0]?.outcome).toBe('succeeded');
    expect(labs.verifyCells).toEqual([]);
  });

  it('shows every container as removed after a teardown', async () => {
    const labs = useLabsStore();
    labs.listen();
    await labs.apply('v: 1', 'demo');
    api.emit(containerState('demo', 'web', 'up'));
    labs.flushStates();
    await labs.teardown('demo');
    api.emit({ type: 'job-finished', jobId: 'j3', kind: 'teardown', outcome: 'succeeded', result: { kind: 'teardown', labId: 'demo', hosts: [] } });
    labs.flushStates();
    expect(labs.containerStates).toEqual({ web: 'removed' });
  });

  it('subscribes once however often it is asked to listen', () => {
    const labs = useLabsStore();
    labs.listen();
    labs.listen();
    expect(api.listenerCount()).toBe(1);
  });

  it('following a lab that is applied shows its containers up and keeps its details', async () => {
    api.getLab.mockResolvedValue({
      labId: 'demo',
      appliedAt: '2026-11-22T08:00:00.000Z',
      hosts: ['h1'],
      containerCount: 1,
      fingerprint: 'f',
      topologyText: 'v: 1',
      containers: [{ name: 'web', host: 'h1', netns: 'cnl-demo-web', sharesWith: null, cpuset: null, interfaces: [] }],
      expectations: [],
      timings: [{ container: 'web', host: 'h1', phases: [{ phase: 'netns', durationMs: 3 }] }],
    });
    const labs = useLabsStore();
    await labs.follow('demo');
    labs.flushStates();
    expect(labs.containerStates).toEqual({ web: 'up' });
    expect(labs.details?.timings[0]?.phases[0]?.phase).toBe('netns');
  });

  it('cancels a running job by its id', async () => {
    api.cancelJob.mockResolvedValue(undefined);
    const labs = useLabsStore();
    labs.listen();
    await labs.apply('v: 1', 'demo');
    await labs.cancel('j1');
    expect(api.cancelJob).toHaveBeenCalledWith({ jobId: 'j1' });
    expect(labs.jobs[0]?.cancelling).toBe(true);
    api.emit({ type: 'job-finished', jobId: 'j1', kind: 'apply', outcome: 'cancelled' });
    expect(labs.jobs[0]).toMatchObject({ outcome: 'cancelled', cancelling: false });
  });
});
