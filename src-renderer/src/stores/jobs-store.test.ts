// The jobs store tracks each job from its events: progress while it runs, outcome and error when it ends,
// cancellation through the API, and dismissal of failures.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { LabApiError } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { useJobsStore } from './jobs-store';

let api: FakeLabApi;

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeLabApi({ cancelJob: () => Promise.resolve() });
  setLabApi(api);
});

describe('jobs store', () => {
  it('follows a job from start through progress to success', () => {
    const jobs = useJobsStore();
    jobs.applyEvent({ type: 'job-started', jobId: 'job-1', kind: 'apply', title: 'Applying lab1' });
    jobs.applyEvent({ type: 'job-progress', jobId: 'job-1', done: 3, total: 10, message: 'node1: veth pairs' });
    expect(jobs.running).toHaveLength(1);
    expect(jobs.running[0]).toMatchObject({ title: 'Applying lab1', done: 3, total: 10, message: 'node1: veth pairs' });
    jobs.applyEvent({ type: 'job-finished', jobId: 'job-1', kind: 'apply', outcome: 'succeeded' });
    expect(jobs.running).toHaveLength(0);
    expect(jobs.find('job-1')).toMatchObject({ outcome: 'succeeded', done: 10 });
  });

  it('keeps a failed job with its error until dismissed', () => {
    const jobs = useJobsStore();
    jobs.track({ jobId: 'job-2', kind: 'verify' });
    jobs.applyEvent({ type: 'job-finished', jobId: 'job-2', kind: 'verify', outcome: 'failed', error: { code: 'host-unreachable', message: 'node2 did not answer: is it up?' } });
    expect(jobs.failed.map((job) => job.error?.message)).toEqual(['node2 did not answer: is it up?']);
    jobs.dismiss('job-2');
    expect(jobs.failed).toHaveLength(0);
  });

  it('cancels through the API and marks the job as cancelling', async () => {
    const jobs = useJobsStore();
    jobs.track({ jobId: 'job-3', kind: 'probe-all' });
    await jobs.cancel('job-3');
    expect(api.cancelJob).toHaveBeenCalledWith({ jobId: 'job-3' });
    expect(jobs.find('job-3')?.cancelling).toBe(true);
    jobs.applyEvent({ type: 'job-finished', jobId: 'job-3', kind: 'probe-all', outcome: 'cancelled' });
    expect(jobs.find('job-3')).toMatchObject({ outcome: 'cancelled', cancelling: false });
  });

  it('lets the user cancel again when the cancel request fails', async () => {
    const jobs = useJobsStore();
    jobs.track({ jobId: 'job-4', kind: 'apply' });
    api.cancelJob.mockRejectedValue(new LabApiError({ code: 'not-found', message: 'job-4 already ended' }));
    await expect(jobs.cancel('job-4')).rejects.toThrow('job-4 already ended');
    expect(jobs.find('job-4')?.cancelling).toBe(false);
  });
});
