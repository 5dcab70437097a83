// The experiment runner in process on the testbed: a failing load generator becomes a failed run
// with its reason (not a hang), live events arrive throttled with progress and ETA, and the other
// workload shapes (baseline w/o container, sockperf latency, scalability pairs, interference,
// launch time) produce plausible per-cell statistics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseLabId, runLabTag } from '../../src-main/core/experiment/cell-topology';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { experimentFromData } from '../../src-main/core/experiment/experiment-schema';
import type { RunEvent } from '../../src-main/core/experiment/run-events';
import { LabService } from '../../src-main/core/topology/lab-service';
import { experimentLeftovers } from '../support/lab-checks';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let experiments: ExperimentService;

function spec(name: string, body: Record<string, unknown>) {
  return experimentFromData({ v: 1, kind: 'experiment', name, hosts: ['h1', 'h2'], placement: { server: 'h1', client: 'h2' }, warmup: 0, cooldown: 0, ...body }, name);
}

const leftovers = (): Promise<string[]> => experimentLeftovers(testbed);

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  experiments = new ExperimentService(fixture.service, labs, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('failures and live events', () => {
  it('an iperf3 server killed mid-run fails that run with the reason; the next run still measures', async () => {
    const events: RunEvent[] = [];
    let killed: string | null = null;
    const started = Date.now();
    const record = await experiments.start(spec('killed', { modes: ['vxlan'], workload: { tool: 'iperf3', duration: 6 }, repetitions: 2, randomize: false }), {
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'samples' && event.key === '0.r1' && killed === null) {
          killed = 'pending';
          // The one-off server this run started on h1: killed by its PID, as a crash would.
          void testbed.hostExec('h1', ['sh', '-c', 'for pid in $(pgrep -x iperf3); do kill -KILL "$pid" && echo "$pid"; done']).then((result) => (killed = result.stdout.trim()));
        }
      },
    });
    expect(killed).toMatch(/^\d+/);
    expect(record.state).toBe('completed');
    expect(Date.now() - started).toBeLessThan(60_000);
    const details = await experiments.show(record.runId);
    expect(details.failures.map((failure) => failure.key)).toEqual(['0.r1']);
    expect(details.failures[0]?.error.message).toMatch(/iperf3/);
    expect(details.cells[0]?.runs).toBe(1);
    expect(details.cells[0]?.metrics.throughputBitsPerSecond?.median).toBeGreaterThan(100e6);

    const progress = events.filter((event) => event.type === 'progress');
    expect(progress.map((event) => [event.done, event.total])).toEqual([[0, 2], [0, 2]]);
    expect(progress[1]?.etaMs).toBeGreaterThan(0);
    // Batched: a 6 s run with several per-second metrics gives far fewer events than samples.
    const batches = events.filter((event) => event.type === 'samples');
    const samples = batches.reduce((sum, event) => sum + event.samples.length, 0);
    expect(batches.length).toBeLessThan(samples);
    expect(batches.flatMap((event) => event.samples).some((sample) => sample.metric === 'cpuPercent' && sample.source === 'h1')).toBe(true);
    expect(await leftovers()).toEqual([]);
  }, 90_000);

  it('a cancelled run is recorded as cancelled and tears its lab down', async () => {
    const controller = new AbortController();
    const record = await experiments.start(spec('cancelled', { modes: ['macvlan'], workload: { tool: 'iperf3', duration: 20 }, repetitions: 1 }), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'samples') controller.abort();
      },
    });
    expect(record.state).toBe('cancelled');
    expect(await leftovers()).toEqual([]);
  }, 60_000);
});

describe('adaptive repetitions', () => {
  it('adds repetitions while the interval is wider than the target, up to the maximum', async () => {
    // A ±0.01% target no ping RTT meets: the cell must grow from 2 to the maximum of 4 and stop there.
    const record = await experiments.start(spec('adaptive', { modes: ['macvlan'], workload: { tool: 'ping', count: 3, interval: 0.2 }, repetitions: 2, adaptive: { targetRelativeHalfWidth: 0.0001, maxRepetitions: 4 } }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells } = await experiments.show(record.runId);
    expect(cells[0]?.runs).toBe(4);
    expect(cells[0]?.metrics.rttAvgMs?.n).toBe(4);
    expect(await leftovers()).toEqual([]);
  }, 90_000);
});

describe('workload shapes', () => {
  it('compares containers with the hosts themselves (baseline) on sockperf latency with pooled percentiles', async () => {
    const record = await experiments.start(spec('latency', { modes: ['baseline', 'macvlan'], baseline: 'baseline', workload: { tool: 'sockperf', duration: 1 }, repetitions: 2 }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells } = await experiments.show(record.runId);
    for (const cell of cells) {
      const latency = cell.metrics.latencyMeanUs?.median ?? 0;
      expect(latency, cell.cellId).toBeGreaterThan(1);
      expect(latency, cell.cellId).toBeLessThan(10_000);
      expect(cell.percentiles.latencyUs?.n, cell.cellId).toBeGreaterThan(100);
    }
    const macvlan = cells.find((cell) => cell.caseLabel === 'macvlan');
    expect(macvlan?.baseline?.label).toBe('baseline');
    expect(Number.isFinite(macvlan?.baseline?.comparison?.percentChange)).toBe(true);
  }, 90_000);

  it('runs concurrent pairs and sums their throughput', async () => {
    const record = await experiments.start(spec('scale', { modes: ['vxlan'], workload: { tool: 'iperf3', duration: 1 }, pairs: [1, 2], repetitions: 1 }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells } = await experiments.show(record.runId);
    expect(cells.map((cell) => cell.cellId)).toEqual(['vxlan pairs=1', 'vxlan pairs=2']);
    expect(cells[1]?.metrics.pairs?.median).toBe(2);
    for (const cell of cells) expect(cell.metrics.throughputBitsPerSecond?.median ?? 0, cell.cellId).toBeGreaterThan(100e6);
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('loads the server host with interference containers while it measures', async () => {
    // Host CPU % is machine-wide here (other tests run beside this one), so the load is checked where it
    // runs: the busy loop's processes inside the neighbour's namespace during the loaded cell only.
    const pidsSeen = new Map<string, Promise<string>>();
    const record = await experiments.start(
      spec('noise', { modes: [{ mode: 'bridge', placement: { server: 'h1', client: 'h1' } }], workload: { tool: 'ping', count: 10, interval: 0.2 }, interference: { containers: [0, 1] }, repetitions: 1, randomize: false }),
      {
        onEvent: (event) => {
          if (event.type !== 'samples' || pidsSeen.has(event.key)) return;
          const netns = `cnl-${caseLabId(runLabTag(event.runId), 0)}-load1`;
          pidsSeen.set(event.key, testbed.hostExec('h1', ['ip', 'netns', 'pids', netns]).then((result) => result.stdout.trim()));
        },
      },
    );
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells } = await experiments.show(record.runId);
    expect(cells.map((cell) => cell.cellId)).toEqual(['bridge interferers=0', 'bridge interferers=1']);
    expect(cells[1]?.metrics.interferers?.median).toBe(1);
    expect(await pidsSeen.get('0.r1')).toBe('');
    expect(await pidsSeen.get('1.r1')).toMatch(/^\d+/);
    expect(await leftovers()).toEqual([]);
  }, 120_000);
});
