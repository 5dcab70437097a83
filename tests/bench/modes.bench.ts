// Per-mode figures for the notes and BENCHMARKS.md: every shipped example applied on a 3-host testbed,
// its apply wall time (console), the verify matrix result, and its teardown; 3 runs each.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { startTestbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost } from '../support/testbed-hosts.ts';
import { formatSummary, summarise } from './stats.ts';

const RUNS = 3;

export async function benchModes(): Promise<string> {
  const examples = join(__dirname, '..', '..', 'examples');
  const testbed = await startTestbed({ hosts: 3 });
  const fixture = await openTestService(['h1', 'h2', 'h3'].map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  const rows: string[] = [];
  try {
    for (const file of readdirSync(examples).filter((f) => f.endsWith('.yaml') && !f.startsWith('experiment-')).sort()) {
      const spec = parseTopologyText(readFileSync(join(examples, file), 'utf8'), file);
      // Docker examples need engines on the hosts: docker.bench.ts runs them.
      if (spec.runtime === 'docker') continue;
      const samples: number[] = [];
      let verify = '';
      try {
        for (let run = 0; run < RUNS; run += 1) {
          const started = performance.now();
          const applied = await labs.apply(spec);
          samples.push(performance.now() - started);
          const outcomes = await labs.verify(spec.name);
          verify = `${outcomes.filter((o) => o.ok).length}/${outcomes.length} as expected`;
          await labs.teardown(spec.name);
          if (run === 0) verify += ` (${applied.record.containers.length} containers on ${applied.record.hosts.length} hosts)`;
        }
        rows.push(`| ${file} | ${formatSummary(summarise(samples))} | ${verify} |`);
      } catch (error) {
        rows.push(`| ${file} | refused | ${(error as Error).message.split('\n')[0]?.slice(0, 140) ?? ''} |`);
      }
    }
  } finally {
    await fixture.dispose();
    await testbed.teardown();
  }
  return [
    '## Apply and verify per example topology (issue 3)',
    '',
    `Each file of examples/ on a 3-host testbed, ${RUNS} runs; apply wall time at the console (min / median / max), including`,
    "planning against cached facts, the hosts' state check and, for etcd/BGP, waiting for the control plane to converge.",
    '',
    '| example | apply | verify |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
