// Runtime docker (issue 8) for BENCHMARKS.md and the notes: the shipped Docker examples on a 2-host testbed
// whose hosts each run a private Docker engine (testbed/dockerd.ts): the topology applied, verified and
// torn down (3 runs), then launch time and iperf3 throughput per mode under Docker next to cnlab's bare
// namespaces, run as shipped. Figures are this machine's: every host shares its two cores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchTable, cellTable } from '../../src-main/cli/run-report';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { openTestService, testbedHost } from '../support/testbed-hosts.ts';
import { formatSummary, summarise } from './stats.ts';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const RUNS = 3;

export async function benchDocker(): Promise<string> {
  const testbed = await startTestbed({ hosts: 2 });
  const daemons: HostDockerd[] = [];
  const sections: string[] = [];
  try {
    // No docker0, and Docker's own networks (a swarm's docker_gwbridge) outside the labs' pool (198.19.0.0/16).
    for (const host of ['h1', 'h2']) daemons.push(await startHostDockerd(testbed, host, { bip: null, addressPool: '198.18.224.0/19' }));
    const fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
    try {
      const labs = new LabService(fixture.service, fixture.workspaceDir);
      const spec = parseTopologyText(readFileSync(join(EXAMPLES, 'docker-modes.yaml'), 'utf8'), 'docker-modes.yaml');
      const applyMs: number[] = [];
      let verify = '';
      for (let run = 0; run < RUNS; run++) {
        const started = performance.now();
        const applied = await labs.apply(spec);
        applyMs.push(performance.now() - started);
        const outcomes = await labs.verify(spec.name);
        verify = `${outcomes.filter((o) => o.ok).length}/${outcomes.length} as expected (${applied.record.containers.length} containers on ${applied.record.hosts.length} hosts)`;
        await labs.teardown(spec.name);
      }
      sections.push('| example | apply (min / median / max) | verify |', '|---|---|---|', `| docker-modes.yaml (bridge, macvlan, swarm overlay) | ${formatSummary(summarise(applyMs))} | ${verify} |`, '');
      const experiments = new ExperimentService(fixture.service, labs, fixture.workspaceDir);
      for (const file of ['experiment-docker-vs-netns.yaml', 'experiment-docker-throughput.yaml']) {
        const started = performance.now();
        const record = await experiments.start(await experiments.readExperiment(join(EXAMPLES, file)));
        const details = await experiments.show(record.runId);
        const tables = [cellTable(details.cells), launchTable(details.cells) ?? ''].join('\n');
        sections.push(`### examples/${file} — ${record.state} in ${((performance.now() - started) / 1000).toFixed(0)} s`, '', '```', tables.trim(), '```', '');
      }
    } finally {
      await fixture.dispose();
    }
  } finally {
    for (const daemon of daemons) await daemon.stop();
    await testbed.teardown();
  }
  return [
    '## Runtime docker (issue 8)',
    '',
    'A 2-host testbed, each host with its own Docker engine (Debian docker.io 20.10, overlay2 on tmpfs). The first apply of a run also builds the lab image on each host from its own tools (about 0.3 s, once per host). Launch time is timed on the host from the first container step to the first ping reply (docker create, docker start, first reply); the vxlan rows span both hosts (under Docker a swarm overlay, the peer on h2 its manager).',
    '',
    ...sections,
  ].join('\n');
}
