// Scalability on the testbed (Fig 9 of Suo et al.): iperf3 with 8 concurrent pairs across hosts, more than
// one command per server and per client would fit in a host's SSH channels, and all-to-all among 4
// containers (12 flows); both batched as one server command and one client command per host. Checks the
// aggregate, the flow counts, that commands.log holds exactly those batched commands, and that nothing is
// left on the hosts (namespaces, iperf3 processes, temp dirs), also after a cancel mid-transfer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { experimentFromData } from '../../src-main/core/experiment/experiment-schema';
import { LabService } from '../../src-main/core/topology/lab-service';
import { experimentLeftovers } from '../support/lab-checks';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let experiments: ExperimentService;

function spec(name: string, body: Record<string, unknown>) {
  return experimentFromData({ v: 1, kind: 'experiment', name, hosts: ['h1', 'h2'], placement: { server: 'h1', client: 'h2' }, warmup: 0, cooldown: 0, repetitions: 1, ...body }, name);
}

const leftovers = (): Promise<string[]> => experimentLeftovers(testbed);

/** commands.log lines of one run key: [host, command]. */
async function commandsOf(runId: string, key: string): Promise<[string, string][]> {
  const folder = await experiments.store.open(runId);
  const text = await readFile(join(folder.dir, 'commands.log'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields[1] === key)
    .map((fields) => [fields[2] ?? '', fields[5] ?? '']);
}

const mbps = (value: number | undefined): string => `${((value ?? 0) / 1e6).toFixed(0)} Mbit/s`;

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

describe('scalability', () => {
  it('runs 1 and 8 concurrent iperf3 pairs across hosts, the 8 batched in one command per host and side', async () => {
    const record = await experiments.start(spec('scale8', { modes: ['vxlan'], workload: { tool: 'iperf3', duration: 3 }, pairs: [1, 8], randomize: false }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells } = await experiments.show(record.runId);
    expect(cells.map((cell) => cell.cellId)).toEqual(['vxlan pairs=1', 'vxlan pairs=8']);
    const [one, eight] = cells;
    // A failed run's reason in the assertion: under load this is the place to see what went wrong.
    expect(cells.flatMap((cell) => cell.failures.map((failure) => `${cell.cellId} ${failure.key}: ${failure.message}`))).toEqual([]);
    expect(eight?.metrics.pairs?.median).toBe(8);
    expect(eight?.metrics.flows?.median).toBe(8);
    for (const cell of cells) expect(cell.metrics.throughputBitsPerSecond?.median ?? 0, cell.cellId).toBeGreaterThan(100e6);
    const fairness = eight?.metrics.fairnessIndex?.median ?? 0;
    expect(fairness).toBeGreaterThan(0.125);
    expect(fairness).toBeLessThanOrEqual(1);
    expect(eight?.metrics.minFlowBitsPerSecond?.median ?? 0).toBeLessThanOrEqual(eight?.metrics.maxFlowBitsPerSecond?.median ?? 0);
    console.info(`vxlan iperf3 aggregate: 1 pair ${mbps(one?.metrics.throughputBitsPerSecond?.median)}, 8 pairs ${mbps(eight?.metrics.throughputBitsPerSecond?.median)} (fairness ${fairness.toFixed(3)})`);

    // One command for the 8 servers on h1, one for the 8 clients on h2 (plus the clients' temp dir).
    const batched = (await commandsOf(record.runId, '1.r1')).filter(([, command]) => command.includes('iperf3'));
    expect(batched.map(([host, command]) => `${host} ${command.includes('iperf3-servers') ? 'servers' : command.includes('iperf3-clients') ? 'clients' : command.split(' ')[0] ?? ''}`).sort()).toEqual(['h1 servers', 'h2 clients', 'h2 mktemp', 'h2 rm']);
    expect(await leftovers()).toEqual([]);
  }, 180_000);

  it('runs all-to-all among 4 containers on two hosts: 12 flows', async () => {
    const record = await experiments.start(spec('a2a', { modes: ['vxlan'], workload: { tool: 'iperf3', duration: 3 }, pattern: 'all-to-all', pairs: [4] }));
    expect(record.state, record.error ?? '').toBe('completed');
    expect((record.topologies[0]?.containers as { name: string; host: string }[] | undefined)?.map((container) => `${container.name}@${container.host}`).sort()).toEqual(['node1@h1', 'node2@h2', 'node3@h1', 'node4@h2']);
    const { cells } = await experiments.show(record.runId);
    const [cell] = cells;
    expect(cell?.metrics.flows?.median).toBe(12);
    expect(cell?.metrics.containers?.median).toBe(4);
    expect(cell?.metrics.throughputBitsPerSecond?.median ?? 0).toBeGreaterThan(100e6);
    console.info(`vxlan iperf3 all-to-all 4 containers: aggregate ${mbps(cell?.metrics.throughputBitsPerSecond?.median)} over 12 flows (fairness ${(cell?.metrics.fairnessIndex?.median ?? 0).toFixed(3)})`);
    // Each host runs its servers in one command and its clients in one.
    const scripts = (await commandsOf(record.runId, '0.r1')).filter(([, command]) => command.includes('iperf3-servers') || command.includes('iperf3-clients'));
    expect(scripts.map(([host, command]) => `${host} ${command.includes('iperf3-servers') ? 'servers' : 'clients'}`).sort()).toEqual(['h1 clients', 'h1 servers', 'h2 clients', 'h2 servers']);
    expect(await leftovers()).toEqual([]);
  }, 180_000);

  it('cancel mid-transfer of 8 batched pairs kills every iperf3 and removes the temp dir', async () => {
    const controller = new AbortController();
    const record = await experiments.start(spec('scale-cancel', { modes: ['vxlan'], workload: { tool: 'iperf3', duration: 20 }, pairs: [8] }), {
      signal: controller.signal,
      // The first per-second sum over all 8 flows: every client is transferring.
      onEvent: (event) => {
        if (event.type === 'samples' && event.samples.some((sample) => sample.source === 'flows')) controller.abort();
      },
    });
    expect(record.state).toBe('cancelled');
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('refuses all-to-all for sockperf when the file is read', () => {
    expect(() => spec('a2a-sockperf', { modes: ['vxlan'], workload: { tool: 'sockperf' }, pattern: 'all-to-all', pairs: [4] })).toThrow(/only iperf3 measures all-to-all/);
  });
});
