// Tests of the per-case topology: its size (largest pairs and interferers of the case's cells), hosts,
// none for the baseline; the reachability check of a case's placement; lab ids valid as object names;
// and that the topology passes the topology schema and plans (bridge, macvlan, vxlan, with interferers);
// all-to-all (node1..N alternating hosts, every ordered pair an endpoint pair) and the SSH channel budget;
// container mode (each client in its server's namespace, one host, pairs only).
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../tests/support/cnlab-error';
import { contextFor } from '../topology/planner.test-support';
import { planLab } from '../topology/planner';
import { OBJECT_NAME_PATTERN, topologySchema } from '../topology/topology-schema';
import type { LabRecord } from '../topology/lab-store';
import { caseLabId, caseTopology, channelsPerHost, checkCaseReachable, checkChannelBudget } from './cell-topology';
import { experimentFingerprint, experimentFromData, type ExperimentSpec, type ModeCase } from './experiment-schema';
import { expandCells } from './matrix';
import { caseEndpoints } from './workload-dispatch';

function spec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return experimentFromData({
    v: 1,
    kind: 'experiment',
    name: 'topo',
    hosts: ['h1', 'h2'],
    placement: { server: 'h1', client: 'h2' },
    modes: ['vxlan'],
    workload: { tool: 'iperf3' },
    ...overrides,
  });
}

function caseOf(experiment: ExperimentSpec, label: string): ModeCase {
  const found = experiment.modes.find((entry) => entry.label === label);
  if (!found) throw new Error(`no case ${label}`);
  return found;
}

describe('caseTopology', () => {
  it('sizes the lab for the largest pairs and interferers of its case', () => {
    const experiment = spec({ modes: ['vxlan'], pairs: [1, 4, 2], interference: { containers: [0, 3, 1] } });
    const topology = caseTopology(experiment, caseOf(experiment, 'vxlan'), expandCells(experiment), 'xlab-0');
    expect(topology).toMatchObject({ v: 1, name: 'xlab-0', runtime: 'netns', backend: 'iproute2', hosts: ['h1', 'h2'], addressPool: '198.19.0.0/16' });
    expect(topology?.networks).toEqual([caseOf(experiment, 'vxlan').network]);
    expect(topology?.containers).toEqual([
      { name: 'srv', host: 'h1', networks: ['net'], count: 4 },
      { name: 'cli', host: 'h2', networks: ['net'], count: 4 },
      { name: 'load', host: 'h1', networks: [], count: 3 },
    ]);
  });

  it('has one pair and no interferers without those axes, and one host when the pair shares it', () => {
    const experiment = spec({ modes: [{ mode: 'bridge', placement: { server: 'h2', client: 'h2' } }, 'vxlan'] });
    const topology = caseTopology(experiment, caseOf(experiment, 'bridge'), expandCells(experiment), 'xlab-1');
    expect(topology?.hosts).toEqual(['h2']);
    expect(topology?.containers).toEqual([
      { name: 'srv', host: 'h2', networks: ['net'], count: 1 },
      { name: 'cli', host: 'h2', networks: ['net'], count: 1 },
    ]);
  });

  it('only looks at its own case’s cells', () => {
    const experiment = spec({ modes: ['macvlan', 'vxlan'], pairs: [1, 3] });
    const cells = expandCells(experiment).filter((cell) => !(cell.caseLabel === 'macvlan' && cell.pairs === 3));
    expect(caseTopology(experiment, caseOf(experiment, 'macvlan'), cells, 'xlab-0')?.containers[0]?.count).toBe(1);
    expect(caseTopology(experiment, caseOf(experiment, 'vxlan'), cells, 'xlab-1')?.containers[0]?.count).toBe(3);
  });

  it('takes the experiment’s backend and address pool', () => {
    const experiment = spec({ backend: 'cni', addressPool: '10.77.0.0/16' });
    expect(caseTopology(experiment, caseOf(experiment, 'vxlan'), expandCells(experiment), 'xlab-0')).toMatchObject({ backend: 'cni', addressPool: '10.77.0.0/16' });
  });

  it('has no topology for the baseline', () => {
    const experiment = spec({ modes: ['baseline', 'vxlan'] });
    expect(caseTopology(experiment, caseOf(experiment, 'baseline'), expandCells(experiment), 'xlab-0')).toBeNull();
  });

  it('passes the topology schema unchanged', () => {
    const experiment = spec({ modes: ['vxlan'], pairs: [1, 2], interference: { containers: [0, 2] } });
    const topology = caseTopology(experiment, caseOf(experiment, 'vxlan'), expandCells(experiment), caseLabId(experimentFingerprint(experiment), 0));
    expect(topologySchema.parse(topology)).toEqual(topology);
  });

  it.each([
    ['bridge', { server: 'h1', client: 'h1' }],
    ['macvlan', { server: 'h1', client: 'h2' }],
    ['vxlan', { server: 'h1', client: 'h2' }],
  ])('plans a %s case with pairs and interferers (containers with no network)', (mode, placement) => {
    const experiment = spec({ modes: [mode], placement, pairs: [1, 2], interference: { containers: [0, 2] } });
    const entry = caseOf(experiment, mode);
    const topology = caseTopology(experiment, entry, expandCells(experiment), caseLabId(experimentFingerprint(experiment), 0));
    if (!topology) throw new Error('no topology');
    const plan = planLab(topologySchema.parse(topology), contextFor(topology.hosts));
    expect(plan.hosts.map((host) => host.host).sort()).toEqual([...new Set([placement.server, placement.client])].sort());
    const names = plan.containers.map((container) => container.name).sort();
    expect(names).toEqual(['cli1', 'cli2', 'load1', 'load2', 'srv1', 'srv2']);
    for (const container of plan.containers.filter((candidate) => candidate.name.startsWith('load'))) expect(container.host).toBe('h1');
  });
});

describe('checkCaseReachable', () => {
  it('refuses bridge across hosts, naming the placement fix', () => {
    const experiment = spec({ modes: ['bridge'] });
    const error = thrownCnlabError(() => checkCaseReachable(caseOf(experiment, 'bridge'), 'iperf3'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('case bridge: with mode bridge a client on h2 cannot reach a server on h1');
    expect(error.message).toContain('placement: { server: h1, client: h1 }');
  });

  it('accepts bridge on one host and macvlan or vxlan across hosts', () => {
    const experiment = spec({ modes: [{ mode: 'bridge', placement: { server: 'h1', client: 'h1' } }, 'macvlan', 'vxlan'] });
    for (const entry of experiment.modes) expect(() => checkCaseReachable(entry, 'iperf3')).not.toThrow();
  });

  it('never refuses launch time, which needs no pair', () => {
    const experiment = spec({ modes: ['bridge', 'none'], workload: { tool: 'launch' } });
    for (const entry of experiment.modes) expect(() => checkCaseReachable(entry, 'launch')).not.toThrow();
  });

  it('refuses mode none for pair workloads, even on one host', () => {
    const experiment = spec({ modes: ['none'], placement: { server: 'h1', client: 'h1' } });
    const error = thrownCnlabError(() => checkCaseReachable(caseOf(experiment, 'none'), 'sockperf'));
    expect(error.message).toContain('mode none has no network to measure');
  });

  it('refuses macvlan in private mode on one host, pointing at the options', () => {
    const experiment = spec({ modes: [{ mode: 'macvlan', options: { macvlanMode: 'private' } }], placement: { server: 'h1', client: 'h1' } });
    expect(thrownCnlabError(() => checkCaseReachable(caseOf(experiment, 'macvlan'), 'iperf3')).message).toContain("check the mode's options");
  });

  it('accepts the baseline anywhere', () => {
    const experiment = spec({ modes: ['baseline'] });
    expect(() => checkCaseReachable(caseOf(experiment, 'baseline'), 'ping')).not.toThrow();
  });
});

describe('container mode (a shared namespace, as in a pod)', () => {
  const podSpec = (overrides: Record<string, unknown> = {}) => spec({ modes: ['container'], placement: { server: 'h1', client: 'h1' }, ...overrides });

  it('puts srv1..N on the bridge network and each cliI in srvI’s namespace; interferers as for other modes', () => {
    const experiment = podSpec({ pairs: [1, 3], interference: { containers: [0, 2] } });
    const entry = caseOf(experiment, 'container');
    const topology = caseTopology(experiment, entry, expandCells(experiment), 'xlab-0');
    expect(topology?.hosts).toEqual(['h1']);
    expect(topology?.networks).toEqual([{ name: 'net', mode: 'bridge', options: {} }]);
    expect(topology?.containers).toEqual([
      { name: 'srv', host: 'h1', networks: ['net'], count: 3 },
      { name: 'cli1', host: 'h1', networks: [], shareNetnsWith: 'srv1' },
      { name: 'cli2', host: 'h1', networks: [], shareNetnsWith: 'srv2' },
      { name: 'cli3', host: 'h1', networks: [], shareNetnsWith: 'srv3' },
      { name: 'load', host: 'h1', networks: [], count: 2 },
    ]);
    expect(topologySchema.parse(topology)).toEqual(topology);
  });

  it.each(['netns', 'docker'] as const)('plans under %s: each client runs in its server’s namespace and reaches it at the server’s own address', (runtime) => {
    const experiment = podSpec({ modes: [{ mode: 'container', runtime }], pairs: [2], interference: { containers: [1] } });
    const entry = experiment.modes[0] as ModeCase;
    const cells = expandCells(experiment);
    const topology = caseTopology(experiment, entry, cells, 'xlab-0');
    if (!topology) throw new Error('no topology');
    const context = contextFor(topology.hosts);
    if (runtime === 'docker') {
      for (const facts of Object.values(context.facts)) {
        facts.tools.dockerServer = '20.10.24';
        facts.docker = { serverVersion: '20.10.24', apiVersion: '1.41', storageDriver: 'overlay2', cgroupDriver: 'cgroupfs', cgroupVersion: '1', swarm: { state: 'inactive', nodeId: null, controlAvailable: false, managers: null, nodes: null }, networkDrivers: ['bridge', 'host', 'null'], defaultAddressPools: [] };
      }
    }
    const plan = planLab(topologySchema.parse(topology), context);
    const record = { labId: topology.name, containers: plan.containers } as unknown as LabRecord;
    const endpoints = caseEndpoints(entry, { labId: topology.name, record }, cells[0] as (typeof cells)[number], () => '192.0.2.1');
    expect(endpoints.pairs.map((pair) => `${pair.client.name}>${pair.server.name}`)).toEqual(['cli1>srv1', 'cli2>srv2']);
    for (const pair of endpoints.pairs) {
      expect(pair.client.netns).toBe(pair.server.netns);
      expect(pair.client.netns).toMatch(/^cnl-xlab-0-srv\d$/);
      expect(pair.server.address).toMatch(/^198\.19\.0\.\d+$/);
      expect(pair.client.address).toBe(pair.server.address);
    }
    expect(new Set(endpoints.pairs.map((pair) => pair.server.netns)).size).toBe(2);
    expect(endpoints.interferers).toEqual([{ host: 'h1', netns: 'cnl-xlab-0-load1' }]);
  });

  it('refuses a client on another host than its server, naming the case and the fix', () => {
    const experiment = spec({ modes: ['container'] });
    const error = thrownCnlabError(() => checkCaseReachable(caseOf(experiment, 'container'), 'iperf3'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe("case container: mode container runs each client in its server's network namespace, which exists on one host only, but the client is on h2 and the server on h1: place both on one host (placement: { server: h1, client: h1 }), or use a mode that spans hosts (macvlan, vxlan, routed)");
    // Launch time has no client: its peer is skipped instead (launch-topology).
    expect(() => checkCaseReachable(caseOf(experiment, 'container'), 'launch')).not.toThrow();
  });

  it('refuses all-to-all, whose containers need an address each', () => {
    const experiment = podSpec({ pattern: 'all-to-all', pairs: [2] });
    const error = thrownCnlabError(() => checkCaseReachable(caseOf(experiment, 'container'), 'iperf3', 'all-to-all'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe("case container: pattern all-to-all needs N containers with an address each, but in mode container a client shares its server's namespace and address (a pod of two): use pattern: pairs, or measure all-to-all in another experiment");
    expect(() => checkCaseReachable(caseOf(podSpec(), 'container'), 'sockperf')).not.toThrow();
  });

  it('counts both ends of each pair on the one host for the SSH channel budget', () => {
    const experiment = podSpec({ workload: { tool: 'sockperf' }, pairs: [4] });
    expect(thrownCnlabError(() => checkChannelBudget(caseOf(experiment, 'container'), expandCells(experiment), 8)).message).toContain('case container: 4 concurrent sockperf pairs need 9 commands at once on h1');
  });
});

describe('caseLabId', () => {
  it('is a valid lab name of at most 20 characters, unique per case', () => {
    const fingerprint = experimentFingerprint(spec());
    const ids = Array.from({ length: 16 }, (_, index) => caseLabId(fingerprint, index));
    for (const id of ids) {
      expect(id).toMatch(OBJECT_NAME_PATTERN);
      expect(id.length).toBeLessThanOrEqual(20);
      expect(() => topologySchema.shape.name.parse(id)).not.toThrow();
    }
    expect(new Set(ids).size).toBe(16);
  });

  it('differs between experiments', () => {
    expect(caseLabId(experimentFingerprint(spec()), 0)).not.toBe(caseLabId(experimentFingerprint(spec({ name: 'other' })), 0));
  });
});

describe('all-to-all', () => {
  const allToAll = (overrides: Record<string, unknown> = {}) => spec({ pattern: 'all-to-all', pairs: [2, 5], ...overrides });

  it('places node1..N alternately on the server and the client host', () => {
    const experiment = allToAll();
    const topology = caseTopology(experiment, caseOf(experiment, 'vxlan'), expandCells(experiment), 'xlab-0');
    expect(topology?.containers).toEqual([
      { name: 'node1', host: 'h1', networks: ['net'] },
      { name: 'node2', host: 'h2', networks: ['net'] },
      { name: 'node3', host: 'h1', networks: ['net'] },
      { name: 'node4', host: 'h2', networks: ['net'] },
      { name: 'node5', host: 'h1', networks: ['net'] },
    ]);
    expect(topologySchema.parse(topology)).toEqual(topology);
  });

  it('measures every ordered pair of the cell’s N containers: N·(N−1) flows', () => {
    const experiment = allToAll({ interference: { containers: [1] } });
    const entry = caseOf(experiment, 'vxlan');
    const cells = expandCells(experiment);
    const topology = caseTopology(experiment, entry, cells, caseLabId(experimentFingerprint(experiment), 0));
    if (!topology) throw new Error('no topology');
    const plan = planLab(topologySchema.parse(topology), contextFor(topology.hosts));
    const record = { labId: topology.name, containers: plan.containers } as unknown as LabRecord;
    const small = caseEndpoints(entry, { labId: topology.name, record }, cells[0] as (typeof cells)[number], () => '192.0.2.1', 'all-to-all');
    expect(small.pairs.map((pair) => `${pair.client.name}>${pair.server.name}`)).toEqual(['node1>node2', 'node2>node1']);
    const big = caseEndpoints(entry, { labId: topology.name, record }, cells[1] as (typeof cells)[number], () => '192.0.2.1', 'all-to-all');
    expect(big.pairs).toHaveLength(20);
    expect(new Set(big.pairs.map((pair) => `${pair.client.name}>${pair.server.name}`)).size).toBe(20);
    expect(big.pairs.every((pair) => pair.client.name !== pair.server.name && pair.server.netns !== null && /^198\.19\./.test(pair.server.address))).toBe(true);
    expect(big.interferers).toHaveLength(1);
  });

  it('uses the hosts themselves for the baseline, alternating as the containers would', () => {
    const experiment = allToAll({ modes: ['baseline'], pairs: [3] });
    const entry = caseOf(experiment, 'baseline');
    const endpoints = caseEndpoints(entry, null, expandCells(experiment)[0] as ReturnType<typeof expandCells>[number], (host) => `mgmt-${host}`, 'all-to-all');
    expect(endpoints.pairs.map((pair) => `${pair.client.host}>${pair.server.host}@${pair.server.address}`)).toEqual(['h1>h2@mgmt-h2', 'h1>h1@mgmt-h1', 'h2>h1@mgmt-h1', 'h2>h1@mgmt-h1', 'h1>h1@mgmt-h1', 'h1>h2@mgmt-h2']);
  });

  it('refuses a mode that does not connect containers of one host (macvlan vepa), naming the options', () => {
    const experiment = allToAll({ modes: [{ mode: 'macvlan', options: { macvlanMode: 'vepa' } }] });
    const entry = caseOf(experiment, 'macvlan');
    expect(() => checkCaseReachable(entry, 'iperf3')).not.toThrow();
    expect(thrownCnlabError(() => checkCaseReachable(entry, 'iperf3', 'all-to-all')).message).toBe(
      'case macvlan: pattern all-to-all sends between two containers on h1, which mode macvlan does not connect: check the mode\'s options (macvlanMode: bridge), or use pattern: pairs',
    );
  });
});

describe('checkChannelBudget', () => {
  it('lets iperf3 run any number of pairs: one server and one client command per host', () => {
    const experiment = spec({ pairs: [1, 8, 64], interference: { containers: [0, 2] } });
    const entry = caseOf(experiment, 'vxlan');
    const cells = expandCells(experiment);
    expect(() => checkChannelBudget(entry, cells, 8)).not.toThrow();
    const biggest = cells.find((cell) => cell.pairs === 64 && cell.interferers === 2);
    expect(biggest && Object.fromEntries(channelsPerHost(entry, biggest))).toEqual({ h1: 4, h2: 3 });
  });

  it('still refuses more sockperf pairs than a host has channels', () => {
    const experiment = spec({ workload: { tool: 'sockperf' }, pairs: [1, 8] });
    const error = thrownCnlabError(() => checkChannelBudget(caseOf(experiment, 'vxlan'), expandCells(experiment), 8));
    expect(error.message).toBe('case vxlan: 8 concurrent sockperf pairs need 9 commands at once on h1, more than the 8 SSH channels cnlab opens per host: use at most 7 pairs (iperf3 batches any number of pairs)');
  });

  it('counts both ends of same-host pairs on that host', () => {
    const experiment = spec({ modes: [{ mode: 'bridge', placement: { server: 'h1', client: 'h1' } }], workload: { tool: 'ping' }, pairs: [4] });
    expect(thrownCnlabError(() => checkChannelBudget(caseOf(experiment, 'bridge'), expandCells(experiment), 8)).message).toContain('use at most 3 pairs, or put client and server on different hosts');
  });
});
