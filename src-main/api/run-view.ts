// A run as the page and the report see it: the record's experiment in the contract's terms and the
// per-cell statistics computed in core. Pure; shared by the Results view's requests and report.html.
import type { ExperimentSpec } from '../core/experiment/experiment-schema';
import type { RunDetails } from '../core/experiment/experiment-service';
import { studyComparisonOfRun } from '../core/studies/study-catalog';
import type { RunView } from '../contract/lab-api';

/** The workload's scalar parameters (all of them are: the schema has no nested fields). */
export function workloadView(workload: ExperimentSpec['workload']): RunView['workload'] {
  return Object.fromEntries(Object.entries(workload).filter((entry): entry is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof entry[1])));
}

export function runViewOf(details: RunDetails): RunView {
  const { record } = details;
  const cellOf = new Map(record.cells.map((cell) => [cell.index, cell.id]));
  return {
    runId: record.runId,
    name: record.experiment.name,
    state: details.state,
    createdAt: record.createdAt,
    workload: workloadView(record.experiment.workload),
    axes: [...new Set(record.cells.flatMap((cell) => Object.keys(cell.axisValues)))],
    modes: record.experiment.modes.map((entry) => ({ label: entry.label, mode: entry.mode })),
    baseline: record.experiment.baseline ?? null,
    repetitions: record.experiment.repetitions,
    cells: details.cells,
    failures: details.failures.map((failure) => ({ key: failure.key, cellId: cellOf.get(failure.cellIndex) ?? '', message: failure.error.message })),
  };
}

/** runViewOf with the study comparison, for the Results view and report.html. */
export async function runViewWithStudy(details: RunDetails): Promise<RunView> {
  return { ...runViewOf(details), study: await studyComparisonOfRun(details) };
}
