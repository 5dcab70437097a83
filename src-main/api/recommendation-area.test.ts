// The recommendation over real run folders (written by the run store's format, as the runner leaves them):
// own and imported runs ranked, the order changing when a run with other numbers arrives, unfinished and
// damaged runs left out, each run read once while unchanged, and the advice naming the shipped study templates.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunFolder, RunStore, type ResultLine } from '../core/experiment/run-store';
import { listStudies } from '../core/studies/study-catalog';
import { syntheticRun, writeSyntheticRuns } from '../../tests/support/synthetic-runs';
import type { RecommendationPriorities, RecommendationView } from '../contract/lab-api';
import { RecommendationArea, studySuggestions } from './recommendation-area';
import type { WorkspaceSession } from './workspace-session';

const THROUGHPUT: RecommendationPriorities = { throughput: 2, latency: 0, isolation: 0, startup: 0, multiHost: 0, encryption: 0 };

let dir: string;
let area: RecommendationArea;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnlab-recommend-'));
  area = new RecommendationArea(() => ({ dir }) as WorkspaceSession);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const measuredOrder = (view: RecommendationView): string[] => view.ranked.filter((entry) => entry.excluded === null && entry.evidence.some((item) => item.certainty === 'measured' || item.certainty === 'uncertain')).map((entry) => entry.mode);

/** A synthetic run written through the run store, with macvlan's results scaled: a run where macvlan wins. */
async function writeRunWithMacvlanAt(factor: number, index: number): Promise<string> {
  const { record, lines } = syntheticRun(index);
  const folder = await new RunStore(dir).create('macvlan-faster', new Date(Date.UTC(2027, 0, 1, 0, index)));
  const macvlanCells = new Set(record.cells.filter((cell) => cell.caseLabel === 'macvlan').map((cell) => cell.index));
  const scaled = lines.map((line) => (line.type === 'result' && macvlanCells.has(line.cellIndex) ? ({ ...line, metrics: { ...line.metrics, throughputBitsPerSecond: (line.metrics.throughputBitsPerSecond ?? 0) * factor } } satisfies ResultLine) : line));
  await folder.saveRecord({ ...record, runId: folder.runId });
  await folder.appendSamples(scaled);
  return folder.runId;
}

describe('RecommendationArea', () => {
  it('ranks the modes of the workspace’s runs, naming each run and cell the evidence rests on', async () => {
    const ids = await writeSyntheticRuns(dir, 3);
    const view = await area.recommend(THROUGHPUT);
    // The synthetic levels: bridge 30, macvlan 26, vxlan 9 Gbit/s, bridge being the runs' baseline.
    expect(measuredOrder(view)).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect(view.basis).toEqual({ runs: 3, modes: 3 });
    const vxlan = view.ranked.find((entry) => entry.mode === 'vxlan');
    expect(vxlan?.evidence[0]?.summary).toMatch(/^−70\.\d % throughput vs bridge \(95% CI /);
    expect(vxlan?.evidence[0]?.runs.map((run) => run.runId)).toEqual(ids);
    expect(vxlan?.evidence[0]?.runs[0]?.cells).toEqual(['vxlan blockSize=1400', 'vxlan blockSize=65536']);
    expect(vxlan?.evidence[0]?.certainty).toBe('measured');
  });

  it('changes the recommendation when a run with other numbers arrives, reading only that run again', async () => {
    await writeSyntheticRuns(dir, 2);
    expect(measuredOrder(await area.recommend(THROUGHPUT))[0]).toBe('bridge');
    const reads = vi.spyOn(RunFolder.prototype, 'readRecord');
    expect(measuredOrder(await area.recommend(THROUGHPUT))[0]).toBe('bridge');
    expect(reads).not.toHaveBeenCalled();

    // macvlan at 2.5 × its level (65 Gbit/s) outweighs its −13 % in the two earlier runs.
    const newRun = await writeRunWithMacvlanAt(2.5, 2);
    const after = await area.recommend(THROUGHPUT);
    expect(measuredOrder(after)).toEqual(['macvlan', 'bridge', 'vxlan']);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(after.ranked[0]?.evidence[0]?.runs.map((run) => run.runId)).toContain(newRun);
  });

  it('reads imported bundles’ runs under their imports/ ids, counting a run imported back into its workspace once', async () => {
    const [own] = await writeSyntheticRuns(dir, 1);
    const bundleRuns = join(dir, 'imports', 'colleague', 'runs');
    await mkdir(bundleRuns, { recursive: true });
    // The same run (exported and imported back), and one of the colleague's own.
    await cp(join(dir, 'runs', own ?? ''), join(bundleRuns, own ?? ''), { recursive: true });
    const other = syntheticRun(7);
    await mkdir(join(bundleRuns, other.record.runId));
    await writeFile(join(bundleRuns, other.record.runId, 'run.json'), JSON.stringify(other.record));
    await writeFile(join(bundleRuns, other.record.runId, 'samples.jsonl'), other.lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const view = await area.recommend(THROUGHPUT);
    expect(view.basis.runs).toBe(2);
    expect(view.ranked.find((entry) => entry.mode === 'macvlan')?.evidence[0]?.runs.map((run) => run.runId)).toEqual([own, `imports/colleague/${other.record.runId}`]);
  });

  it('leaves out runs still running, runs without results and damaged runs', async () => {
    const [finished] = await writeSyntheticRuns(dir, 1);
    const running = syntheticRun(1);
    const store = new RunStore(dir);
    const live = await store.create('live', new Date(Date.UTC(2027, 1, 1)));
    // A running record whose runner (another live process) is still writing it.
    await live.saveRecord({ ...running.record, runId: live.runId, state: 'running', runnerPid: process.ppid, finishedAt: null });
    await live.appendSamples(running.lines);
    const empty = await store.create('empty', new Date(Date.UTC(2027, 1, 2)));
    await empty.saveRecord({ ...running.record, runId: empty.runId, state: 'failed' });
    const damaged = await store.create('damaged', new Date(Date.UTC(2027, 1, 3)));
    await writeFile(join(damaged.dir, 'run.json'), '{ not json');
    const view = await area.recommend(THROUGHPUT);
    expect(view.basis.runs).toBe(1);
    expect(view.ranked.find((entry) => entry.mode === 'bridge')?.evidence[0]?.runs.map((run) => run.runId)).toEqual([finished]);
  });

  it('with no runs, says which of the shipped study templates to run', async () => {
    const view = await area.recommend({ ...THROUGHPUT, startup: 1, multiHost: 1 });
    expect(view.basis).toEqual({ runs: 0, modes: 0 });
    expect(view.advice[0]).toMatch(/no finished runs yet/);
    const throughput = view.advice.find((line) => line.startsWith('No throughput measured in this workspace'));
    expect(throughput).toMatch(/run study suo2018-fig4 part throughput \(/);
    expect(throughput).toContain('study claassen2016-drivers (');
    expect(view.advice.find((line) => line.startsWith('No launch time measured'))).toMatch(/run study suo2018-table6 \(/);
  });

  it('describes each shipped study part by the modes it compares and what it measures', async () => {
    const suggestions = studySuggestions(await listStudies());
    const claassen = suggestions.find((item) => item.ref === 'study claassen2016-drivers');
    expect(claassen).toMatchObject({ modes: ['bridge', 'macvlan', 'ipvlan'], criteria: ['throughput'], acrossHosts: false });
    const fig4Latency = suggestions.find((item) => item.ref === 'study suo2018-fig4 part latency');
    expect(fig4Latency).toMatchObject({ criteria: ['latency'], acrossHosts: true });
    expect(fig4Latency?.modes).toEqual(expect.arrayContaining(['baseline', 'host', 'vxlan', 'vxlan (docker)', 'routed']));
  });
});
