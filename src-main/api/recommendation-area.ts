// The recommendation request of the LabApi: network modes ranked by the user's priorities from this
// workspace's measured runs (own and imported), with the study templates the advice may name. Reads each
// finished run once and keeps what the ranking needs of it while its files are unchanged, so asking again
// with other priorities, or after one more run, costs a stat per run.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { importedRunStore, listImportedBundles } from '../core/bundle/bundle-import';
import { measuredValues } from '../core/experiment/cell-summary';
import { listRunsIn } from '../core/experiment/experiment-service';
import { expandCells } from '../core/experiment/matrix';
import { RunStore, type RunFolder } from '../core/experiment/run-store';
import { measureOf, modeKey, recommend, type MeasuredCriterion, type RecommendationCellInput, type RecommendationRunInput, type SuggestedExperiment } from '../core/recommendation/recommend';
import { summarize } from '../core/stats';
import { listStudies } from '../core/studies/study-catalog';
import type { StudyTemplate } from '../core/studies/study-schema';
import { primaryMetric } from '../core/workloads/workload-params';
import type { RecommendationPriorities, RecommendationView } from '../contract/lab-api';
import { importedRunRef } from './run-library';
import type { WorkspaceSession } from './workspace-session';

/** Runs read at once: enough to keep the disk busy, few enough not to hold many sample files in memory. */
const READ_CONCURRENCY = 8;

interface RunSource {
  folder: RunFolder;
  /** The id the Results view uses for it. */
  ref: string;
}

/**
 * What a run's ranking input depends on: its record and its samples, by size and mtime. Synchronous, as
 * run-listing-index.ts does: thousands of stats in a loop cost a third of as many trips through the thread pool.
 */
function runStamp(folder: RunFolder): string {
  return ['run.json', 'samples.jsonl']
    .map((name) => {
      try {
        const info = statSync(join(folder.dir, name));
        return `${info.size}:${info.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('/');
}

/** A run as the ranking reads it: its cases and, per cell, the primary metric summarised over the measured repetitions. */
async function readRunInput(source: RunSource): Promise<RecommendationRunInput> {
  const record = await source.folder.readRecord();
  // Live lines are most of a sample file and never count; raw samples are read but not pooled (no percentiles here).
  const lines = await source.folder.readSamples({ skipLive: true });
  const cells: RecommendationCellInput[] = record.cells.map((cell) => {
    const primary = primaryMetric(cell.params);
    const values = measuredValues(lines, cell, primary.name);
    const metrics: RecommendationCellInput['metrics'] = {};
    if (values.length > 0) {
      const { n, mean, stdDev, ci95, noisy } = summarize(values, { label: `${record.runId} ${cell.id} ${primary.name}` });
      metrics[primary.name] = { n, mean, stdDev, ci95, noisy };
    }
    return { cellId: cell.id, caseLabel: cell.caseLabel, axisValues: cell.axisValues, params: cell.params, primary, metrics };
  });
  const { modes, workload, placement, baseline } = record.experiment;
  return { runId: source.ref, name: record.experiment.name, experiment: { modes, workload, placement, baseline }, cells };
}

/** What each shipped study template's parts would measure, for the advice. */
export function studySuggestions(studies: readonly StudyTemplate[]): SuggestedExperiment[] {
  return studies.flatMap((study) =>
    study.parts.flatMap((part) => {
      const spec = part.experiment;
      const criteria = new Set<MeasuredCriterion>();
      for (const cell of expandCells(spec)) {
        const measure = measureOf(cell.params, primaryMetric(cell.params));
        if (measure) criteria.add(measure.criterion);
      }
      const modes = [...new Set(spec.modes.map(modeKey))];
      // A part with one case compares no modes (interference, scalability of one network).
      if (criteria.size === 0 || modes.length < 2) return [];
      return [{ ref: study.parts.length > 1 ? `study ${study.id} part ${part.name}` : `study ${study.id}`, modes, criteria: [...criteria], acrossHosts: spec.modes.some((entry) => entry.placement.server !== entry.placement.client) }];
    }),
  );
}

export class RecommendationArea {
  /** Per run folder: its input while its files keep the same stamp. */
  private readonly cache = new Map<string, { stamp: string; input: RecommendationRunInput }>();

  constructor(
    private readonly session: () => WorkspaceSession,
    private readonly studies: () => Promise<readonly StudyTemplate[]> = () => listStudies(),
  ) {}

  async recommend(priorities: RecommendationPriorities): Promise<RecommendationView> {
    // Without the templates (a build without resources/studies) the advice names cnlab's examples instead.
    const [runs, studies] = await Promise.all([this.readRuns(this.session().dir), this.studies().catch(() => [])]);
    return recommend(runs, priorities, { experiments: studySuggestions(studies) });
  }

  /** Own runs, then each imported bundle's: the finished and partly finished ones with results, each once. */
  private async sources(workspaceDir: string): Promise<RunSource[]> {
    const stores = [{ store: new RunStore(workspaceDir), ref: (runId: string) => runId }];
    for (const bundle of await listImportedBundles(workspaceDir)) stores.push({ store: importedRunStore(workspaceDir, bundle), ref: (runId) => importedRunRef(bundle, runId) });
    const sources: RunSource[] = [];
    const seen = new Set<string>();
    for (const { store, ref } of stores) {
      // The listing comes from runs/index.json: a stat per run, not a read, for the runs to skip.
      for (const listing of await listRunsIn(store)) {
        // A run in progress is still changing; one without a result has nothing to say.
        if (listing.state === 'running' || listing.results === 0) continue;
        // A run exported and imported back into its own workspace counts once (own runs come first).
        const identity = `${listing.runId} ${listing.createdAt}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        sources.push({ folder: store.folderOf(listing.runId), ref: ref(listing.runId) });
      }
    }
    return sources;
  }

  private async readRuns(workspaceDir: string): Promise<RecommendationRunInput[]> {
    const sources = await this.sources(workspaceDir);
    const inputs: (RecommendationRunInput | null)[] = new Array<RecommendationRunInput | null>(sources.length).fill(null);
    // Stamps are taken before reading: a run changing meanwhile is read again next time.
    const stale: { index: number; source: RunSource; stamp: string }[] = [];
    sources.forEach((source, index) => {
      const stamp = runStamp(source.folder);
      const cached = this.cache.get(source.folder.dir);
      if (cached && cached.stamp === stamp) inputs[index] = cached.input;
      else stale.push({ index, source, stamp });
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let item = stale[next++]; item; item = stale[next++]) {
        try {
          const input = await readRunInput(item.source);
          this.cache.set(item.source.folder.dir, { stamp: item.stamp, input });
          inputs[item.index] = input;
        } catch {
          // A damaged run (or one from a newer cnlab) is left out, as the runs list leaves it out.
          this.cache.delete(item.source.folder.dir);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, stale.length) }, worker));
    // Runs deleted since (or of a workspace no longer open) are forgotten.
    const wanted = new Set(sources.map((source) => source.folder.dir));
    for (const dir of this.cache.keys()) if (!wanted.has(dir)) this.cache.delete(dir);
    return inputs.filter((input): input is RecommendationRunInput => input !== null);
  }
}
