// Study templates on the testbed: every shipped template plans through the built CLI with its hosts mapped
// (`cnlab run STUDY --plan --map …`), bad references are refused with their fix, and the single-host
// (Suo et al. Fig 3) and launch-time (Table VI, under real Docker engines) templates run end to end with
// fewer repetitions and shorter runs, giving complete tables and a comparison with the paper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTables } from '../../src-main/common/results/run-sections';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import type { ExperimentSpec } from '../../src-main/core/experiment/experiment-schema';
import { listStudies, resolveStudy, studyComparisonOfRun, studyExperiments } from '../../src-main/core/studies/study-catalog';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import { runViewWithStudy } from '../../src-main/api/run-view';
import { experimentLeftovers } from '../support/lab-checks';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let experiments: ExperimentService;
const daemons: HostDockerd[] = [];

const cli = (args: string[]) => runCli(['--workspace', testbed.workspaceDir, ...args], { HOME: `${testbed.dir}/home`, CNLAB_CONFIG_DIR: `${testbed.dir}/cnlab-config` }, 60_000);

/** The hosts of each template bound to other testbed hosts than their own names, so the mapping is exercised. */
const MAPPINGS: Record<number, string> = { 1: 'h1=h2', 2: 'h1=h2,h2=h1', 4: 'h1=h3,h2=h4,h3=h1,h4=h2' };

/** The template as a quick run: fewer repetitions, 2 s per measurement, the tests' half of the address range. */
function quick(spec: ExperimentSpec, repetitions: number): ExperimentSpec {
  const workload = 'duration' in spec.workload ? { ...spec.workload, duration: 2, ...('omit' in spec.workload ? { omit: 0 } : {}) } : spec.workload;
  return { ...spec, repetitions, warmup: 0, cooldown: 0, addressPool: '198.19.0.0/17', workload };
}

const leftovers = (): Promise<string[]> => experimentLeftovers(testbed, daemons.map((daemon) => daemon.host));

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 4 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  experiments = new ExperimentService(fixture.service, new LabService(fixture.service, fixture.workspaceDir), fixture.workspaceDir);
}, 180_000);

afterAll(async () => {
  await fixture?.dispose();
  for (const daemon of daemons) await daemon.stop();
  await testbed?.teardown();
}, 120_000);

describe('study templates through the CLI', () => {
  it('every template plans on the testbed with its hosts mapped, every part with the mapped placement', async () => {
    const studies = await listStudies();
    const listed = await cli(['--json', 'studies', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((study) => study.id).sort()).toEqual(studies.map((study) => study.id).sort());
    for (const study of studies) {
      const mapping = MAPPINGS[study.hosts.length] as string;
      const planned = await cli(['--json', 'run', study.id, '--plan', '--map', mapping]);
      expect(planned.code, `${study.id}: ${planned.stderr}`).toBe(0);
      const { parts } = JSON.parse(planned.stdout) as { parts: { spec: ExperimentSpec; totalRuns: number }[] };
      expect(parts.map((part) => part.spec.study?.part)).toEqual(study.parts.map((part) => part.name));
      const bound = Object.fromEntries(mapping.split(',').map((pair) => pair.split('=') as [string, string]));
      for (const [index, part] of parts.entries()) {
        const template = study.parts[index]?.experiment as ExperimentSpec;
        expect(part.totalRuns, `${study.id} ${template.name}`).toBeGreaterThan(0);
        expect(part.spec.modes.map((entry) => entry.placement), `${study.id} ${template.name}`).toEqual(template.modes.map((entry) => ({ server: bound[entry.placement.server], client: bound[entry.placement.client] })));
      }
      const text = await cli(['run', study.id, '--plan', '--map', mapping]);
      expect(text.stdout).toContain(`${study.title}, part ${study.parts[0]?.name}`);
    }
  });

  it('a template file by path plans like its id, and --part picks parts', async () => {
    const fig3 = await cli(['--json', 'run', 'resources/studies/suo2018-fig3.yaml', '--plan', '--part', 'latency,bulk']);
    expect(fig3.code, fig3.stderr).toBe(0);
    expect((JSON.parse(fig3.stdout) as { parts: { spec: ExperimentSpec }[] }).parts.map((part) => part.spec.name)).toEqual(['suo-fig3-bulk', 'suo-fig3-latency']);
  });

  it('refuses an unknown study, a host the study does not name, an unknown part, and --part on an experiment file', async () => {
    const unknown = await cli(['run', 'suo2099-nothing', '--plan']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^cnlab: suo2099-nothing is neither a file nor a study template: give an experiment file's path, or a study id \(`cnlab studies list`: claassen2016-drivers, /);
    const badMap = await cli(['run', 'suo2018-table6', '--plan', '--map', 'h7=h1']);
    expect(badMap.stderr).toMatch(/--map names h7, which study suo2018-table6 does not use \(its hosts: h1, h2\)/);
    const badPart = await cli(['run', 'suo2018-fig4', '--plan', '--part', 'sizes']);
    expect(badPart.stderr).toMatch(/study suo2018-fig4 has no part sizes: its parts are throughput, latency/);
    const notStudy = await cli(['run', 'examples/experiment-quick-throughput.yaml', '--plan', '--part', 'x']);
    expect(notStudy.code).toBe(2);
    expect(notStudy.stderr).toMatch(/--part is for study templates, and examples\/experiment-quick-throughput\.yaml is an experiment file/);
    expect(unknown.stderr + badMap.stderr + badPart.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('study templates run end to end', () => {
  it('Fig 3 (single host): every part gives complete tables and its findings a verdict', { timeout: 600_000 }, async () => {
    const study = await resolveStudy('suo2018-fig3');
    for (const spec of studyExperiments(study, {})) {
      const record = await experiments.start(quick(spec, 2));
      expect(record.state, `${spec.name}: ${record.error ?? ''}`).toBe('completed');
      const details = await experiments.show(record.runId);
      expect(details.failures, spec.name).toEqual([]);
      expect(details.cells.every((cell) => cell.runs === 2), spec.name).toBe(true);
      const view = await runViewWithStudy(details);
      const tables = runTables(view).map((section) => section.name);
      expect(tables, spec.name).toContain(spec.workload.tool === 'sockperf' && spec.workload.test === 'ping-pong' ? 'latency' : 'throughput');
      const comparison = view.study;
      expect(comparison?.missing ?? null).toBeNull();
      expect(comparison?.findings.length, spec.name).toBeGreaterThan(0);
      for (const finding of comparison?.findings ?? []) expect(['holds', 'does-not-hold', 'inconclusive'], `${spec.name} ${finding.id}: ${finding.detail}`).toContain(finding.verdict);
      for (const row of comparison?.rows ?? []) expect(row.ours, `${spec.name} ${row.id}: ${row.note ?? ''}`).not.toBeNull();
    }
    expect(await leftovers()).toEqual([]);
  });

  it('Claassen et al. (single host): bridge and macvlan measured; ipvlan, where the kernel lacks it, fails with the reason and its findings say so', { timeout: 300_000 }, async () => {
    const [spec] = studyExperiments(await resolveStudy('claassen2016-drivers'), {});
    const record = await experiments.start(quick(spec as ExperimentSpec, 2));
    const details = await experiments.show(record.runId);
    expect(record.state, record.error ?? '').toBe('completed');
    const ipvlanMissing = (await fixture.service.probe('h1')).kernelFeatures.ipvlan?.supported !== true;
    for (const cell of details.cells) {
      if (cell.caseLabel === 'ipvlan' && ipvlanMissing) {
        expect(cell.runs, cell.cellId).toBe(0);
        expect(cell.failures[0]?.message, cell.cellId).toMatch(/ipvlan/);
      } else expect(cell.runs, `${cell.cellId}: ${cell.failures[0]?.message ?? ''}`).toBe(2);
    }
    if (ipvlanMissing) expect(record.warnings.find((warning) => warning.code === 'case-failed')?.message).toMatch(/^case ipvlan: .*ipvlan/);
    const comparison = await studyComparisonOfRun(details);
    const verdicts = Object.fromEntries((comparison?.findings ?? []).map((finding) => [finding.id, finding.verdict]));
    expect(['holds', 'does-not-hold', 'inconclusive']).toContain(verdicts['macvlan-beats-bridge']);
    if (ipvlanMissing) expect(verdicts['ipvlan-beats-bridge']).toBe('not-measured');
    expect(await leftovers()).toEqual([]);
  });

  it('Table VI (launch time under Docker): every network measured, beside the paper, nothing left', { timeout: 900_000 }, async () => {
    // Private engines in h1 and h2, their own networks outside the labs' half of the range.
    for (const host of ['h1', 'h2']) daemons.push(await startHostDockerd(testbed, host, { bip: null, addressPool: '198.19.224.0/19' }));
    // The Fig 3 runs cached these hosts' facts before their engines started: probe again, as the error would ask a user to.
    for (const host of ['h1', 'h2']) expect((await fixture.service.probe(host)).docker?.serverVersion, host).toBeTruthy();
    const [spec] = studyExperiments(await resolveStudy('suo2018-table6'), {});
    const record = await experiments.start(quick(spec as ExperimentSpec, 2));
    expect(record.state, record.error ?? '').toBe('completed');
    const details = await experiments.show(record.runId);
    expect(details.failures).toEqual([]);
    const launch = runTables(await runViewWithStudy(details)).find((section) => section.name === 'launch');
    expect(launch?.table.rows.map((row) => row.cells.case)).toEqual(['none', 'bridge', 'container', 'host', 'nat', 'docker-overlay', 'flannel', 'calico-bgp']);
    for (const row of launch?.table.rows ?? []) expect(row.cells.launch, String(row.cells.case)).toBeGreaterThan(0);
    const comparison = await studyComparisonOfRun(details);
    const rows = Object.fromEntries((comparison?.rows ?? []).map((row) => [row.id, row]));
    for (const id of ['bridge', 'container', 'host', 'nat']) expect(rows[id]?.ours?.percent, id).toEqual(expect.any(Number));
    for (const id of ['flannel', 'calico-bgp']) expect(rows[id]?.ours?.value, `${id}: ${rows[id]?.note ?? ''}`).toBeGreaterThan(0);
    expect(rows.weave?.note).toBe('not reproduced here (see the substitutions)');
    const ranking = comparison?.findings.find((finding) => finding.id === 'ranking');
    expect(['holds', 'does-not-hold'], ranking?.detail).toContain(ranking?.verdict);
    expect(ranking?.tau).toEqual(expect.any(Number));
    expect(await leftovers()).toEqual([]);
  });
});
