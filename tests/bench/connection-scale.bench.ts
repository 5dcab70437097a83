// Connection scale (issue 10): 20 testbed hosts, each its own sshd, probed and applied at once, against
// one host. The probe opens fresh connections (host key verified, auth, facts in one round trip);
// the apply puts 10 bridge containers on every host and verifies them over the pooled connections.
// Beside it, the floor's same 10 containers built by a script on 20 hosts at once: what this
// machine's cores allow with no console involved.
import { startTestbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { openTestService, testbedHost } from '../support/testbed-hosts.ts';
import { floorScript, floorTeardown } from './apply.bench.ts';
import { formatSummary, summarise, type Summary } from './stats.ts';

const HOSTS = 20;
const ROUNDS = 5;
const PER_HOST = 10;

const lab = (name: string, hosts: readonly string[]): string =>
  ['v: 1', `name: ${name}`, `hosts: [${hosts.join(', ')}]`, 'networks:', '  - { name: lan, mode: bridge }', 'containers:', ...hosts.map((host) => `  - { name: ${host}c, count: ${PER_HOST}, host: ${host}, networks: [lan] }`)].join('\n');

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

export async function benchConnectionScale(): Promise<string> {
  const testbed = await startTestbed({ hosts: HOSTS });
  const names = testbed.hosts.map((host) => host.name);
  const fixture = await openTestService(names.map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  const samples = { probeOne: [] as number[], probeAll: [] as number[], applyOne: [] as number[], applyAll: [] as number[], floorOne: [] as number[], floorAll: [] as number[] };
  const floorOnHosts = async (hosts: readonly string[]): Promise<number> => {
    const results = await Promise.all(hosts.map((host) => testbed.hostExec(host, ['sh', '-c', floorScript(PER_HOST, true)])));
    await Promise.all(hosts.map((host) => testbed.hostExec(host, ['sh', '-c', floorTeardown(PER_HOST)])));
    return Math.max(...results.map((result) => Number(result.stdout.trim().split('\n').pop()) / 1000));
  };
  const applyVerify = async (yaml: string): Promise<number> => {
    const spec = parseTopologyText(yaml);
    const ms = await timed(async () => {
      await labs.apply(spec);
      const wrong = (await labs.verify(spec.name)).filter((outcome) => !outcome.ok);
      if (wrong.length > 0) throw new Error(`${spec.name}: ${wrong.length} pairs not as expected`);
    });
    await labs.teardown(spec.name);
    return ms;
  };
  try {
    await Promise.all(names.map((name) => fixture.service.probe(name)));
    for (let round = 0; round < ROUNDS; round += 1) {
      // Fresh connections for the probes: every host's connection is dropped before each.
      await Promise.all(names.map((name) => fixture.service.forget(name)));
      samples.probeOne.push(await timed(() => fixture.service.probe('h1')));
      await Promise.all(names.map((name) => fixture.service.forget(name)));
      samples.probeAll.push(await timed(() => Promise.all(names.map((name) => fixture.service.probe(name)))));
      samples.applyOne.push(await applyVerify(lab('scale1', ['h1'])));
      samples.applyAll.push(await applyVerify(lab('scale20', names)));
      samples.floorOne.push(await floorOnHosts(['h1']));
      samples.floorAll.push(await floorOnHosts(names));
    }
  } finally {
    await fixture.dispose();
    await testbed.teardown();
  }
  const s = Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, summarise(values)])) as Record<keyof typeof samples, Summary>;
  const ratio = (a: Summary, b: Summary): string => `${(a.median / b.median).toFixed(2)}x`;
  return [
    '## Connection scale: 20 hosts at once (issue 10)',
    '',
    `A ${HOSTS}-host testbed (each host its own sshd and namespaces, all on this machine's 2 cores); ${ROUNDS} rounds, min / median / max. Probe: fresh connections (connect, host key verified, auth, the facts script), every connection dropped before each. Apply: ${PER_HOST} bridge containers per host, apply + verify over the pooled connections (planning included). The floor builds the same ${PER_HOST} containers with a hand-written \`ip -batch\` script on the hosts themselves, all at once.`,
    '',
    '| figure | one host | 20 hosts at once | ratio (median) |',
    '|---|---|---|---|',
    `| probe (fresh connection) | ${formatSummary(s.probeOne)} | ${formatSummary(s.probeAll)} | ${ratio(s.probeAll, s.probeOne)} |`,
    `| apply + verify, ${PER_HOST} containers per host | ${formatSummary(s.applyOne)} | ${formatSummary(s.applyAll)} | ${ratio(s.applyAll, s.applyOne)} |`,
    `| floor: the same containers by script on the hosts (slowest host) | ${formatSummary(s.floorOne)} | ${formatSummary(s.floorAll)} | ${ratio(s.floorAll, s.floorOne)} |`,
    `| cnlab's 20-host apply against the 20-host floor | | | ${ratio(s.applyAll, s.floorAll)} |`,
    '',
  ].join('\n');
}
