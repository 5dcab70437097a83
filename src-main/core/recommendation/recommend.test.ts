// The ranking on fixture runs made from real experiment specs and their real cells: the order follows the
// priorities and the measured numbers (and changes when a new run says otherwise), required properties
// exclude, the evidence carries its numbers and intervals, and the advice names what to run when data is thin.
import { describe, expect, it } from 'vitest';
import { experimentFromData } from '../experiment/experiment-schema';
import { expandCells } from '../experiment/matrix';
import { meanConfidenceInterval95 } from '../stats';
import { primaryMetric } from '../workloads/workload-params';
import { MAX_LISTED_RUNS, recommend, type RecommendationRunInput, type SuggestedExperiment } from './recommend';
import type { RecommendationPriorities, RecommendationView } from './recommendation-view';

const NONE: RecommendationPriorities = { throughput: 0, latency: 0, isolation: 0, startup: 0, multiHost: 0, encryption: 0 };
const weights = (fields: Partial<RecommendationPriorities>): RecommendationPriorities => ({ ...NONE, ...fields });

interface Level {
  mean: number;
  /** Relative standard deviation (default 2 %). */
  cv?: number;
  n?: number;
}

/**
 * A finished run of an experiment (the real schema and cell expansion) whose primary metric has the given
 * level per case label (and axis values), summarised as cell-summary.ts would.
 */
function run(runId: string, experiment: Record<string, unknown>, levels: (caseLabel: string, axisValues: Record<string, unknown>) => Level | null): RecommendationRunInput {
  const spec = experimentFromData({ v: 1, kind: 'experiment', name: 'fixture', hosts: ['h1', 'h2'], placement: { server: 'h1', client: 'h2' }, repetitions: 3, ...experiment }, runId);
  const cells = expandCells(spec).map((cell) => {
    const primary = primaryMetric(cell.params);
    const level = levels(cell.caseLabel, cell.axisValues);
    if (!level) return { cellId: cell.id, caseLabel: cell.caseLabel, axisValues: cell.axisValues, params: cell.params, primary, metrics: {} };
    const n = level.n ?? 3;
    const stdDev = n < 2 ? null : level.mean * (level.cv ?? 0.02);
    const summary = { n, mean: level.mean, stdDev, ci95: stdDev === null ? null : meanConfidenceInterval95(level.mean, stdDev, n), noisy: (level.cv ?? 0.02) > 0.1 };
    return { cellId: cell.id, caseLabel: cell.caseLabel, axisValues: cell.axisValues, params: cell.params, primary, metrics: { [primary.name]: summary } };
  });
  return { runId, name: spec.name, experiment: spec, cells };
}

const GBIT = 1e9;

/** Multi-host iperf3 against the no-container baseline: macvlan close to it, bridge (on one host) and vxlan lower. */
const THROUGHPUT = run(
  'r-throughput',
  { modes: ['baseline', { mode: 'bridge', placement: { server: 'h1', client: 'h1' } }, 'macvlan', 'vxlan'], baseline: 'baseline', workload: { tool: 'iperf3' }, axes: { blockSize: [1400, 65536] } },
  (label) => ({ mean: { baseline: 10, bridge: 7, macvlan: 9.5, vxlan: 3 }[label] as number * GBIT }),
);

/** sockperf ping-pong latency: here bridge is the fastest container network and macvlan slower. */
const LATENCY = run('r-latency', { modes: ['baseline', 'bridge', 'macvlan', 'vxlan'], baseline: 'baseline', workload: { tool: 'sockperf', test: 'ping-pong' } }, (label) => ({
  mean: { baseline: 20, bridge: 24, macvlan: 30, vxlan: 50 }[label] as number,
}));

const order = (view: RecommendationView): string[] => view.ranked.filter((entry) => entry.excluded === null && entry.evidence.some((item) => item.certainty !== 'property')).map((entry) => entry.mode);
const entry = (view: RecommendationView, mode: string) => {
  const found = view.ranked.find((item) => item.mode === mode);
  if (!found) throw new Error(`${mode} is not in the view`);
  return found;
};

const STUDIES: SuggestedExperiment[] = [
  { ref: 'study suo2018-fig3 part throughput', modes: ['baseline', 'bridge', 'container', 'host'], criteria: ['throughput', 'latency'], acrossHosts: false },
  { ref: 'study suo2018-fig4 part throughput', modes: ['baseline', 'host', 'vxlan', 'vxlan (docker)', 'routed', 'nat'], criteria: ['throughput', 'latency'], acrossHosts: true },
  { ref: 'study claassen2016-drivers part throughput', modes: ['bridge', 'macvlan', 'ipvlan'], criteria: ['throughput'], acrossHosts: false },
  { ref: 'study suo2018-table6 part launch', modes: ['none', 'bridge', 'container', 'host', 'vxlan'], criteria: ['startup'], acrossHosts: true },
];

describe('recommend', () => {
  it('ranks by throughput and by latency differently, each from its own runs', () => {
    const byThroughput = recommend([THROUGHPUT, LATENCY], weights({ throughput: 2 }));
    const byLatency = recommend([THROUGHPUT, LATENCY], weights({ latency: 2 }));
    expect(order(byThroughput)).toEqual(['macvlan', 'bridge', 'vxlan']);
    expect(order(byLatency)).toEqual(['bridge', 'macvlan', 'vxlan']);
    expect(byThroughput.ranked.slice(0, 3).map((item) => item.rank)).toEqual([1, 2, 3]);
    // Scores are relative to the best mode: vxlan reaches 3/9.5 of macvlan's throughput, 24/50 of bridge's latency.
    expect(entry(byThroughput, 'macvlan').score).toBeCloseTo(1, 9);
    expect(entry(byThroughput, 'vxlan').score).toBeCloseTo(3 / 9.5, 6);
    expect(entry(byLatency, 'vxlan').score).toBeCloseTo(24 / 50, 6);
    expect(byThroughput.basis).toEqual({ runs: 1, modes: 3 });
  });

  it('gives each measured mode its numbers, interval, certainty and the runs and cells it rests on', () => {
    const view = recommend([THROUGHPUT], weights({ throughput: 1 }));
    const [evidence] = entry(view, 'bridge').evidence;
    expect(evidence?.certainty).toBe('measured');
    expect(evidence?.summary).toMatch(/^−30\.0 % throughput vs baseline \(no container\) \(95% CI −3\d\.\d to −2\d\.\d %\), 1 run, 2 cells, on one host; iperf3 TCP$/);
    expect(evidence?.runs).toEqual([{ runId: 'r-throughput', name: 'fixture', cells: ['bridge blockSize=1400', 'bridge blockSize=65536'] }]);
    expect(entry(view, 'vxlan').evidence[0]?.summary).toContain('across hosts');
    // The baseline is the reference, shown after the modes and never ranked.
    const baseline = view.ranked.at(-1);
    expect(baseline).toMatchObject({ mode: 'baseline', rank: 0, score: null });
    expect(baseline?.excluded).toContain('no container network');
  });

  it('turns netperf request/response rates into latency (more transactions = lower latency)', () => {
    const rr = run('r-rr', { modes: ['baseline', 'bridge', 'vxlan'], baseline: 'baseline', workload: { tool: 'netperf', test: 'TCP_RR' } }, (label) => ({ mean: { baseline: 20_000, bridge: 16_000, vxlan: 10_000 }[label] as number }));
    const view = recommend([rr], weights({ latency: 1 }));
    expect(order(view)).toEqual(['bridge', 'vxlan']);
    // Half the transactions per second is twice the round trip: +100 % latency.
    expect(entry(view, 'vxlan').evidence[0]?.summary).toMatch(/^\+100\.0 % latency vs baseline/);
    expect(entry(view, 'vxlan').evidence[0]?.summary).toContain('latency from trans/s');
    expect(entry(view, 'bridge').evidence[0]?.summary).toMatch(/^\+25\.0 % latency/);
  });

  it('excludes the modes that fail a required property, saying why, and lists them after the ranked ones', () => {
    const view = recommend([THROUGHPUT], weights({ throughput: 2, isolation: 3 }));
    const host = entry(view, 'host');
    expect(host.rank).toBe(0);
    expect(host.excluded).toMatch(/^isolation required: low isolation/);
    expect(entry(view, 'container').excluded).toMatch(/^isolation required: medium isolation/);
    expect(entry(view, 'bridge').excluded).toBeNull();
    const firstExcluded = view.ranked.findIndex((item) => item.excluded !== null);
    expect(view.ranked.slice(firstExcluded).every((item) => item.excluded !== null)).toBe(true);
    const isolation = entry(view, 'bridge').evidence.find((item) => item.criterion === 'isolation');
    expect(isolation).toMatchObject({ certainty: 'property', score: 2 / 3, runs: [] });
    expect(isolation?.summary).toContain('Suo et al., INFOCOM 2018, Table II');

    const multiHost = recommend([THROUGHPUT], weights({ throughput: 2, multiHost: 3 }));
    expect(order(multiHost)).toEqual(['macvlan', 'vxlan']);
    expect(entry(multiHost, 'bridge').excluded).toMatch(/^multi-host required: a host-local bridge/);
    for (const mode of ['nat', 'none', 'container']) expect(entry(multiHost, mode).excluded).toMatch(/^multi-host required/);
    for (const mode of ['host', 'routed', 'ipvlan']) expect(entry(multiHost, mode).excluded).toBeNull();
  });

  it('changes the recommendation when the measured data changes: a run where macvlan beats bridge', () => {
    const first = run('r-1', { modes: ['bridge', 'macvlan'], workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'bridge' ? 9 : 8) * GBIT }));
    const before = recommend([first], weights({ throughput: 3 }));
    expect(order(before)).toEqual(['bridge', 'macvlan']);
    // Without a baseline the best case of the run is the reference.
    expect(entry(before, 'bridge').evidence[0]?.summary).toMatch(/^the best throughput of its comparisons, so their reference/);
    expect(entry(before, 'macvlan').evidence[0]?.summary).toMatch(/^−11\.1 % throughput vs bridge/);

    const second = run('r-2', { modes: ['bridge', 'macvlan'], workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'bridge' ? 7 : 12) * GBIT }));
    const after = recommend([first, second], weights({ throughput: 3 }));
    expect(order(after)).toEqual(['macvlan', 'bridge']);
    expect(entry(after, 'macvlan').evidence[0]?.runs.map((item) => item.runId)).toEqual(['r-1', 'r-2']);
    expect(after.basis.runs).toBe(2);
  });

  it('says which experiment to run when there is no data, naming study templates where they fit', () => {
    const empty = recommend([], weights({ throughput: 2, multiHost: 1, startup: 1 }), { experiments: STUDIES });
    expect(empty.advice[0]).toMatch(/no finished runs yet/);
    expect(empty.advice).toContainEqual(expect.stringMatching(/^No throughput measured in this workspace: run study suo2018-fig4 part throughput \(host, vxlan, routed, nat\), or study claassen2016-drivers part throughput \(bridge, macvlan, ipvlan\), or study suo2018-fig3 part throughput \(container\)\.$/));
    expect(empty.advice).toContainEqual(expect.stringMatching(/^No launch time measured in this workspace: run study suo2018-table6 part launch/));
    expect(empty.basis).toEqual({ runs: 0, modes: 0 });
    // Properties still rank: macvlan connects across hosts, bridge does not.
    expect(entry(empty, 'macvlan').evidence.find((item) => item.criterion === 'multiHost')?.score).toBe(1);
    expect(entry(empty, 'bridge').evidence.find((item) => item.criterion === 'multiHost')?.score).toBe(0);
    expect(entry(empty, 'macvlan').missing).toEqual(['throughput', 'startup']);

    // Without templates, cnlab's examples.
    const bare = recommend([], weights({ latency: 1 }));
    expect(bare.advice).toContainEqual(expect.stringMatching(/^No latency measured in this workspace: run an experiment like examples\/experiment-latency-sizes\.yaml with modes/));
  });

  it('ranks a single measured mode but asks for others to compare it with', () => {
    const single = run('r-single', { modes: ['baseline', 'bridge'], baseline: 'baseline', workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'baseline' ? 10 : 8) * GBIT }));
    const view = recommend([single], weights({ throughput: 2 }), { experiments: STUDIES });
    expect(view.ranked[0]).toMatchObject({ mode: 'bridge', rank: 1, score: 1, missing: [] });
    expect(entry(view, 'host')).toMatchObject({ score: null, missing: ['throughput'] });
    expect(view.advice).toContain('Only bridge has throughput measured, so nothing is ranked against it on throughput yet.');
    expect(view.advice).toContainEqual(expect.stringMatching(/^No throughput measured for host, macvlan, ipvlan, nat, vxlan, routed and container: run study suo2018-fig4 part throughput \(host, vxlan, routed, nat\), or study claassen2016-drivers part throughput \(macvlan, ipvlan\), or study suo2018-fig3 part throughput \(container\)\.$/));
  });

  it('calls single repetitions uncertain and asks for more', () => {
    const thin = run('r-thin', { modes: ['bridge', 'vxlan'], workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'bridge' ? 9 : 4) * GBIT, n: 1 }));
    const view = recommend([thin], weights({ throughput: 1 }));
    expect(entry(view, 'vxlan').evidence[0]).toMatchObject({ certainty: 'uncertain' });
    expect(entry(view, 'vxlan').evidence[0]?.summary).toContain('(no interval: single repetitions)');
    expect(view.advice).toContainEqual(expect.stringMatching(/^The throughput of bridge and vxlan rests on single repetitions or wide intervals/));
  });

  it('says when the two best are too close to call', () => {
    const close = run('r-close', { modes: ['baseline', 'bridge', 'macvlan'], baseline: 'baseline', workload: { tool: 'iperf3' } }, (label) => ({ mean: { baseline: 10, bridge: 9.05, macvlan: 9.1 }[label] as number * GBIT, cv: 0.03 }));
    const view = recommend([close], weights({ throughput: 1 }));
    expect(order(view)).toEqual(['macvlan', 'bridge']);
    expect(view.advice).toContainEqual(expect.stringMatching(/^macvlan and bridge are too close to call \(scores 1\.00 and 0\.99; their throughput intervals overlap\)/));
  });

  it('with encryption required, no mode qualifies and the advice says so plainly', () => {
    const view = recommend([THROUGHPUT], weights({ throughput: 2, encryption: 3 }));
    expect(view.ranked.every((item) => item.rank === 0 && item.excluded !== null)).toBe(true);
    expect(entry(view, 'vxlan').excluded).toBe('encryption required: no cnlab mode encrypts its traffic');
    expect(view.advice).toContainEqual(expect.stringMatching(/^No cnlab mode encrypts its traffic, so none meets “encryption required”/));
    const nice = recommend([THROUGHPUT], weights({ throughput: 2, encryption: 1 }));
    expect(order(nice)).toEqual(['macvlan', 'bridge', 'vxlan']);
    expect(nice.advice).toContain('No cnlab mode encrypts its traffic: encryption scores 0 for every mode and does not change the order.');
  });

  it('weighs criteria: a strong weight on isolation lifts none and bridge over host', () => {
    const launch = run('r-launch', { modes: ['none', 'bridge', 'host'], workload: { tool: 'launch' } }, (label) => ({ mean: { none: 300, bridge: 450, host: 280 }[label] as number }));
    expect(order(recommend([launch], weights({ startup: 3 })))).toEqual(['host', 'none', 'bridge']);
    const isolated = recommend([launch], weights({ startup: 1, isolation: 2 }));
    expect(order(isolated)).toEqual(['none', 'bridge', 'host']);
    // none carries no traffic: with throughput required it is out.
    expect(entry(recommend([launch], weights({ throughput: 3 })), 'none').excluded).toBe('throughput required: it carries no traffic');
  });

  it('keys modes by runtime, ignores UDP at a set rate, and asks for a weight when nothing is weighted', () => {
    const docker = run('r-docker', { modes: ['bridge', { mode: 'bridge', runtime: 'docker' }], workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'bridge' ? 10 : 8) * GBIT }));
    expect(order(recommend([docker], weights({ throughput: 1 })))).toEqual(['bridge', 'bridge (docker)']);
    const udp = run('r-udp', { modes: ['bridge', 'vxlan'], workload: { tool: 'iperf3', protocol: 'udp', bitrate: '100M' } }, (label) => ({ mean: (label === 'bridge' ? 100 : 99) * 1e6 }));
    const udpView = recommend([udp], weights({ throughput: 1 }));
    expect(udpView.basis).toEqual({ runs: 0, modes: 0 });
    expect(udpView.advice[0]).toMatch(/^None of the 1 finished run compares two modes/);
    expect(recommend([THROUGHPUT], NONE).advice).toEqual(['Nothing is weighted: give at least one criterion a weight (1 nice to have, 2 important, 3 required).']);
  });

  it('counts every run in the summary but lists only the newest by id', () => {
    const many = Array.from({ length: MAX_LISTED_RUNS + 10 }, (_, index) => run(`r-${String(index).padStart(3, '0')}`, { modes: ['bridge', 'vxlan'], workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'bridge' ? 9 : 3) * GBIT })));
    const [evidence] = entry(recommend(many, weights({ throughput: 1 })), 'vxlan').evidence;
    expect(evidence?.summary).toMatch(/^−66\.7 % throughput vs bridge \(95% CI .*\), 60 runs, 60 cells, across hosts; iperf3 TCP$/);
    expect(evidence?.runs).toHaveLength(MAX_LISTED_RUNS);
    expect(evidence?.runs.at(-1)?.runId).toBe('r-059');
  });

  it('warns when the two best modes were never measured side by side', () => {
    const bridgeRun = run('r-bridge', { modes: ['baseline', 'bridge'], baseline: 'baseline', workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'baseline' ? 10 : 9) * GBIT }));
    const macvlanRun = run('r-macvlan', { modes: ['baseline', 'macvlan'], baseline: 'baseline', workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'baseline' ? 20 : 19.5) * GBIT }));
    const view = recommend([bridgeRun, macvlanRun], weights({ throughput: 1 }));
    expect(order(view)).toEqual(['macvlan', 'bridge']);
    expect(view.advice).toContain('macvlan and bridge were never measured in one run on throughput: their order rests on different references. Run both in one experiment (with the baseline) to compare them directly.');
    expect(recommend([THROUGHPUT], weights({ throughput: 1 })).advice.some((line) => line.includes('never measured in one run'))).toBe(false);
    // The baseline is not scored against the modes it is the reference of.
    expect(entry(view, 'baseline').evidence[0]?.score).toBeNull();
  });

  it('gives tied modes the same rank', () => {
    const tie = run('r-tie', { modes: ['baseline', 'macvlan', 'ipvlan'], baseline: 'baseline', workload: { tool: 'iperf3' } }, (label) => ({ mean: (label === 'baseline' ? 10 : 9) * GBIT }));
    const view = recommend([tie], weights({ throughput: 1 }));
    expect(view.ranked.slice(0, 2).map((item) => [item.mode, item.rank])).toEqual([['macvlan', 1], ['ipvlan', 1]]);
    expect(view.ranked[2]?.rank).toBe(3);
  });
});
