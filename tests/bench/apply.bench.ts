// Benchmark of topology apply on the testbed: cnlab applying N bridge containers vs the floor, the
// same kernel work as one hand-written `ip -batch` script run on the host itself; and 3 hosts in
// parallel vs one host. Ratios are taken within the same run.
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost } from '../support/testbed-hosts.ts';
import { formatSummary, summarise, type Summary } from './stats.ts';

const RUNS = 7;

/** The floor: one ip -batch for the host side, one per namespace, timed on the host. */
export function floorScript(count: number, announce: boolean): string {
  const host = ['link add fbr0 type bridge', 'addr add 198.19.250.1/24 dev fbr0', 'link set fbr0 up'];
  const inner: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    host.push(`netns add floor-${i}`, `link add fv${i} type veth peer name eth0 netns floor-${i}`, `link set fv${i} master fbr0`, `link set fv${i} up`);
    const address = `198.19.250.${(i % 250) + 2}`;
    inner.push(`ip -n floor-${i} -batch - <<'EOF'\nlink set lo up\naddr add ${address}/24 dev eth0\nlink set eth0 up\nEOF`);
    if (announce) inner.push(`nsenter --net=/run/netns/floor-${i} arping -q -U -c 1 -I eth0 ${address} </dev/null >/dev/null 2>&1 &`);
  }
  return [`t0=$(date +%s%N)`, `ip -batch - <<'EOF'\n${host.join('\n')}\nEOF`, ...inner, 'echo $(( ($(date +%s%N) - t0) / 1000 ))'].join('\n');
}

export function floorTeardown(count: number): string {
  return [`for i in $(seq 1 ${count}); do ip netns pids floor-$i | xargs -r kill -KILL; ip netns del floor-$i; done`, 'ip link del fbr0'].join('\n');
}

const bridgeLab = (name: string, hosts: string[], perHost: number): string =>
  [`v: 1`, `name: ${name}`, `hosts: [${hosts.join(', ')}]`, 'networks:', '  - { name: lan, mode: bridge }', 'containers:', ...hosts.map((h) => `  - { name: ${h}c, count: ${perHost}, host: ${h}, networks: [lan] }`)].join('\n');

export interface ApplyBenchResult {
  count: number;
  floor: Summary;
  floorAnnounce: Summary;
  cnlab: Summary;
  oneHost: Summary;
  threeHosts: Summary;
  floorThreeHosts: Summary;
}

async function timeApply(labs: LabService, yaml: string): Promise<number> {
  const spec = parseTopologyText(yaml);
  const plan = await labs.plan(spec);
  const started = performance.now();
  await labs.runtime.apply(plan);
  const elapsed = performance.now() - started;
  await labs.runtime.teardown(spec.name, spec.hosts);
  return elapsed;
}

export async function benchApply(count = 100): Promise<ApplyBenchResult> {
  const testbed: Testbed = await startTestbed({ hosts: 3 });
  const fixture = await openTestService(['h1', 'h2', 'h3'].map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  try {
    const floor: number[] = [];
    const floorAnnounce: number[] = [];
    const cnlab: number[] = [];
    const oneHost: number[] = [];
    const threeHosts: number[] = [];
    const floorThreeHosts: number[] = [];
    await timeApply(labs, bridgeLab('warm', ['h1'], 10));
    for (let run = 0; run < RUNS; run += 1) {
      // Alternate so drift on the shared machine hits both sides alike.
      for (const [announce, samples] of [[false, floor], [true, floorAnnounce]] as const) {
        const result = await testbed.hostExec('h1', ['sh', '-c', floorScript(count, announce)]);
        samples.push(Number(result.stdout.trim().split('\n').pop()) / 1000);
        await testbed.hostExec('h1', ['sh', '-c', floorTeardown(count)]);
      }
      cnlab.push(await timeApply(labs, bridgeLab('bench', ['h1'], count)));
      oneHost.push(await timeApply(labs, bridgeLab('one', ['h1'], count)));
      threeHosts.push(await timeApply(labs, bridgeLab('three', ['h1', 'h2', 'h3'], count)));
      // The floor on 3 hosts at once: what this machine's cores allow, with no console involved.
      const parallel = await Promise.all(['h1', 'h2', 'h3'].map((host) => testbed.hostExec(host, ['sh', '-c', floorScript(count, true)])));
      floorThreeHosts.push(Math.max(...parallel.map((result) => Number(result.stdout.trim().split('\n').pop()) / 1000)));
      await Promise.all(['h1', 'h2', 'h3'].map((host) => testbed.hostExec(host, ['sh', '-c', floorTeardown(count)])));
    }
    return { count, floor: summarise(floor), floorAnnounce: summarise(floorAnnounce), cnlab: summarise(cnlab), oneHost: summarise(oneHost), threeHosts: summarise(threeHosts), floorThreeHosts: summarise(floorThreeHosts) };
  } finally {
    await fixture.dispose();
    await testbed.teardown();
  }
}

export function applyMarkdown(result: ApplyBenchResult): string {
  const ratio = (a: Summary, b: Summary): string => `${(a.median / b.median).toFixed(2)}x`;
  return [
    '## Topology apply (issue 3)',
    '',
    `${result.count} bridge containers, ${RUNS} alternating runs; min / median / max. The floor is the same kernel work as a hand-written`,
    '`ip -batch` script timed on the host itself; cnlab is timed at the console (planning excluded; SSH round trip, ledger,',
    'precheck, state and gratuitous ARP included). Target: cnlab within 1.3x of the floor, 3 hosts within 1.3x of one.',
    '',
    '| figure | value | ratio (median) |',
    '|---|---|---|',
    `| floor: hand-written ip -batch on the host | ${formatSummary(result.floor)} | 1.00x |`,
    `| floor + the same gratuitous ARPs cnlab sends (nsenter arping, background) | ${formatSummary(result.floorAnnounce)} | ${ratio(result.floorAnnounce, result.floor)} of floor |`,
    `| cnlab apply, one host | ${formatSummary(result.cnlab)} | ${ratio(result.cnlab, result.floor)} of floor, ${ratio(result.cnlab, result.floorAnnounce)} of floor + ARPs |`,
    `| per container (cnlab, median) | ${(result.cnlab.median / result.count).toFixed(2)} ms | |`,
    `| cnlab apply, ${result.count} on each of 3 hosts in parallel | ${formatSummary(result.threeHosts)} | ${ratio(result.threeHosts, result.oneHost)} of one host |`,
    `| floor + ARPs on 3 hosts at once (slowest host, no console) | ${formatSummary(result.floorThreeHosts)} | ${ratio(result.floorThreeHosts, result.floorAnnounce)} of the floor on one host |`,
    '',
  ].join('\n');
}
