// Every long job the console knows of (apply, verify, probe-all, demo…): its progress, outcome and error,
// kept from the job events so one progress strip can show them all and cancel any of them.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobKind, JobRef, JobResult, LabApiErrorBody, LabApiEvent } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';

export type JobOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobEntry {
  jobId: string;
  kind: JobKind;
  title: string;
  done: number;
  total: number;
  message: string;
  outcome: JobOutcome;
  result?: JobResult;
  error?: LabApiErrorBody;
  dismissed: boolean;
  cancelling: boolean;
}

/** Finished jobs kept for their errors and results; older ones are dropped. */
const FINISHED_KEPT = 50;

const DEFAULT_TITLES: Record<JobKind, string> = {
  apply: 'Applying topology',
  verify: 'Verifying lab',
  teardown: 'Tearing down lab',
  sweep: 'Sweeping hosts',
  'probe-all': 'Probing all hosts',
  'demo-start': 'Starting demo lab',
  'demo-stop': 'Stopping demo lab',
  experiment: 'Running experiment',
};

export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<JobEntry[]>([]);

  const running = computed(() => jobs.value.filter((job) => job.outcome === 'running'));
  const failed = computed(() => jobs.value.filter((job) => job.outcome === 'failed' && !job.dismissed));

  function find(jobId: string): JobEntry | undefined {
    return jobs.value.find((job) => job.jobId === jobId);
  }

  function ensure(jobId: string, kind: JobKind, title?: string): JobEntry {
    const existing = find(jobId);
    if (existing) {
      if (title) existing.title = title;
      return existing;
    }
    const job: JobEntry = { jobId, kind, title: title ?? DEFAULT_TITLES[kind], done: 0, total: 0, message: '', outcome: 'running', dismissed: false, cancelling: false };
    jobs.value.push(job);
    return jobs.value[jobs.value.length - 1] ?? job;
  }

  /** Registers a job the page just started, so it shows before its first event arrives. */
  function track(ref: JobRef, title?: string): void {
    ensure(ref.jobId, ref.kind, title);
  }

  function prune(): void {
    const finished = jobs.value.filter((job) => job.outcome !== 'running');
    if (finished.length <= FINISHED_KEPT) return;
    const dropped = new Set(finished.slice(0, finished.length - FINISHED_KEPT).map((job) => job.jobId));
    jobs.value = jobs.value.filter((job) => !dropped.has(job.jobId));
  }

  function applyEvent(event: LabApiEvent): void {
    if (event.type === 'job-started') {
      ensure(event.jobId, event.kind, event.title);
    } else if (event.type === 'job-progress') {
      // A progress event can only follow a start; if the start was missed the kind is unknown, so guess apply.
      const job = find(event.jobId) ?? ensure(event.jobId, 'apply', 'Job');
      job.done = event.done;
      job.total = event.total;
      job.message = event.message;
    } else if (event.type === 'job-finished') {
      const job = ensure(event.jobId, event.kind);
      job.outcome = event.outcome;
      job.result = event.result;
      job.error = event.error;
      job.cancelling = false;
      if (job.total > 0 && event.outcome === 'succeeded') job.done = job.total;
      prune();
    }
  }

  async function cancel(jobId: string): Promise<void> {
    const job = find(jobId);
    if (job) job.cancelling = true;
    try {
      await useLabApi().cancelJob({ jobId });
    } catch (error) {
      if (job) job.cancelling = false;
      throw error;
    }
  }

  function dismiss(jobId: string): void {
    const job = find(jobId);
    if (job) job.dismissed = true;
  }

  return { jobs, running, failed, find, track, applyEvent, cancel, dismiss };
});
