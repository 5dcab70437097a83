// What a running experiment tells its subscribers (CLI progress bar, UI charts): state changes,
// progress with ETA, per-run results, and live per-second samples batched so a busy run with many
// interfaces never floods a subscriber (at most one samples event per interval).
import type { PlannedContainer } from '../topology/plan';
import type { TopologySpec } from '../topology/topology-schema';
import type { LiveSample } from '../workloads/workload-context';
import type { RunState } from './run-store';

export type RunEvent =
  | { type: 'state'; runId: string; state: RunState | 'preflight' | 'applying' | 'tearing-down'; detail?: string }
  | { type: 'progress'; runId: string; done: number; total: number; key: string; cellId: string; warmup: boolean; elapsedMs: number; etaMs: number | null }
  | { type: 'result'; runId: string; key: string; cellId: string; warmup: boolean; metrics: Record<string, number> }
  | { type: 'failure'; runId: string; key: string; cellId: string; warmup: boolean; message: string }
  | { type: 'samples'; runId: string; key: string; samples: LiveSample[] }
  | { type: 'warning'; runId: string; message: string; fix: string }
  /** A case's lab is applied: what a live diagram draws and where its link counters belong. */
  | { type: 'lab'; runId: string; caseLabel: string; labId: string; topology: TopologySpec; containers: PlannedContainer[] };

export type RunEventListener = (event: RunEvent) => void;

/** Collects live samples and hands them on in batches, every `intervalMs` at most. */
export class SampleBatcher {
  private pending: LiveSample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deliver: (samples: LiveSample[]) => void,
    private readonly intervalMs = 250,
  ) {}

  push(sample: LiveSample): void {
    this.pending.push(sample);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.deliver(batch);
  }
}

/** ETA from the mean duration of the runs done in this session (earlier sessions' runs had other costs). */
export function estimateRemainingMs(durationsMs: readonly number[], remaining: number): number | null {
  if (durationsMs.length === 0) return null;
  const mean = durationsMs.reduce((sum, value) => sum + value, 0) / durationsMs.length;
  return Math.round(mean * remaining);
}
