// Expands an experiment into cells (case × every combination of axis values × pairs × interferers)
// and orders its runs: blocked per case so each topology is applied once, warm-ups first within a
// block, then the measured runs of all the block's cells shuffled by a seeded generator.
import { CnlabError } from '../errors';
import { workloadSchema, type WorkloadParams } from '../workloads/workload-params';
import { patternOf, type ExperimentSpec } from './experiment-schema';

export type AxisValue = string | number | boolean;

export interface Cell {
  index: number;
  /** Stable, readable id: "vxlan blockSize=1K pairs=2". */
  id: string;
  caseLabel: string;
  params: WorkloadParams;
  /** The values that make this cell (workload axes plus pairs, or containers, and interferers when they vary). */
  axisValues: Record<string, AxisValue>;
  /** N: concurrent pairs, or with pattern all-to-all the number of containers. */
  pairs: number;
  interferers: number;
}

export interface PlannedRun {
  /** Unique within the run: "<cell>.w<k>" for warm-ups, "<cell>.r<k>" for measured repetitions. */
  key: string;
  cellIndex: number;
  repetition: number;
  warmup: boolean;
}

export interface RunBlock {
  caseLabel: string;
  runs: PlannedRun[];
}

export interface RunPlan {
  cells: Cell[];
  blocks: RunBlock[];
  seed: number;
}

/** Every combination of the axes, in file order (the last axis varies fastest). */
export function combinations(axes: Readonly<Record<string, readonly AxisValue[]>>): Record<string, AxisValue>[] {
  let result: Record<string, AxisValue>[] = [{}];
  for (const [axis, values] of Object.entries(axes)) {
    result = result.flatMap((partial) => values.map((value) => ({ ...partial, [axis]: value })));
  }
  return result;
}

/** mulberry32: small, fast and good enough to shuffle run orders repeatably. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

export function runKey(cellIndex: number, warmup: boolean, repetition: number): string {
  return `${cellIndex}.${warmup ? 'w' : 'r'}${repetition}`;
}

function cellId(caseLabel: string, values: Record<string, AxisValue>): string {
  return [caseLabel, ...Object.entries(values).map(([axis, value]) => `${axis}=${String(value)}`)].join(' ');
}

/** The workload of one cell, validated as a whole: values fine one by one can still clash together. */
function cellParams(spec: ExperimentSpec, label: string, values: Record<string, AxisValue>, workloadValues: Record<string, AxisValue>): WorkloadParams {
  const parsed = workloadSchema.safeParse({ ...spec.workload, ...workloadValues });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CnlabError('invalid-input', `cell ${cellId(label, values)}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid workload'}: change the axes so every combination is valid`);
}

/** The axis that varies N: pairs, or containers for all-to-all (where N counts containers, not pairs). */
export function scaleAxis(spec: Pick<ExperimentSpec, 'pattern'>): 'pairs' | 'containers' {
  return patternOf(spec) === 'all-to-all' ? 'containers' : 'pairs';
}

export function expandCells(spec: ExperimentSpec): Cell[] {
  const axes: Record<string, readonly AxisValue[]> = { ...spec.axes };
  const scale = scaleAxis(spec);
  if (spec.pairs.length > 1) axes[scale] = spec.pairs;
  if (spec.interference) axes.interferers = spec.interference.containers;
  const combos = combinations(axes);
  const cells: Cell[] = [];
  for (const entry of spec.modes) {
    for (const values of combos) {
      const { [scale]: count, interferers, ...workloadValues } = values;
      cells.push({
        index: cells.length,
        id: cellId(entry.label, values),
        caseLabel: entry.label,
        params: cellParams(spec, entry.label, values, workloadValues),
        axisValues: values,
        pairs: typeof count === 'number' ? count : (spec.pairs[0] ?? 1),
        interferers: typeof interferers === 'number' ? interferers : 0,
      });
    }
  }
  return cells;
}

export function planRuns(spec: ExperimentSpec, seed: number): RunPlan {
  const cells = expandCells(spec);
  const random = seededRandom(seed);
  const order = spec.randomize ? shuffled(spec.modes, random) : spec.modes;
  const blocks = order.map((entry): RunBlock => {
    const blockCells = cells.filter((cell) => cell.caseLabel === entry.label);
    const warmups = blockCells.flatMap((cell) => Array.from({ length: spec.warmup }, (_, k) => ({ key: runKey(cell.index, true, k + 1), cellIndex: cell.index, repetition: k + 1, warmup: true })));
    const measured = blockCells.flatMap((cell) => Array.from({ length: spec.repetitions }, (_, k) => ({ key: runKey(cell.index, false, k + 1), cellIndex: cell.index, repetition: k + 1, warmup: false })));
    return { caseLabel: entry.label, runs: spec.randomize ? [...shuffled(warmups, random), ...shuffled(measured, random)] : [...warmups, ...measured] };
  });
  return { cells, blocks, seed };
}
