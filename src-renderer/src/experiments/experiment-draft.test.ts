// The matrix builder's model: the form round-trips through experiment YAML, host-local modes get their
// own placement, each workload kind writes its workload and axes, and bad forms name their fix.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  draftProblems,
  experimentDraftToData,
  experimentDraftToYaml,
  matrixSize,
  newExperimentDraft,
  readExperimentDraft,
  WORKLOAD_KINDS,
  type ExperimentDraft,
  type WorkloadKind,
} from './experiment-draft';

// examples/experiment-quick-throughput.yaml, as shipped.
const QUICK_THROUGHPUT = `# Quick throughput comparison: bridge vs macvlan vs vxlan, iperf3 TCP, 2 repetitions of 3 s.
# Runs as is on the testbed (hosts h1, h2): cnlab run examples/experiment-quick-throughput.yaml
# bridge connects containers on one host only, so its pair shares h1; macvlan and vxlan cross hosts.
v: 1
kind: experiment
name: quick-throughput
hosts: [h1, h2]
placement: { server: h1, client: h2 }
modes:
  - { mode: bridge, placement: { server: h1, client: h1 } }
  - macvlan
  - vxlan
workload: { tool: iperf3, protocol: tcp, duration: 3 }
repetitions: 2
warmup: 1
cooldown: 1
`;

function draft(overrides: Partial<ExperimentDraft> = {}): ExperimentDraft {
  return { ...newExperimentDraft(['h1', 'h2']), ...overrides };
}

function read(text: string): ExperimentDraft {
  const reading = readExperimentDraft(text);
  if (!reading.ok) throw new Error(reading.reason);
  return reading.draft;
}

function reasonOf(text: string): string {
  const reading = readExperimentDraft(text);
  if (reading.ok) throw new Error('expected the form to refuse the text');
  return reading.reason;
}

/** A draft of one kind with the fields that kind uses set away from their defaults. */
function kindDraft(kind: WorkloadKind): ExperimentDraft {
  const iperf3 = kind === 'iperf3-tcp' || kind === 'iperf3-udp' || kind === 'scalability' || kind === 'interference';
  return draft({
    name: `k-${kind}`,
    workload: kind,
    cases: kind === 'launch' ? [{ mode: 'none' }, { mode: 'bridge' }] : kind === 'interference' ? [{ mode: 'nat' }, { mode: 'routed' }] : [{ mode: 'baseline' }, { mode: 'ipvlan', label: 'ipv' }],
    sizes: kind === 'launch' ? [] : [128, 1024],
    protocols: kind === 'iperf3-udp' ? ['udp'] : ['tcp'],
    parallel: iperf3 ? 4 : 1,
    duration: kind === 'launch' ? 3 : 5,
    counts: kind === 'scalability' ? [2, 6] : [1, 2, 4, 8],
    pattern: kind === 'scalability' ? 'all-to-all' : 'pairs',
    interferers: kind === 'interference' ? [0, 3] : [0, 1, 2],
    load: kind === 'interference' ? 'burst' : 'busy',
    launchContainers: kind === 'launch' ? 4 : 1,
  });
}

describe('new experiment draft', () => {
  it('puts the server on the first host and the client on the second', () => {
    const fresh = newExperimentDraft(['a', 'b', 'c']);
    expect(fresh.hosts).toEqual({ server: 'a', client: 'b' });
    expect(fresh.cases.map((entry) => entry.mode)).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect(fresh).toMatchObject({ workload: 'iperf3-tcp', duration: 3, repetitions: 2, warmup: 1, cooldown: 1 });
    expect(draftProblems(fresh)).toEqual([]);
  });

  it('measures on one host when the inventory has one', () => {
    expect(newExperimentDraft(['solo']).hosts).toEqual({ server: 'solo', client: 'solo' });
  });

  it('asks for hosts when the inventory is empty', () => {
    const paths = draftProblems(newExperimentDraft([])).map((problem) => problem.path);
    expect(paths).toEqual(['hosts.server', 'hosts.client']);
  });
});

describe('experiment draft to YAML', () => {
  it('writes the quick-throughput example for its form', () => {
    const quick = draft({ name: 'quick-throughput' });
    expect(experimentDraftToData(quick)).toEqual(parse(QUICK_THROUGHPUT));
    expect(experimentDraftToYaml(quick)).toContain('- { mode: bridge, placement: { server: h1, client: h1 } }');
  });

  it('writes a case under Docker with its runtime, labels it apart, and reads it back', () => {
    const both = draft({ cases: [{ mode: 'bridge' }, { mode: 'bridge', runtime: 'docker' }, { mode: 'vxlan', runtime: 'docker' }] });
    const data = experimentDraftToData(both);
    expect(data.modes).toEqual([
      { mode: 'bridge', placement: { server: 'h1', client: 'h1' } },
      { mode: 'bridge', placement: { server: 'h1', client: 'h1' }, runtime: 'docker' },
      { mode: 'vxlan', runtime: 'docker' },
    ]);
    expect(draftProblems(both)).toEqual([]);
    expect(read(experimentDraftToYaml(both)).cases).toEqual(both.cases);
    expect(reasonOf('v: 1\nkind: experiment\nname: x\nhosts: [h1, h2]\nplacement: { server: h1, client: h2 }\nruntime: docker\nmodes: [bridge]\nworkload: { tool: iperf3 }\n')).toMatch(/runtime: the form sets the runtime per case/);
  });

  it('gives host-local modes (bridge, nat) a pair on the server host when the hosts differ', () => {
    const data = experimentDraftToData(draft({ hosts: { server: 'h2', client: 'h1' }, cases: [{ mode: 'bridge' }, { mode: 'nat', label: 'masq' }, { mode: 'vxlan' }, { mode: 'baseline' }] }));
    expect(data.hosts).toEqual(['h2', 'h1']);
    expect(data.placement).toEqual({ server: 'h2', client: 'h1' });
    expect(data.modes).toEqual([
      { mode: 'bridge', placement: { server: 'h2', client: 'h2' } },
      { mode: 'nat', label: 'masq', placement: { server: 'h2', client: 'h2' } },
      'vxlan',
      'baseline',
    ]);
  });

  it('needs no case placement when both ends share a host', () => {
    const data = experimentDraftToData(draft({ hosts: { server: 'h1', client: 'h1' } }));
    expect(data.hosts).toEqual(['h1']);
    expect(data.modes).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect(experimentDraftToYaml(draft({ hosts: { server: 'h1', client: 'h1' } }))).toContain('modes: [ bridge, macvlan, vxlan ]');
  });

  it('writes the run order only when it differs from the defaults', () => {
    expect(experimentDraftToData(draft())).not.toHaveProperty('randomize');
    expect(experimentDraftToData(draft())).not.toHaveProperty('seed');
    expect(experimentDraftToData(draft({ randomize: false, seed: 42, baseline: 'bridge' }))).toMatchObject({ randomize: false, seed: 42, baseline: 'bridge' });
  });

  it.each<[WorkloadKind, Record<string, unknown>, Record<string, unknown> | undefined]>([
    ['iperf3-tcp', { tool: 'iperf3', protocol: 'tcp', duration: 5, parallel: 4 }, { blockSize: [128, 1024] }],
    ['iperf3-udp', { tool: 'iperf3', protocol: 'udp', duration: 5, parallel: 4 }, { blockSize: [128, 1024] }],
    ['sockperf-ping-pong', { tool: 'sockperf', test: 'ping-pong', protocol: 'udp', duration: 5 }, { messageSize: [128, 1024] }],
    ['sockperf-throughput', { tool: 'sockperf', test: 'throughput', protocol: 'udp', duration: 5 }, { messageSize: [128, 1024] }],
    ['netperf-tcp-stream', { tool: 'netperf', test: 'TCP_STREAM', duration: 5 }, { messageSize: [128, 1024] }],
    ['netperf-udp-rr', { tool: 'netperf', test: 'UDP_RR', duration: 5 }, { messageSize: [128, 1024] }],
    ['launch', { tool: 'launch', containers: 4 }, undefined],
    ['cpu-cost', { tool: 'sockperf', test: 'ping-pong', protocol: 'udp', duration: 5, fullLog: false }, { messageSize: [128, 1024] }],
    ['scalability', { tool: 'iperf3', protocol: 'tcp', duration: 5, parallel: 4 }, { blockSize: [128, 1024] }],
    ['interference', { tool: 'iperf3', protocol: 'tcp', duration: 5, parallel: 4 }, { blockSize: [128, 1024] }],
  ])('%s writes its workload and axes', (kind, workload, axes) => {
    const data = experimentDraftToData(kindDraft(kind));
    expect(data.workload).toEqual(workload);
    expect(data.axes).toEqual(axes);
  });

  it('writes N for scalability and K for interference, and neither for the others', () => {
    expect(experimentDraftToData(kindDraft('scalability'))).toMatchObject({ pattern: 'all-to-all', pairs: [2, 6] });
    expect(experimentDraftToData(draft({ workload: 'scalability', counts: [1, 2] }))).not.toHaveProperty('pattern');
    expect(experimentDraftToData(kindDraft('interference')).interference).toEqual({ containers: [0, 3], load: 'burst' });
    const plain = experimentDraftToData(kindDraft('iperf3-tcp'));
    expect(plain).not.toHaveProperty('pairs');
    expect(plain).not.toHaveProperty('interference');
  });

  it('puts a single size into the workload and both protocols on an axis', () => {
    const data = experimentDraftToData(draft({ workload: 'iperf3-udp', sizes: [1400], protocols: ['udp', 'tcp'] }));
    expect(data.workload).toEqual({ tool: 'iperf3', protocol: 'udp', duration: 3, blockSize: 1400 });
    expect(data.axes).toEqual({ protocol: ['udp', 'tcp'] });
  });

  it('leaves sizes out of launch time, which has none', () => {
    expect(experimentDraftToData(draft({ workload: 'launch', sizes: [64] })).workload).toEqual({ tool: 'launch', containers: 1 });
  });
});

describe('round trips', () => {
  it('reads the default draft back', () => {
    const fresh = draft();
    expect(read(experimentDraftToYaml(fresh))).toEqual(fresh);
  });

  it.each(WORKLOAD_KINDS)('reads a %s draft back', (kind) => {
    const original = kindDraft(kind);
    expect(read(experimentDraftToYaml(original))).toEqual(original);
  });

  it('keeps labels, baseline, protocols, seed and order', () => {
    const original = draft({
      hosts: { server: 'lab-a', client: 'lab-a' },
      cases: [{ mode: 'baseline', label: 'host' }, { mode: 'bridge', label: 'br' }, { mode: 'macvlan' }],
      baseline: 'host',
      protocols: ['tcp', 'udp'],
      sizes: [1000, 8000, 64000],
      repetitions: 7,
      warmup: 0,
      cooldown: 2.5,
      randomize: false,
      seed: 1234,
    });
    expect(read(experimentDraftToYaml(original))).toEqual(original);
  });
});

describe('reading YAML into the form', () => {
  it('reads the quick-throughput example', () => {
    const quick = read(QUICK_THROUGHPUT);
    expect(quick).toMatchObject({
      name: 'quick-throughput',
      hosts: { server: 'h1', client: 'h2' },
      cases: [{ mode: 'bridge' }, { mode: 'macvlan' }, { mode: 'vxlan' }],
      baseline: null,
      workload: 'iperf3-tcp',
      sizes: [],
      protocols: ['tcp'],
      duration: 3,
      repetitions: 2,
      warmup: 1,
      cooldown: 1,
      randomize: true,
    });
    expect(parse(experimentDraftToYaml(quick))).toEqual(parse(QUICK_THROUGHPUT));
  });

  it('fills in the format defaults the file leaves out', () => {
    const sparse = read('v: 1\nkind: experiment\nname: s\nhosts: [h1]\nplacement: { server: h1, client: h1 }\nmodes: [bridge]\nworkload: { tool: sockperf, messageSize: 256 }\n');
    expect(sparse).toMatchObject({ workload: 'sockperf-ping-pong', duration: 10, sizes: [256], repetitions: 3, warmup: 1, cooldown: 1, randomize: true });
  });

  it('reads iperf3 size suffixes, scalability and all-to-all', () => {
    const scaled = read(
      'v: 1\nkind: experiment\nname: s\nhosts: [h1, h2]\nplacement: { server: h1, client: h2 }\nmodes: [baseline, vxlan]\nbaseline: baseline\nworkload: { tool: iperf3, duration: 3 }\naxes: { blockSize: ["64K", 1M] }\npattern: all-to-all\npairs: [2, 4]\n',
    );
    expect(scaled).toMatchObject({ workload: 'scalability', pattern: 'all-to-all', counts: [2, 4], sizes: [65536, 1048576], baseline: 'baseline' });
  });

  it.each([
    ['v: 1\nkind: experiment\nname: [', 'not valid YAML'],
    ['v: *a\nkind: experiment\n', 'not valid YAML: Unresolved alias'],
    [`v: 1\nkind: experiment\nname:\n${'- '.repeat(10_000)}x\n`, 'not valid YAML: nested too deeply at line 4'],
    ['just text', 'an experiment is a mapping'],
    ['v: 2\nkind: experiment\n', 'v: 1'],
    [QUICK_THROUGHPUT.replace('modes:', 'description: hi\nmodes:'), 'description'],
    [QUICK_THROUGHPUT.replace('  - macvlan', '  - { mode: macvlan, options: { macvlanMode: vepa } }'), 'modes.1.options'],
    [QUICK_THROUGHPUT.replace('{ server: h1, client: h1 } }', '{ server: h2, client: h2 } }'), 'modes.0.placement'],
    [QUICK_THROUGHPUT.replace('hosts: [h1, h2]', 'hosts: [h1, h2, h3]'), 'h3'],
    [QUICK_THROUGHPUT.replace('tool: iperf3, protocol: tcp', 'tool: ping'), 'workload.tool'],
    [QUICK_THROUGHPUT.replace('protocol: tcp,', 'protocol: tcp, reverse: true,'), 'workload.reverse'],
    [QUICK_THROUGHPUT.replace('tool: iperf3, protocol: tcp', 'tool: sockperf, protocol: tcp'), 'UDP only'],
    [QUICK_THROUGHPUT.replace('repetitions: 2', 'axes: { parallel: [1, 2] }\nrepetitions: 2'), 'axes.parallel'],
    [QUICK_THROUGHPUT.replace('tool: iperf3, protocol: tcp', 'tool: sockperf') + 'interference: { containers: [0, 1] }\n', 'iperf3 TCP only'],
    [QUICK_THROUGHPUT + 'adaptive: { maxRepetitions: 9 }\n', 'adaptive'],
    [QUICK_THROUGHPUT + 'backend: cni\n', 'backend'],
    [QUICK_THROUGHPUT.replace('  - vxlan', '  - overlay'), 'not a network mode'],
    [QUICK_THROUGHPUT.replace('repetitions: 2', 'repetitions: two'), 'repetitions is not a number'],
  ])('says why the form cannot show %#', (text, reason) => {
    expect(reasonOf(text)).toContain(reason);
  });
});

describe('draft problems', () => {
  const problemsOf = (overrides: Partial<ExperimentDraft>): string[] => draftProblems(draft(overrides)).map((problem) => `${problem.path}: ${problem.message}`);

  it('finds none in a sensible draft of each kind', () => {
    for (const kind of WORKLOAD_KINDS) expect(draftProblems(kindDraft(kind))).toEqual([]);
  });

  it.each<[string, Partial<ExperimentDraft>, string]>([
    ['no cases', { cases: [] }, 'cases: add at least one case'],
    ['a duplicate label', { cases: [{ mode: 'bridge' }, { mode: 'vxlan', label: 'bridge' }] }, 'cases.1.label: two cases are labelled bridge'],
    ['a bad label', { cases: [{ mode: 'bridge', label: 'Bridge 1' }] }, 'cases.0.label: Bridge 1 cannot be a label'],
    ['a baseline that is no case', { baseline: 'baseline' }, 'baseline: baseline is not one of the cases'],
    ['mode none outside launch', { cases: [{ mode: 'none' }] }, 'cases.0.mode: mode none has no network'],
    ['the baseline in launch time', { workload: 'launch', cases: [{ mode: 'baseline' }] }, 'cases.0.mode: launch time measures a network mode'],
    ['the baseline with interference', { workload: 'interference', cases: [{ mode: 'baseline' }, { mode: 'bridge' }] }, 'cases.0.mode: the busy neighbours are containers'],
    ['a sockperf message too small', { workload: 'sockperf-ping-pong', sizes: [8] }, 'sizes: each message size is a whole number from 12 to 65000: change or remove 8'],
    ['a UDP datagram too big', { workload: 'iperf3-udp', sizes: [70000] }, 'sizes: each size is a whole number from 1 to 65507'],
    ['a size listed twice', { sizes: [64, 64] }, 'sizes: 64 is listed twice'],
    ['all-to-all with one container', { workload: 'scalability', pattern: 'all-to-all', counts: [1, 4] }, 'counts: all-to-all needs 2 to 16 containers'],
    ['all-to-all with too many', { workload: 'scalability', pattern: 'all-to-all', counts: [32] }, 'counts: all-to-all needs 2 to 16 containers'],
    ['scalability without N', { workload: 'scalability', counts: [] }, 'counts: add at least one N'],
    ['interference without K', { workload: 'interference', interferers: [] }, 'interferers: add at least one number'],
    ['a bad name', { name: 'My test' }, 'name: name the experiment'],
    ['no repetitions', { repetitions: 0 }, 'repetitions: repetitions is a whole number from 1 to 1000, not 0'],
    ['a fractional duration', { duration: 2.5 }, 'duration: the duration (s) is a whole number'],
    ['too many warm-up runs', { warmup: 30 }, 'warmup:'],
    ['a negative cool-down', { cooldown: -1 }, 'cooldown:'],
    ['too many streams', { parallel: 200 }, 'parallel:'],
    ['a negative seed', { seed: -3 }, 'seed:'],
  ])('reports %s', (_, overrides, expected) => {
    expect(problemsOf(overrides).some((line) => line.startsWith(expected))).toBe(true);
  });

  it('ignores fields the workload kind does not use', () => {
    expect(problemsOf({ workload: 'iperf3-tcp', counts: [], interferers: [], pattern: 'all-to-all' })).toEqual([]);
    expect(problemsOf({ workload: 'launch', sizes: [1], duration: 0, cases: [{ mode: 'none' }] })).toEqual([]);
  });
});

describe('matrix size and estimate', () => {
  it('multiplies cases, sizes, protocols, N and K', () => {
    expect(matrixSize(draft())).toEqual({ cells: 3, runs: 9 });
    expect(matrixSize(draft({ sizes: [64, 1024], protocols: ['tcp', 'udp'], repetitions: 3, warmup: 0 }))).toEqual({ cells: 12, runs: 36 });
    expect(matrixSize(draft({ workload: 'scalability', counts: [1, 2, 4, 8] }))).toEqual({ cells: 12, runs: 36 });
    expect(matrixSize(draft({ workload: 'interference', interferers: [0, 1], sizes: [64] }))).toEqual({ cells: 6, runs: 18 });
    // Axes the kind does not use do not multiply.
    expect(matrixSize(draft({ workload: 'launch', sizes: [64, 128], counts: [1, 2], protocols: ['tcp', 'udp'] }))).toEqual({ cells: 3, runs: 9 });
    expect(matrixSize(draft({ cases: [] }))).toEqual({ cells: 0, runs: 0 });
  });
});
