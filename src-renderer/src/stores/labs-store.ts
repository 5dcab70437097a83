// The lab of the open topology: preview, apply, verify, teardown and sweep as jobs followed by their events,
// the live state of every container and host (batched per animation frame), the lab's details and results.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ContainerState, JobKind, JobRef, JobResult, LabApiEvent, LabDetails, TopologyPreview, VerifyCell } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';

export type LabJobOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface LabJob {
  jobId: string;
  kind: JobKind;
  done: number;
  total: number;
  message: string;
  outcome: LabJobOutcome;
  error?: string;
  cancelling: boolean;
}

export type SweepResult = Extract<JobResult, { kind: 'sweep' }>;

/** Events of a job whose JobRef has not come back yet are kept this long (a few batches). */
const EARLY_EVENTS_KEPT = 200;

function nextFrame(callback: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(callback);
  else setTimeout(callback, 16);
}

export const useLabsStore = defineStore('labs', () => {
  /** The lab the diagram follows: the topology's name once it is applied. */
  const labId = ref<string | null>(null);
  const details = ref<LabDetails | null>(null);
  /** Replaced as a whole once per frame: the diagram reads it without a watcher per node. */
  const containerStates = shallowRef<Readonly<Record<string, ContainerState>>>({});
  const hostStates = shallowRef<Readonly<Record<string, string>>>({});
  const jobs = ref<LabJob[]>([]);
  const preview = ref<TopologyPreview | null>(null);
  const previewing = ref(false);
  const verifyCells = ref<VerifyCell[] | null>(null);
  const sweepResult = ref<SweepResult | null>(null);

  const running = computed(() => jobs.value.filter((job) => job.outcome === 'running'));
  const busy = computed(() => running.value.length > 0);

  const pendingContainers = new Map<string, ContainerState>();
  const pendingHosts = new Map<string, string>();
  let flushScheduled = false;
  const early: LabApiEvent[] = [];
  let unsubscribe: (() => void) | null = null;

  /** Applies the states gathered since the last frame in one update. */
  function flushStates(): void {
    flushScheduled = false;
    if (pendingContainers.size > 0) containerStates.value = { ...containerStates.value, ...Object.fromEntries(pendingContainers) };
    if (pendingHosts.size > 0) hostStates.value = { ...hostStates.value, ...Object.fromEntries(pendingHosts) };
    pendingContainers.clear();
    pendingHosts.clear();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    nextFrame(flushStates);
  }

  function resetStates(): void {
    pendingContainers.clear();
    pendingHosts.clear();
    containerStates.value = {};
    hostStates.value = {};
  }

  function findJob(jobId: string): LabJob | undefined {
    return jobs.value.find((job) => job.jobId === jobId);
  }

  function track(ref: JobRef): void {
    jobs.value = [...jobs.value.filter((job) => job.outcome === 'running'), { jobId: ref.jobId, kind: ref.kind, done: 0, total: 0, message: '', outcome: 'running', cancelling: false }];
    const waiting = early.filter((event) => 'jobId' in event && event.jobId === ref.jobId);
    for (const event of waiting) applyEvent(event);
  }

  function finished(event: Extract<LabApiEvent, { type: 'job-finished' }>, job: LabJob): void {
    job.outcome = event.outcome;
    job.cancelling = false;
    if (event.error) job.error = event.error.message;
    if (event.outcome === 'succeeded' && job.total > 0) job.done = job.total;
    const result = event.result;
    if (event.kind === 'apply') {
      if (result?.kind === 'apply') {
        labId.value = result.labId;
        // An unchanged lab sends no per-host events: the result says every host is as planned.
        for (const container of result.containers) {
          pendingContainers.set(container.name, 'up');
          pendingHosts.set(container.host, 'applied');
        }
        scheduleFlush();
        void loadDetails(result.labId);
      } else if (event.outcome === 'failed') {
        flushStates();
        for (const [name, state] of Object.entries(containerStates.value)) if (state !== 'up') pendingContainers.set(name, 'failed');
        scheduleFlush();
      }
    } else if (result?.kind === 'verify') verifyCells.value = result.cells;
    else if (result?.kind === 'teardown') {
      flushStates();
      for (const name of Object.keys(containerStates.value)) pendingContainers.set(name, 'removed');
      for (const name of details.value?.containers.map((container) => container.name) ?? []) pendingContainers.set(name, 'removed');
      hostStates.value = {};
      details.value = null;
      verifyCells.value = null;
      scheduleFlush();
    } else if (result?.kind === 'sweep') sweepResult.value = result;
  }

  function applyEvent(event: LabApiEvent): void {
    if (event.type === 'container-state') {
      if (event.labId !== labId.value) return;
      pendingContainers.set(event.container, event.state);
      scheduleFlush();
      return;
    }
    if (event.type === 'host-apply-state') {
      if (event.labId !== labId.value) return;
      pendingHosts.set(event.host, event.status);
      scheduleFlush();
      return;
    }
    if (event.type !== 'job-progress' && event.type !== 'job-finished') return;
    const job = findJob(event.jobId);
    if (!job) {
      early.push(event);
      if (early.length > EARLY_EVENTS_KEPT) early.shift();
      return;
    }
    if (event.type === 'job-progress') {
      job.done = event.done;
      job.total = event.total;
      job.message = event.message;
    } else finished(event, job);
  }

  /** Follows the event stream for the rest of the page's life, so a job keeps reporting while another tab shows. */
  function listen(): void {
    unsubscribe ??= useLabApi().onEvent(applyEvent);
  }

  function stopListening(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  async function loadDetails(id: string): Promise<LabDetails | null> {
    const lab = await useLabApi().getLab({ labId: id });
    if (labId.value !== id) return lab;
    details.value = lab;
    return lab;
  }

  /** Opening a topology whose lab is applied shows that lab's containers as up. */
  async function follow(id: string): Promise<void> {
    if (labId.value !== id) {
      labId.value = id;
      resetStates();
      details.value = null;
      verifyCells.value = null;
    }
    if (!id) return;
    const lab = await loadDetails(id);
    if (!lab || labId.value !== id) return;
    for (const container of lab.containers) if (!containerStates.value[container.name]) pendingContainers.set(container.name, 'up');
    scheduleFlush();
  }

  async function runPreview(text: string): Promise<TopologyPreview> {
    previewing.value = true;
    try {
      preview.value = await useLabApi().previewTopology({ text });
      return preview.value;
    } finally {
      previewing.value = false;
    }
  }

  async function apply(text: string, id: string): Promise<JobRef> {
    labId.value = id;
    resetStates();
    verifyCells.value = null;
    const job = await useLabApi().applyTopology({ text });
    track(job);
    return job;
  }

  async function verify(id: string): Promise<JobRef> {
    verifyCells.value = null;
    const job = await useLabApi().verifyLab({ labId: id });
    track(job);
    return job;
  }

  async function teardown(id: string): Promise<JobRef> {
    labId.value = id;
    const job = await useLabApi().teardownLab({ labId: id });
    track(job);
    return job;
  }

  async function sweep(hosts: string[], dryRun: boolean): Promise<JobRef> {
    sweepResult.value = null;
    const job = await useLabApi().sweepHosts({ hosts, dryRun });
    track(job);
    return job;
  }

  async function cancel(jobId: string): Promise<void> {
    const job = findJob(jobId);
    if (job) job.cancelling = true;
    try {
      await useLabApi().cancelJob({ jobId });
    } catch (error) {
      if (job) job.cancelling = false;
      throw error;
    }
  }

  function dismissJob(jobId: string): void {
    jobs.value = jobs.value.filter((job) => job.jobId !== jobId);
  }

  return {
    labId,
    details,
    containerStates,
    hostStates,
    jobs,
    running,
    busy,
    preview,
    previewing,
    verifyCells,
    sweepResult,
    applyEvent,
    flushStates,
    listen,
    stopListening,
    loadDetails,
    follow,
    runPreview,
    apply,
    verify,
    teardown,
    sweep,
    cancel,
    dismissJob,
  };
});
