// Tests of the per-case topology: its size (largest pairs and interferers of the case's cells), hosts,
// none for the baseline; the reachability check of a case's placement; lab ids valid as object names;
// and that the topology passes the topology schema and plans (bridge, macvlan, vxlan, with interferers).
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../tests/support/cnlab-error';
import { contextFor } from '../topology/planner.test-support';
import { planLab } from '../topology/planner';
import { OBJECT_NAME_PATTERN, topologySchema } from '../topology/topology-schema';
import { caseLabId, caseTopology, checkCaseReachable } from './cell-topology';
import { experimentFingerprint, experimentFromData, type ExperimentSpec, type ModeCase } from './experiment-schema';
import { expandCells } from './matrix';

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
