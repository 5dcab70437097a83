// Container mode in experiments on the testbed (Suo et al.'s "Container": Docker's --network container:<owner>,
// a Kubernetes pod): iperf3, sockperf and ping between each client and the server whose network namespace it
// joined, over that namespace; and the launch time of containers joining a running owner's namespace, under
// cnlab's namespaces and under a real Docker engine (a private dockerd inside the host). Nothing is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { experimentFromData } from '../../src-main/core/experiment/experiment-schema';
import type { ResultLine } from '../../src-main/core/experiment/run-store';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import type { PlannedContainer } from '../../src-main/core/topology/plan';
import { experimentLeftovers } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let experiments: ExperimentService;
let dockerd: HostDockerd | null = null;

/** One host: container mode keeps client and server on one. The lower half of the range; Docker's own pool is the top. */
function spec(name: string, body: Record<string, unknown>) {
  return experimentFromData({ v: 1, kind: 'experiment', name, hosts: ['h1'], addressPool: '198.19.0.0/17', placement: { server: 'h1', client: 'h1' }, repetitions: 1, warmup: 0, cooldown: 0, randomize: false, ...body }, name);
}

/** Lab namespaces, links, ledgers, load generators and temp dirs; and any Docker container or network still labelled by cnlab. */
const leftovers = (): Promise<string[]> => experimentLeftovers(testbed, dockerd ? ['h1'] : []);

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 1 });
  // No docker0, whose prefix would overlap the labs' pool; Docker's own networks from the top of the range.
  dockerd = await startHostDockerd(testbed, 'h1', { bip: null, addressPool: '198.19.224.0/19' });
  fixture = await openTestService([testbedHost(testbed, 'h1')]);
  experiments = new ExperimentService(fixture.service, new LabService(fixture.service, fixture.workspaceDir), fixture.workspaceDir);
}, 180_000);

afterAll(async () => {
  await fixture?.dispose();
  await dockerd?.stop();
  await testbed?.teardown();
}, 120_000);

describe('container mode in experiments', () => {
  it('iperf3: each client runs in its server’s namespace and reaches it at the server’s address, one pair and two', async () => {
    const record = await experiments.start(spec('pod-iperf', { modes: ['container'], workload: { tool: 'iperf3', duration: 2 }, pairs: [1, 2] }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells, failures } = await experiments.show(record.runId);
    expect(failures).toEqual([]);
    expect(cells.map((cell) => [cell.cellId, cell.runs])).toEqual([
      ['container pairs=1', 1],
      ['container pairs=2', 1],
    ]);
    for (const cell of cells) expect(cell.metrics.throughputBitsPerSecond?.median ?? 0, cell.cellId).toBeGreaterThan(100e6);
    expect(cells[1]?.metrics.pairs?.median).toBe(2);
    // The lab as applied: cli1 and cli2 in the namespaces of srv1 and srv2, answering on their addresses.
    const containers = new Map(((record.topologies[0]?.containers ?? []) as PlannedContainer[]).map((container) => [container.name, container]));
    for (const index of [1, 2]) {
      const [server, client] = [containers.get(`srv${index}`), containers.get(`cli${index}`)];
      expect(client?.sharesWith).toBe(`srv${index}`);
      expect(client?.netns).toBe(server?.netns);
      expect(client?.interfaces[0]?.address).toBe(server?.interfaces[0]?.address);
    }
    const lines = (await experiments.store.folderOf(record.runId).readSamples({ skipLive: true })).filter((line): line is ResultLine => line.type === 'result');
    expect(lines).toHaveLength(2);
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it.each([
    ['sockperf', { tool: 'sockperf', duration: 1 }, 'latencyMeanUs'],
    ['ping', { tool: 'ping', count: 5, interval: 0.2 }, 'rttAvgMs'],
  ])('%s between a client and the server whose namespace it shares', async (tool, workload, metric) => {
    const record = await experiments.start(spec(`pod-${tool}`, { modes: ['container'], workload }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells, failures } = await experiments.show(record.runId);
    expect(failures).toEqual([]);
    expect(cells[0]?.metrics[metric]?.median ?? 0, `${tool} ${metric}`).toBeGreaterThan(0);
    expect(await leftovers()).toEqual([]);
  }, 90_000);

  it('launch time: containers joining a running owner’s namespace, under netns and under Docker, each with its first reply', async () => {
    const record = await experiments.start(spec('pod-launch', { modes: ['container', { mode: 'container', runtime: 'docker' }], workload: { tool: 'launch', containers: 1, fromPeer: true } }));
    expect(record.state, record.error ?? '').toBe('completed');
    const { cells, failures } = await experiments.show(record.runId);
    expect(failures).toEqual([]);
    expect(cells.map((cell) => cell.caseLabel)).toEqual(['container', 'container-docker']);
    const lines = (await experiments.store.folderOf(record.runId).readSamples({ skipLive: true })).filter((line): line is ResultLine => line.type === 'result');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const label = record.cells[line.cellIndex]?.caseLabel ?? '?';
      console.info(`${label}: ${JSON.stringify(line.metrics)}\n  ${(line.notes ?? []).join('\n  ')}`);
      expect(line.rawSamples?.launchMs, label).toHaveLength(1);
      expect(line.metrics.launchMs, label).toBeGreaterThan(0);
      expect(line.metrics.launchFirstReplyMs, label).toBeGreaterThanOrEqual(0);
      expect(line.metrics.launchFirstReplyMs, label).toBeLessThan(2000);
      // Joining creates no namespace or link of its own.
      expect(line.metrics.launchNetnsMs, label).toBeUndefined();
      expect(line.metrics.launchLinksMs, label).toBeUndefined();
      expect(line.notes, label).toContain('fromPeer: mode container does not span hosts; no peer measurement');
      expect(line.notes?.some((note) => note.startsWith('mode container: c1 joined the namespace of o')), label).toBe(true);
      expect(line.notes?.filter((note) => note.startsWith('noReply')), label).toEqual([]);
    }
    const docker = lines.find((line) => record.cells[line.cellIndex]?.caseLabel === 'container-docker');
    expect(docker?.metrics.launchCreateMs).toBeGreaterThan(0);
    expect(docker?.metrics.launchStartMs).toBeGreaterThan(0);
    expect(await leftovers()).toEqual([]);
  }, 180_000);
});
