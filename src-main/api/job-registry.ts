// Long work (apply, verify, teardown, sweep, probe-all, demo lab) as jobs: a request returns the job's id
// at once, the job reports through events (started, progress, finished) and can be cancelled by id.
import { randomBytes } from 'node:crypto';
import { CnlabError } from '../core/errors';
import type { JobKind, JobRef, JobResult, LabApiEvent } from '../contract/lab-api';
import { errorBody } from './lab-api-dispatcher';

export interface JobHandle {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(done: number, total: number, message: string): void;
  emit(event: LabApiEvent): void;
}

interface RunningJob {
  kind: JobKind;
  controller: AbortController;
  finished: Promise<void>;
}

export class JobRegistry {
  private readonly running = new Map<string, RunningJob>();

  constructor(private readonly emit: (event: LabApiEvent) => void) {}

  start(kind: JobKind, title: string, work: (job: JobHandle) => Promise<JobResult>): JobRef {
    const jobId = `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const controller = new AbortController();
    const handle: JobHandle = {
      jobId,
      signal: controller.signal,
      progress: (done, total, message) => this.emit({ type: 'job-progress', jobId, done, total, message }),
      emit: this.emit,
    };
    this.emit({ type: 'job-started', jobId, kind, title });
    const finished = (async () => {
      try {
        const result = await work(handle);
        this.emit({ type: 'job-finished', jobId, kind, outcome: 'succeeded', result });
      } catch (error) {
        const cancelled = controller.signal.aborted || (error instanceof CnlabError && error.code === 'cancelled');
        this.emit({ type: 'job-finished', jobId, kind, outcome: cancelled ? 'cancelled' : 'failed', error: errorBody(error) });
      } finally {
        this.running.delete(jobId);
      }
    })();
    this.running.set(jobId, { kind, controller, finished });
    return { jobId, kind };
  }

  cancel(jobId: string): void {
    const job = this.running.get(jobId);
    if (!job) throw new CnlabError('not-found', `job ${jobId} is not running (it finished or never existed)`);
    job.controller.abort();
  }

  /** Kinds of the jobs now running. */
  runningKinds(): JobKind[] {
    return [...this.running.values()].map((job) => job.kind);
  }

  /** Cancels everything and waits for the jobs to finish their cleanup (console shutdown). */
  async closeAll(): Promise<void> {
    for (const job of this.running.values()) job.controller.abort();
    await Promise.all([...this.running.values()].map((job) => job.finished));
  }
}
