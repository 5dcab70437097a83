// Many finished runs in a workspace without measuring them: each is written by the real run store from a
// real plan (bridge vs macvlan vs vxlan, iperf3 at two sizes), with results drawn around a per-mode level.
// For the runs list and Results view at scale (10,000 runs), where running them for real would take days.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { experimentFingerprint, parseExperimentText } from '../../src-main/core/experiment/experiment-schema';
import { planRuns } from '../../src-main/core/experiment/matrix';
import { newRunRecord, type RunRecord, type SampleLine } from '../../src-main/core/experiment/run-store';

const SYNTHETIC_EXPERIMENT = `v: 1
kind: experiment
name: synthetic
hosts: [h1, h2]
placement: { server: h1, client: h2 }
modes:
  - { mode: bridge, placement: { server: h1, client: h1 } }
  - macvlan
  - vxlan
workload: { tool: iperf3, protocol: tcp, duration: 3 }
axes: { blockSize: [1400, 65536] }
repetitions: 2
warmup: 1
baseline: bridge
`;

const LEVEL_GBITS: Record<string, number> = { bridge: 30, macvlan: 26, vxlan: 9 };

/** A deterministic pseudo-random stream (so fixtures are the same on every machine). */
function jitter(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

function runLines(plan: ReturnType<typeof planRuns>, index: number, startedAt: string): SampleLine[] {
  const random = jitter(index + 1);
  const lines: SampleLine[] = [];
  for (const block of plan.blocks) {
    for (const run of block.runs) {
      const cell = plan.cells[run.cellIndex];
      const level = (LEVEL_GBITS[cell?.caseLabel ?? ''] ?? 10) * 1e9 * (cell?.axisValues.blockSize === 1400 ? 0.6 : 1);
      const value = level * (1 + random() * 0.06);
      for (let t = 1; t <= 3; t++) lines.push({ type: 'live', key: run.key, t, metric: 'throughputBitsPerSecond', value: value * (1 + random() * 0.02), source: 'pair1/pair' });
      lines.push({ type: 'result', key: run.key, cellIndex: run.cellIndex, repetition: run.repetition, warmup: run.warmup, startedAt, durationMs: 4200, metrics: { throughputBitsPerSecond: value, bytes: (value * 3) / 8, cpuServerPercent: 40 + random() * 10, cpuClientPercent: 35 + random() * 10 } });
    }
  }
  return lines;
}

/** Run number `index` of a synthetic series: a completed record and its lines. */
export function syntheticRun(index: number): { record: RunRecord; lines: SampleLine[] } {
  const spec = parseExperimentText(SYNTHETIC_EXPERIMENT, 'synthetic');
  const plan = planRuns(spec, 7);
  const createdAt = new Date(Date.UTC(2026, 0, 1) + index * 60_000).toISOString();
  const runId = `${createdAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-synthetic-${index}`;
  const fields = { runId, experimentFile: null, experiment: spec, fingerprint: experimentFingerprint(spec), hostMap: { h1: 'h1', h2: 'h2' }, cnlabVersion: 'synthetic', seed: plan.seed, cells: plan.cells, blocks: plan.blocks };
  return { record: { ...newRunRecord(fields, createdAt), state: 'completed', finishedAt: createdAt }, lines: runLines(plan, index, createdAt) };
}

/** Writes `count` completed runs under `workspaceDir/runs/`; returns their ids, oldest first. */
export async function writeSyntheticRuns(workspaceDir: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const { record, lines } = syntheticRun(index);
    const dir = join(workspaceDir, 'runs', record.runId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), `${JSON.stringify(record)}\n`);
    await writeFile(join(dir, 'samples.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    ids.push(record.runId);
  }
  return ids;
}
