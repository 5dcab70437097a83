// The Results view's data: the workspace's runs and those of imported bundles (listed by the main process
// from its index, thousands of them), the run shown with its per-cell statistics, a second run to compare
// it with, and bundles in and out. Nothing is aggregated here: the main process sends summaries.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { BundleExportView, BundleImportView, LabApiEvent, RunComparisonView, RunListingView, RunView } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';

/** What the Results view's bundle dialog does. */
export type BundleAction = 'import' | 'export' | 'report';

export const useResultsStore = defineStore('results', () => {
  const runs = shallowRef<RunListingView[]>([]);
  const loaded = ref(false);
  const filter = ref('');
  const selectedRunId = ref<string | null>(null);
  const run = shallowRef<RunView | null>(null);
  const compareRunId = ref<string | null>(null);
  const comparison = shallowRef<RunComparisonView | null>(null);
  let selectSequence = 0;

  /** Newest first, filtered by name, id or state. */
  const visibleRuns = computed(() => {
    const needle = filter.value.trim().toLowerCase();
    const newestFirst = [...runs.value].reverse();
    if (!needle) return newestFirst;
    return newestFirst.filter((entry) => entry.runId.toLowerCase().includes(needle) || entry.name.toLowerCase().includes(needle) || entry.state.includes(needle) || (needle === 'imported' && entry.imported !== undefined));
  });

  async function load(): Promise<void> {
    runs.value = await useLabApi().listRuns();
    loaded.value = true;
    if (!selectedRunId.value && runs.value.length > 0) await select(runs.value[runs.value.length - 1]?.runId ?? '');
  }

  async function select(runId: string): Promise<void> {
    const sequence = ++selectSequence;
    selectedRunId.value = runId;
    const view = await useLabApi().getRun({ runId });
    if (sequence !== selectSequence) return;
    run.value = view;
    if (compareRunId.value) await compareWith(compareRunId.value);
  }

  async function compareWith(runId: string | null): Promise<void> {
    compareRunId.value = runId;
    comparison.value = null;
    if (!runId || !selectedRunId.value) return;
    // A is the older run: "B against A" then reads as "what changed since" (a bundle's run is usually older).
    const [runA, runB] = [runId, selectedRunId.value].sort((a, b) => createdAtOf(a).localeCompare(createdAtOf(b)) || a.localeCompare(b));
    comparison.value = await useLabApi().compareRuns({ runA: runA ?? runId, runB: runB ?? runId });
  }

  function createdAtOf(runId: string): string {
    return runs.value.find((entry) => entry.runId === runId)?.createdAt ?? (run.value?.runId === runId ? run.value.createdAt : '');
  }

  /** Imports a bundle (verified first) and shows its newest run. */
  async function importBundle(file: string): Promise<BundleImportView> {
    const imported = await useLabApi().importBundle({ file });
    await load();
    const newest = imported.runs.at(-1);
    if (newest) await select(newest.runId);
    return imported;
  }

  /** The shown run, and the compared one when there is one: what Export and Report write. */
  const chosenRunIds = computed(() => [compareRunId.value, selectedRunId.value].filter((id): id is string => id !== null));

  function exportBundle(file: string): Promise<BundleExportView> {
    return useLabApi().exportBundle({ runIds: chosenRunIds.value, file });
  }

  function writeReport(file: string): Promise<{ file: string }> {
    return useLabApi().writeRunReport({ runIds: chosenRunIds.value, file });
  }

  function reset(): void {
    runs.value = [];
    loaded.value = false;
    selectedRunId.value = null;
    run.value = null;
    compareRunId.value = null;
    comparison.value = null;
  }

  // A finished experiment adds or completes a run: the list, and that run is what the user wants to read next.
  function applyEvent(event: LabApiEvent): void {
    if (event.type !== 'job-finished' || event.kind !== 'experiment' || !loaded.value) return;
    const finishedRun = event.result?.kind === 'experiment' ? event.result.runId : (event.error?.details?.runId as string | undefined);
    void load()
      .then(() => (finishedRun ? select(finishedRun) : undefined))
      .catch(() => undefined);
  }

  return { runs, loaded, filter, selectedRunId, run, compareRunId, comparison, visibleRuns, chosenRunIds, load, select, compareWith, importBundle, exportBundle, writeReport, reset, applyEvent };
});
