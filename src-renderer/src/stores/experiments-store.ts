// The experiment being built and the one running: the matrix builder's form and its YAML kept in sync,
// the plan with its time estimate, and from the run's events the phase, progress with ETA, a status row
// per cell, warnings, the case's lab for the live diagram and the live series (kept outside reactivity).
// The text is saved into the workspace as experiments/<name>.yaml a moment after the last edit.
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import type { ExperimentPlanView, JobRef, LabApiEvent, LabDeviceNames, PlannedContainer } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';
import { useAutosave } from '../composables/use-autosave';
import { useAppStore } from './app-store';
import { apiErrorOf } from '../composables/use-error-reporter';
import { experimentDraftToYaml, newExperimentDraft, readExperimentDraft, type ExperimentDraft } from '../experiments/experiment-draft';
import { LiveSeriesBuffer } from '../experiments/live-series';
import { LinkRates } from '../experiments/link-traffic';
import { useJobsStore } from './jobs-store';

/** The plan is asked of the main process after this pause in editing. */
export const PLAN_DEBOUNCE_MS = 400;
const TEXT_KEY = 'cnlab-experiment-text';

export type CellRunStatus = 'queued' | 'running' | 'done' | 'failed';

export interface CellStatusRow {
  cellIndex: number;
  cellId: string;
  caseLabel: string;
  status: CellRunStatus;
  /** Measured runs with a result, and the reasons of those that failed. */
  results: number;
  failures: { key: string; message: string }[];
  /** The newest primary value a run of this cell returned. */
  lastMetrics: Record<string, number> | null;
}

export type RunPhase = 'idle' | 'starting' | 'preflight' | 'applying' | 'running' | 'tearing-down' | 'completed' | 'failed' | 'cancelled';

export interface RunLabView {
  caseLabel: string;
  labId: string;
  topologyText: string;
  containers: PlannedContainer[];
  devices: LabDeviceNames[];
}

/** The cell index a run key names (`3.r2`, `3.w1`). */
export function cellIndexOfKey(key: string): number {
  return Number.parseInt(key, 10);
}

/** The file's top-level `name:` (what it is saved under), or null while it has none a file could take. */
export function experimentNameOf(text: string): string | null {
  return /^name:[ \t]*["']?([a-z][a-z0-9-]{0,30})["']?[ \t]*(?:#.*)?$/m.exec(text)?.[1] ?? null;
}

function storedText(): string | null {
  try {
    return window.localStorage.getItem(TEXT_KEY);
  } catch {
    return null;
  }
}

export const useExperimentsStore = defineStore('experiments', () => {
  const draft = ref<ExperimentDraft>(newExperimentDraft([]));
  const text = ref(storedText() ?? experimentDraftToYaml(draft.value));
  /** Why the form cannot show the text (it uses something the form lacks); the text stays the source. */
  const formUnavailable = ref<string | null>(null);
  const plan = shallowRef<ExperimentPlanView | null>(null);
  const planProblem = ref<string | null>(null);
  const planning = ref(false);

  const jobId = ref<string | null>(null);
  const runId = ref<string | null>(null);
  const phase = ref<RunPhase>('idle');
  const phaseDetail = ref('');
  const progress = ref<{ done: number; total: number; elapsedMs: number; etaMs: number | null; cellId: string; warmup: boolean } | null>(null);
  const cells = ref<CellStatusRow[]>([]);
  const warnings = ref<{ message: string; fix: string }[]>([]);
  const lab = shallowRef<RunLabView | null>(null);
  /** A run that stopped before its end (cancelled, failed, interrupted): Resume continues it. */
  const resumable = ref<string | null>(null);
  const error = ref<string | null>(null);
  /** Bumped when live data arrived; charts read the buffers (which are not reactive: 64 series × 600 points). */
  const liveVersion = ref(0);
  /** Measured runs each cell gets (adaptive runs may add more): when a cell counts as done. */
  const repetitions = ref(1);
  // markRaw: through the store's reactive proxy every read of 64 × 600 points costs a Proxy trap (ten
  // times the work itself, measured); the charts follow liveVersion instead.
  const live = markRaw(new LiveSeriesBuffer());
  const links = markRaw(new LinkRates());

  const running = computed(() => !['completed', 'failed', 'cancelled', 'idle'].includes(phase.value));
  const canStart = computed(() => !running.value && plan.value !== null && planProblem.value === null);

  let fromText = false;
  let planTimer: ReturnType<typeof setTimeout> | null = null;
  let planSequence = 0;

  watch(
    draft,
    () => {
      if (fromText) {
        fromText = false;
        return;
      }
      text.value = experimentDraftToYaml(draft.value);
      formUnavailable.value = null;
    },
    { deep: true },
  );

  watch(text, (value) => {
    try {
      window.localStorage.setItem(TEXT_KEY, value);
    } catch {
      // Storage full or disabled: the text lives on in the page only.
    }
    schedulePlan();
  });

  const savedNames = ref<string[]>([]);
  const autosave = useAutosave<{ name: string; text: string }>({
    source: () => {
      const name = experimentNameOf(text.value);
      return name ? { name, text: text.value } : null;
    },
    save: async (value) => {
      await useLabApi().saveExperiment(value);
      if (!savedNames.value.includes(value.name)) savedNames.value = [...savedNames.value, value.name].sort();
    },
    delayMs: () => useAppStore().workspace?.settings.autosaveMs ?? 1500,
    equals: (a, b) => a.name === b.name && a.text === b.text,
  });
  useAppStore().registerAutosave('experiment', autosave);

  async function refreshSaved(): Promise<void> {
    savedNames.value = await useLabApi().listExperiments();
  }

  /** Opens a saved experiment file of the workspace into the builder. */
  async function open(name: string): Promise<void> {
    const saved = await useLabApi().readExperiment({ name });
    setText(saved.text);
    autosave.markSaved({ name, text: saved.text });
  }

  /** Typing in the YAML: the form follows when it can show the text. */
  function setText(value: string): void {
    text.value = value;
    const reading = readExperimentDraft(value);
    if (reading.ok) {
      fromText = true;
      draft.value = reading.draft;
      formUnavailable.value = null;
    } else formUnavailable.value = reading.reason;
  }

  let initialised = false;

  /**
   * The form for these inventory hosts when the page first opens with nothing saved (else the saved text);
   * later visits keep what the store holds and only plan again (the hosts' facts may have changed).
   */
  function initialise(hosts: string[]): void {
    if (!initialised) {
      initialised = true;
      const saved = storedText();
      if (saved) setText(saved);
      else {
        draft.value = newExperimentDraft(hosts);
        // The untouched starting form is not the user's work: nothing to save until it is edited.
        const starting = experimentDraftToYaml(draft.value);
        const name = experimentNameOf(starting);
        if (name) autosave.markSaved({ name, text: starting });
      }
    }
    schedulePlan();
  }

  function schedulePlan(): void {
    if (planTimer) clearTimeout(planTimer);
    planTimer = setTimeout(() => void planNow(), PLAN_DEBOUNCE_MS);
  }

  async function planNow(): Promise<void> {
    const sequence = ++planSequence;
    planning.value = true;
    try {
      const result = await useLabApi().planExperiment({ text: text.value });
      if (sequence !== planSequence) return;
      plan.value = result;
      planProblem.value = null;
    } catch (failure) {
      if (sequence !== planSequence) return;
      plan.value = null;
      planProblem.value = apiErrorOf(failure)?.message ?? String(failure);
    } finally {
      if (sequence === planSequence) planning.value = false;
    }
  }

  function resetLive(rows: CellStatusRow[]): void {
    cells.value = rows;
    warnings.value = [];
    progress.value = null;
    lab.value = null;
    error.value = null;
    live.reset();
    links.reset();
    liveVersion.value++;
  }

  function queuedRows(list: { cellId: string; caseLabel: string }[]): CellStatusRow[] {
    return list.map((cell, cellIndex) => ({ cellIndex, cellId: cell.cellId, caseLabel: cell.caseLabel, status: 'queued', results: 0, failures: [], lastMetrics: null }));
  }

  /** Starts a job for `rows`; a refusal (preflight, a busy lab) leaves the page idle with the reason. */
  async function launch(rows: CellStatusRow[], knownRunId: string | null, request: () => Promise<JobRef>, title: string): Promise<void> {
    resetLive(rows);
    jobId.value = null;
    runId.value = knownRunId;
    resumable.value = null;
    phase.value = 'starting';
    phaseDetail.value = '';
    try {
      const job = await request();
      jobId.value = job.jobId;
      useJobsStore().track(job, title);
    } catch (failure) {
      phase.value = 'failed';
      error.value = apiErrorOf(failure)?.message ?? String(failure);
      resumable.value = knownRunId;
      throw failure;
    }
  }

  async function start(): Promise<void> {
    const current = plan.value;
    if (!current) return;
    const source = text.value;
    repetitions.value = current.repetitions;
    await launch(queuedRows(current.cells), null, () => useLabApi().startExperiment({ text: source }), `Run ${current.name}`);
  }

  async function resume(): Promise<void> {
    const target = resumable.value;
    if (!target) return;
    const view = await useLabApi().getRun({ runId: target });
    repetitions.value = view.repetitions;
    const rows = queuedRows(view.cells.map((cell) => ({ cellId: cell.cellId, caseLabel: cell.caseLabel })));
    for (const row of rows) {
      const done = view.cells[row.cellIndex];
      row.results = done?.runs ?? 0;
      row.failures = [...(done?.failures ?? [])];
    }
    await launch(rows, target, () => useLabApi().resumeRun({ runId: target }), `Resume ${target}`);
  }

  async function cancel(): Promise<void> {
    if (jobId.value) await useJobsStore().cancel(jobId.value);
  }

  /** Resume a stored run from the Results view. */
  function offerResume(target: string): void {
    if (!running.value) resumable.value = target;
  }

  /**
   * A cell no run is measuring now: done with all its repetitions, failed when its runs only failed, else
   * still queued (random order comes back to it; a cancelled run leaves it for Resume).
   */
  function settledStatus(row: CellStatusRow): CellRunStatus {
    if (row.results >= repetitions.value) return 'done';
    if (row.failures.length > 0 && row.results === 0) return 'failed';
    return 'queued';
  }

  /** The cell's row; a run followed from its events alone (page reloaded mid-run) grows its rows as they come. */
  function rowOf(cellIndex: number, cellId: string): CellStatusRow {
    const known = cells.value[cellIndex]?.cellId === cellId ? cells.value[cellIndex] : cells.value.find((row) => row.cellId === cellId);
    if (known) return known;
    cells.value.push({ cellIndex, cellId, caseLabel: cellId.split(' ')[0] ?? cellId, status: 'queued', results: 0, failures: [], lastMetrics: null });
    cells.value.sort((a, b) => a.cellIndex - b.cellIndex);
    return cells.value.find((row) => row.cellId === cellId) as CellStatusRow;
  }

  function applyRunEvent(event: Extract<LabApiEvent, { jobId: string }>): void {
    switch (event.type) {
      case 'run-state':
        runId.value = event.runId;
        phase.value = (['preflight', 'applying', 'running', 'tearing-down'] as const).find((name) => name === event.state) ?? phase.value;
        phaseDetail.value = event.detail ?? '';
        return;
      case 'run-progress': {
        progress.value = { done: event.done, total: event.total, elapsedMs: event.elapsedMs, etaMs: event.etaMs, cellId: event.cellId, warmup: event.warmup };
        // The runner says "applying" per case but not when measuring resumes: a run starting means it has.
        phase.value = 'running';
        for (const row of cells.value) if (row.status === 'running') row.status = settledStatus(row);
        rowOf(cellIndexOfKey(event.key), event.cellId).status = 'running';
        return;
      }
      case 'run-outcome': {
        if (event.warmup) return;
        const row = rowOf(cellIndexOfKey(event.key), event.cellId);
        if (event.outcome === 'result') {
          row.results++;
          row.lastMetrics = event.metrics ?? null;
        } else row.failures.push({ key: event.key, message: event.message ?? 'failed' });
        return;
      }
      case 'run-samples': {
        const cellId = cells.value[cellIndexOfKey(event.key)]?.cellId ?? `cell ${cellIndexOfKey(event.key)}`;
        live.push(event.key, cellId, event.samples, Date.now());
        links.push(event.samples);
        liveVersion.value++;
        return;
      }
      case 'run-lab':
        lab.value = { caseLabel: event.caseLabel, labId: event.labId, topologyText: event.topologyText, containers: event.containers, devices: event.devices };
        return;
      case 'run-warning':
        warnings.value.push({ message: event.message, fix: event.fix });
        return;
      case 'job-finished':
        finish(event);
    }
  }

  function finish(event: Extract<LabApiEvent, { type: 'job-finished' }>): void {
    for (const row of cells.value) row.status = settledStatus(row);
    const stoppedRun = (event.error?.details?.runId as string | undefined) ?? runId.value;
    if (event.outcome === 'succeeded') {
      phase.value = 'completed';
    } else {
      phase.value = event.outcome;
      error.value = event.outcome === 'failed' ? (event.error?.message ?? 'the run failed') : null;
      resumable.value = stoppedRun ?? null;
    }
    lab.value = null;
  }

  /**
   * Events of the job this page started; or, while it follows none, of any experiment job (a run resumed
   * elsewhere, or this page reloaded mid-run): the page then shows what the run reports from now on.
   */
  function applyEvent(event: LabApiEvent): void {
    if (!('jobId' in event)) return;
    if (event.jobId !== jobId.value) {
      const experimentEvent = (event.type === 'job-started' && event.kind === 'experiment') || event.type.startsWith('run-');
      if (!experimentEvent) return;
      // Our own start, whose answer (the job id) is still on its way: the first experiment event is it.
      if (phase.value === 'starting' && jobId.value === null) jobId.value = event.jobId;
      else if (running.value) return;
      else {
        resetLive([]);
        jobId.value = event.jobId;
        phase.value = 'running';
      }
    }
    applyRunEvent(event);
  }

  return {
    draft,
    text,
    formUnavailable,
    plan,
    planProblem,
    planning,
    jobId,
    runId,
    phase,
    phaseDetail,
    progress,
    cells,
    warnings,
    lab,
    resumable,
    error,
    liveVersion,
    live,
    links,
    running,
    canStart,
    setText,
    savedNames,
    refreshSaved,
    open,
    initialise,
    planNow,
    start,
    resume,
    cancel,
    offerResume,
    applyEvent,
  };
});
