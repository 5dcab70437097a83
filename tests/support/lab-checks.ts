// Independent checks of what a lab left on testbed hosts, read with the hosts' own tools (not through
// cnlab): namespaces, links carrying cnlab's alias, nft tables and ledgers.
import { expect } from 'vitest';
import type { Testbed } from '../../src-main/core/testbed/testbed.ts';
import type { LabService } from '../../src-main/core/topology/lab-service';
import type { TopologySpec } from '../../src-main/core/topology/topology-schema';
import { addressOf, iperf } from './lab-tools';

export interface HostLeftovers {
  host: string;
  netns: string[];
  links: string[];
  nftTables: string[];
  ledgers: string[];
}

export async function leftoversOn(testbed: Testbed, host: string, labId: string): Promise<HostLeftovers> {
  const run = async (argv: string[]): Promise<string> => (await testbed.hostExec(host, argv)).stdout;
  const netns = (await run(['ip', 'netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(`cnl-${labId}-`));
  const links = (await run(['ip', '-o', 'link', 'show'])).split('\n').filter((line) => line.includes(`alias cnlab:${labId}`));
  const nftTables = (await run(['nft', 'list', 'tables'])).split('\n').filter((line) => line.includes(`cnlab_${labId.replace(/-/g, '_')}`));
  const ledgers = (await run(['sh', '-c', 'ls /run/cnlab 2>/dev/null || true'])).split('\n').filter((name) => name === labId);
  return { host, netns, links, nftTables, ledgers };
}

export async function expectNothingLeft(testbed: Testbed, labId: string): Promise<HostLeftovers[]> {
  const all = await Promise.all(testbed.hosts.map((host) => leftoversOn(testbed, host.name, labId)));
  return all.filter((host) => host.netns.length + host.links.length + host.nftTables.length + host.ledgers.length > 0);
}

/**
 * Everything an experiment could leave on the testbed's hosts, read in one round trip per host: lab
 * namespaces, links carrying cnlab's alias, ledgers, running load generators and cnlab's temp dirs; and on
 * the hosts given, Docker containers and networks labelled by cnlab.
 */
export async function experimentLeftovers(testbed: Testbed, dockerHosts: readonly string[] = []): Promise<string[]> {
  const script = [
    "ip netns list | awk '$1 ~ /^cnl-/ { print $1 }'",
    "ip -o link show | grep 'alias cnlab:' || true",
    'ls /run/cnlab 2>/dev/null || true',
    'for tool in iperf3 sockperf ping; do pgrep -a -x "$tool"; done; true',
    'ls -d /tmp/cnlab-iperf3.* /tmp/cnlab-sockperf.* 2>/dev/null; true',
  ].join('\n');
  const found: string[] = [];
  for (const host of testbed.hosts) {
    const lines = (await testbed.hostExec(host.name, ['sh', '-c', script])).stdout.split('\n').filter(Boolean);
    found.push(...lines.map((line) => `${host.name}: ${line}`));
  }
  // Where a private Docker engine runs: any container or network still carrying cnlab's label.
  const docker = "docker ps -a --filter label=cnlab.lab --format '{{.Names}}'; docker network ls --filter label=cnlab.lab --format '{{.Name}}'";
  for (const host of dockerHosts) {
    found.push(...(await testbed.hostExec(host, ['sh', '-c', docker])).stdout.split('\n').filter(Boolean).map((line) => `${host}: docker ${line}`));
  }
  return found;
}

export interface ExerciseOptions {
  /** iperf3 from one container to another, which must carry more than minBps (default 1 Mbit/s). */
  transfer?: { client: string; server: string; minBps?: number };
  /** What else must be gone after the teardown (Docker objects, …), as a list that must come back empty. */
  alsoLeft?: (labId: string) => Promise<unknown[]>;
}

/** Apply, verify (every expectation as planned), iperf3 between two containers, teardown, nothing left. */
export async function exerciseLab(labs: LabService, testbed: Testbed, spec: TopologySpec, options: ExerciseOptions = {}): Promise<void> {
  const applied = await labs.apply(spec);
  try {
    expect(applied.status).toBe('applied');
    const outcomes = await labs.verify(spec.name);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const transfer = options.transfer;
    if (transfer) expect(await iperf(labs, spec.name, transfer.client, transfer.server, addressOf(applied.record, transfer.server))).toBeGreaterThan(transfer.minBps ?? 1e6);
  } finally {
    const teardown = await labs.teardown(spec.name);
    expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
  }
  expect(await expectNothingLeft(testbed, spec.name)).toEqual([]);
  if (options.alsoLeft) expect(await options.alsoLeft(spec.name)).toEqual([]);
}

/**
 * Processes on a testbed host that are not its sshd (PID 1 and the per-connection children that serve
 * cnlab's pooled connection): whatever cnlab's scripts started and left running (sleep, arping, ip,
 * nsenter, a load generator…), as `host: pid state args`. Polls up to `settleMs` for them to end by
 * themselves first: an apply's background arping ends within a second, and is no leftover.
 */
export async function strayProcesses(testbed: Testbed, hosts: readonly string[] = testbed.hosts.map((host) => host.name), settleMs = 3000): Promise<string[]> {
  // The lister and its ps are inside the host too: they name themselves by $$ and are left out.
  const script = 'echo "$$"; ps -e -o pid=,ppid=,stat=,comm=,args=';
  const deadline = Date.now() + settleMs;
  for (;;) {
    const found: string[] = [];
    for (const host of hosts) {
      const [self = '', ...lines] = (await testbed.hostExec(host, ['sh', '-c', script])).stdout.split('\n').filter(Boolean);
      for (const line of lines) {
        const [pid = '', ppid = '', stat = '', comm = '', ...args] = line.trim().split(/\s+/);
        if (pid === self.trim() || ppid === self.trim() || comm === 'sshd') continue;
        found.push(`${host}: ${pid} ${stat} ${args.join(' ')}`);
      }
    }
    if (found.length === 0 || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
