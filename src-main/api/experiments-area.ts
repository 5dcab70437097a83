// The Experiments requests of the LabApi: plan experiment text (cells, labs, a time estimate), run it as a
// job whose runner events become run events (live samples, per-run outcomes, state), and resume it. The
// runs list, a run's statistics and comparisons are the Results area's (results-area.ts).
import { CnlabError } from '../core/errors';
import { journalContext } from '../core/exec/command-journal';
import { parseExperimentText, type ExperimentSpec } from '../core/experiment/experiment-schema';
import type { ExperimentService } from '../core/experiment/experiment-service';
import type { RunEvent } from '../core/experiment/run-events';
import type { RunRecord } from '../core/experiment/run-store';
import { stringify } from 'yaml';
import { labNames } from '../core/topology/naming';
import type { TopologySpec } from '../core/topology/topology-schema';
import type { ExperimentPlanView, JobRef, LabDeviceNames, JobResult } from '../contract/lab-api';
import type { JobHandle, JobRegistry } from './job-registry';
import type { WorkspaceSession } from './workspace-session';

/** Measured on the testbed: a run's own overhead (servers, clients, samplers) and a lab's apply + teardown. */
const RUN_OVERHEAD_S = 1.5;
const LAB_OVERHEAD_S = 2;

function workloadSeconds(spec: ExperimentSpec): number {
  const duration = (spec.workload as { duration?: unknown }).duration;
  return typeof duration === 'number' ? duration : 1;
}

/** Bridge and VXLAN device names per network, as the mode drivers name them (core/topology/modes). */
function deviceNames(labId: string, topology: TopologySpec): LabDeviceNames[] {
  const names = labNames(labId);
  return topology.networks.map((network) => ({ network: network.name, bridge: names.link('b', network.name), vxlan: names.link('x', network.name) }));
}

function formatEta(ms: number | null): string {
  if (ms === null) return '';
  const seconds = Math.round(ms / 1000);
  return ` · about ${seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`} left`;
}

export class ExperimentsArea {
  constructor(
    private readonly session: () => WorkspaceSession,
    private readonly jobs: JobRegistry,
  ) {}

  private service(): ExperimentService {
    return this.session().experiments;
  }

  plan(text: string): ExperimentPlanView {
    const spec = parseExperimentText(text, 'experiment');
    const plan = this.service().plan(spec);
    const labs = plan.topologies.map((entry) => entry.labId).filter((labId): labId is string => labId !== null);
    return {
      name: spec.name,
      fingerprint: plan.fingerprint,
      seed: plan.seed,
      cells: plan.cells.map((cell) => ({ cellId: cell.id, caseLabel: cell.caseLabel })),
      totalRuns: plan.totalRuns,
      repetitions: spec.repetitions,
      labs,
      estimatedSeconds: Math.round(plan.totalRuns * (workloadSeconds(spec) + spec.cooldown + RUN_OVERHEAD_S) + labs.length * LAB_OVERHEAD_S),
    };
  }

  start(text: string): JobRef {
    const spec = parseExperimentText(text, 'experiment');
    // Refused here, before a job exists, when the file names unknown hosts or cannot be run.
    this.service().plan(spec);
    return this.runJob(`Run ${spec.name}`, spec.name, (options) => this.service().start(spec, options));
  }

  resume(runId: string): JobRef {
    if (runId.startsWith('imports/')) {
      throw new CnlabError('invalid-input', `run ${runId} came from an imported bundle and is read-only: re-run the bundle on your hosts with \`cnlab bundle rerun\` instead`);
    }
    return this.runJob(`Resume ${runId}`, runId, (options) => this.service().resume(runId, options));
  }

  private runJob(title: string, lab: string, run: (options: { signal: AbortSignal; onEvent: (event: RunEvent) => void }) => Promise<RunRecord>): JobRef {
    return this.jobs.start('experiment', title, (job) =>
      journalContext.run({ lab }, async (): Promise<JobResult> => {
        const record = await run({ signal: job.signal, onEvent: (event) => this.forward(job, event) });
        if (record.state === 'cancelled') {
          throw new CnlabError('cancelled', `run ${record.runId} was cancelled: resume it to run what is left`, { runId: record.runId });
        }
        return { kind: 'experiment', runId: record.runId, state: record.state };
      }),
    );
  }

  private forward(job: JobHandle, event: RunEvent): void {
    const { jobId } = job;
    switch (event.type) {
      case 'state':
        job.emit({ type: 'run-state', jobId, runId: event.runId, state: event.state, ...(event.detail ? { detail: event.detail } : {}) });
        return;
      case 'progress':
        job.progress(event.done, event.total, `${event.cellId}${event.warmup ? ' (warm-up)' : ''}${formatEta(event.etaMs)}`);
        job.emit({ type: 'run-progress', jobId, runId: event.runId, key: event.key, cellId: event.cellId, warmup: event.warmup, done: event.done, total: event.total, elapsedMs: event.elapsedMs, etaMs: event.etaMs });
        return;
      case 'result':
        job.emit({ type: 'run-outcome', jobId, runId: event.runId, key: event.key, cellId: event.cellId, warmup: event.warmup, outcome: 'result', metrics: event.metrics });
        return;
      case 'failure':
        job.emit({ type: 'run-outcome', jobId, runId: event.runId, key: event.key, cellId: event.cellId, warmup: event.warmup, outcome: 'failure', message: event.message });
        return;
      case 'samples':
        job.emit({ type: 'run-samples', jobId, runId: event.runId, key: event.key, samples: event.samples });
        return;
      case 'warning':
        job.emit({ type: 'run-warning', jobId, runId: event.runId, message: event.message, fix: event.fix });
        return;
      case 'lab':
        job.emit({ type: 'run-lab', jobId, runId: event.runId, caseLabel: event.caseLabel, labId: event.labId, topologyText: stringify(event.topology), containers: event.containers, devices: deviceNames(event.labId, event.topology) });
    }
  }
}
