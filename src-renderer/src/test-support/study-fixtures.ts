// Study templates and a study run's comparison as the main process sends them, for renderer tests: two
// studies with different host names, and a comparison with a row not reproduced here and one finding per
// verdict.
import type { StudyComparisonView, StudySummaryView } from '@contract/lab-api';

export const SUO_STUDY: StudySummaryView = {
  id: 'suo2018-table6',
  title: 'Suo et al. — Table VI launch time',
  summary: 'How long each container network takes from namespace to first ping reply.',
  citation: 'K. Suo, Y. Zhao, W. Chen, J. Rao. An Analysis and Empirical Study of Container Networks. IEEE INFOCOM 2018.',
  hosts: [
    { name: 'h1', role: 'launches the containers', expect: 'bare-metal' },
    { name: 'h2', role: 'the overlay peer', expect: null },
  ],
  parts: [
    { name: 'launch', title: 'Launch time, one host', experimentName: 'suo-launch', tool: 'launch', cases: ['none', 'bridge', 'macvlan'] },
    { name: 'launch-overlay', title: 'Launch time, overlay', experimentName: 'suo-launch-overlay', tool: 'launch', cases: ['vxlan'] },
  ],
  substitutions: [
    { paper: 'Docker overlay', cases: ['vxlan'], cnlab: 'vxlan with an etcd control plane', reproduces: 'a VXLAN device per network and a key-value store', differs: 'no Docker daemon on the path' },
    { paper: 'Weave', cases: [], cnlab: null, reproduces: null, differs: 'its own encapsulation is not built by cnlab' },
  ],
};

export const ZENG_STUDY: StudySummaryView = {
  id: 'zeng2017-throughput',
  title: 'Zeng et al. — container network throughput',
  summary: 'TCP throughput between two hosts per network.',
  citation: 'H. Zeng et al. Measurement and Evaluation for Docker Container Networking. CyberC 2017.',
  hosts: [
    { name: 'server', role: 'iperf3 server', expect: null },
    { name: 'client', role: 'iperf3 client', expect: null },
  ],
  parts: [{ name: 'tcp', title: 'TCP throughput', experimentName: 'zeng-tcp', tool: 'iperf3', cases: ['bridge', 'vxlan'] }],
  substitutions: [],
};

const location = (where: string, quote: string) => ({ where, quote });

export const SUO_COMPARISON: StudyComparisonView = {
  studyId: 'suo2018-table6',
  title: 'Suo et al. — Table VI launch time',
  citation: SUO_STUDY.citation,
  part: 'launch',
  partTitle: 'Launch time, one host',
  metric: 'launchMs',
  rows: [
    {
      id: 'bridge-launch',
      label: 'bridge launch time',
      form: 'value',
      paperValue: 640,
      unit: 'ms',
      paperPercent: 35,
      measures: 'bridge vs none',
      ours: { value: 24.6, reference: 8.2, percent: 200, ci95: { low: 180.5, high: 219.5 }, significant: true, n: 5, referenceN: 5 },
      note: null,
      location: location('Table VI', 'bridge 640 ms'),
    },
    {
      id: 'weave-launch',
      label: 'weave launch time',
      form: 'value',
      paperValue: 1210,
      unit: 'ms',
      paperPercent: 155,
      measures: null,
      ours: null,
      note: 'not reproduced here',
      location: location('Table VI', 'weave 1210 ms'),
    },
  ],
  findings: [
    { id: 'none-fastest', claim: 'No network launches fastest', kind: 'order', verdict: 'holds', detail: 'none 8.2 ms is below every other network here.', tau: null, rests: [{ id: 'none-launch', label: 'none launch time', location: location('Table VI', 'none 473 ms') }] },
    { id: 'overlay-slowest', claim: 'Overlays launch slowest', kind: 'order', verdict: 'does-not-hold', detail: "Kendall's tau-b -0.33 over 3 networks (holds at ≥ 0.60).", tau: -0.33, rests: [{ id: 'bridge-launch', label: 'bridge launch time', location: location('Section V.C', 'overlay networks take the longest to start') }] },
    { id: 'macvlan-close', claim: 'macvlan is as fast as bridge', kind: 'equal', verdict: 'inconclusive', detail: 'the interval −12 % … +9 % straddles the margin.', tau: null, rests: [] },
    { id: 'weave-slow', claim: 'Weave is slowest of all', kind: 'order', verdict: 'not-measured', detail: 'Weave is not reproduced here.', tau: null, rests: [] },
  ],
  substitutions: SUO_STUDY.substitutions,
  missing: null,
};

export const MISSING_COMPARISON: StudyComparisonView = {
  studyId: 'future2030-study',
  title: 'future2030-study',
  citation: '',
  part: 'main',
  partTitle: 'main',
  metric: '',
  rows: [],
  findings: [],
  substitutions: [],
  missing: 'study template future2030-study is not in this cnlab: update cnlab to compare this run with the paper',
};
