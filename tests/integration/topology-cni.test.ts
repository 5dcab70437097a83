// backend: cni on real testbed hosts, with Debian's reference plugins (/usr/lib/cni): bridge on one host,
// macvlan across two, vxlan across three. Each: apply, the ping matrix, a short iperf3, the recorded CNI
// results hold the planned addresses, CNI CHECK passes, and teardown leaves nothing: no namespace, link,
// ledger, host-local state outside /run/cnlab, nft or iptables rule, and forwarding as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CnlabError } from '../../src-main/core/errors';
import type { HostTeardown } from '../../src-main/core/topology/lab-runtime';
import { LabService } from '../../src-main/core/topology/lab-service';
import type { LabRecord } from '../../src-main/core/topology/lab-store';
import { type TopologySpec } from '../../src-main/core/topology/topology-schema';
import { expectNothingLeft } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { addressOf, iperf, testTopology } from '../support/lab-tools';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;




async function hostText(host: string, argv: string[]): Promise<string> {
  const result = await testbed.hostExec(host, argv);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} on ${host}: ${result.stderr}`);
  return result.stdout;
}

/** What the plugins could leave outside cnlab's own objects: firewall rules, state in the default folders, forwarding. */
async function foreignState(host: string): Promise<{ nft: string; iptables: string; cniState: string; forwarding: string }> {
  return {
    nft: (await hostText(host, ['nft', 'list', 'ruleset'])).trim(),
    iptables: (await hostText(host, ['sh', '-c', 'iptables-save 2>/dev/null; ip6tables-save 2>/dev/null'])).trim(),
    // host-local's default dataDir; the testbed hosts share this machine's /var/lib.
    cniState: (await hostText(host, ['sh', '-c', 'ls -A /var/lib/cni 2>/dev/null || true'])).trim(),
    forwarding: (await hostText(host, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(),
  };
}

/** Checks every recorded result: the address the planner allocated, on the interface CNI_IFNAME named. */
async function expectRecordedResults(spec: TopologySpec, record: LabRecord): Promise<void> {
  for (const container of record.containers) {
    if (container.netns === null || container.sharesWith !== null) continue;
    for (const entry of container.interfaces.filter((candidate) => candidate.address !== null)) {
      const dir = `/run/cnlab/${spec.name}/cni`;
      const result = JSON.parse(await hostText(container.host, ['cat', `${dir}/results/${container.name}-${entry.ifname}.json`])) as {
        cniVersion: string;
        interfaces: { name: string; sandbox?: string }[];
        ips: { address: string; interface?: number }[];
      };
      expect(result.cniVersion).toBe('1.0.0');
      expect(result.ips.map((ip) => ip.address)).toEqual([entry.address]);
      const inside = result.interfaces[result.ips[0]?.interface ?? -1];
      expect(inside).toMatchObject({ name: entry.ifname, sandbox: `/run/netns/${container.netns}` });
      const config = JSON.parse(await hostText(container.host, ['cat', `${dir}/config/${container.name}-${entry.ifname}.json`])) as { cniVersion: string; ipMasq?: boolean };
      expect(config.cniVersion).toBe('1.0.0');
      expect(config.ipMasq ?? false).toBe(false);
    }
  }
}

/** Apply, verify, iperf3, recorded results, CHECK, teardown, nothing left; returns the applied record. */
async function exercise(spec: TopologySpec, transfer: { client: string; server: string }, inspect?: (record: LabRecord) => Promise<void>): Promise<LabRecord> {
  const before = await Promise.all(spec.hosts.map((host) => foreignState(host)));
  const started = performance.now();
  const applied = await labs.apply(spec);
  const applyMs = performance.now() - started;
  try {
    expect(applied.status).toBe('applied');
    const outcomes = await labs.verify(spec.name);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const bps = await iperf(labs, spec.name, transfer.client, transfer.server, addressOf(applied.record, transfer.server));
    expect(bps).toBeGreaterThan(1e6);
    await expectRecordedResults(spec, applied.record);
    const checks = await labs.check(spec.name);
    const own = applied.record.containers.filter((c) => c.netns !== null && c.sharesWith === null);
    // loopback for each namespace, plus one per addressed interface
    expect(checks.length).toBe(own.length + own.flatMap((c) => c.interfaces.filter((i) => i.address !== null)).length);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    await inspect?.(applied.record);
    console.info(`${spec.name}: apply ${applyMs.toFixed(0)} ms for ${own.length} containers (${JSON.stringify(applied.hostDurationsMs)} on the hosts)`);
  } finally {
    const teardown = await labs.teardown(spec.name);
    expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
  }
  expect(await expectNothingLeft(testbed, spec.name)).toEqual([]);
  expect(await Promise.all(spec.hosts.map((host) => foreignState(host)))).toEqual(before);
  return applied.record;
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 3 });
  fixture = await openTestService(['h1', 'h2', 'h3'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
  const facts = await labs.factsFor(['h1', 'h2', 'h3']);
  for (const host of ['h1', 'h2', 'h3']) expect(facts[host]?.cniPlugins).toEqual(expect.arrayContaining(['bridge', 'host-local', 'loopback', 'macvlan']));
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('backend cni', () => {
  it('bridge on one host, with a none container and a pod', async () => {
    await exercise(
      testTopology(
        `name: cnibr\nbackend: cni\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\n  - { name: iso, mode: none }\ncontainers:\n  - { name: c, count: 3, host: h1, networks: [lan] }\n  - { name: lone, host: h1, networks: [iso] }\n  - { name: side, host: h1, shareNetnsWith: c1 }\n`,
      ),
      { client: 'c1', server: 'c2' },
      async () => {
        // The DEL in the ledger is harmless when the interface, and then the namespace, are already gone.
        const ledger = await hostText('h1', ['cat', '/run/cnlab/cnibr/ledger']);
        const undo = ledger.split('\n').find((line) => line.startsWith('cni\tc3/eth0/bridge\t'))?.split('\t')[2] ?? '';
        expect(undo).toContain('CNI_COMMAND=DEL');
        for (let run = 0; run < 2; run += 1) expect((await testbed.hostExec('h1', ['sh', '-c', undo])).code).toBe(0);
        expect((await testbed.hostExec('h1', ['ip', '-n', 'cnl-cnibr-c3', 'link', 'show', 'eth0'])).code).not.toBe(0);
        expect((await testbed.hostExec('h1', ['ip', 'netns', 'del', 'cnl-cnibr-c3'])).code).toBe(0);
        expect((await testbed.hostExec('h1', ['sh', '-c', undo])).code).toBe(0);
      },
    );
  });

  it('macvlan across two hosts on the shared underlay', async () => {
    await exercise(
      testTopology(`name: cnimv\nbackend: cni\nhosts: [h1, h2]\nnetworks:\n  - { name: mv, mode: macvlan }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [mv] }\n  - { name: b, host: h2, networks: [mv] }\n`),
      { client: 'a1', server: 'b' },
    );
  });

  it('vxlan across three hosts, with the same container addresses as backend iproute2', async () => {
    const yaml = (backend: string): string =>
      `name: cnivx\nbackend: ${backend}\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: ov, mode: vxlan, options: { vni: 43 } }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n  - { name: c, host: h3, networks: [ov] }\n`;
    /** Addresses as the containers' kernels show them. */
    const seen = async (record: LabRecord): Promise<string[]> =>
      Promise.all(record.containers.map(async (c) => `${c.name} ${(await labs.exec(record.labId, c.name, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.split(/\s+/)[3] ?? ''}`));

    const iproute2 = await labs.apply(testTopology(yaml('iproute2')));
    let iproute2Seen: string[];
    try {
      iproute2Seen = await seen(iproute2.record);
    } finally {
      await labs.teardown('cnivx');
    }
    let cniSeen: string[] = [];
    const record = await exercise(testTopology(yaml('cni')), { client: 'a1', server: 'c' }, async (applied) => {
      cniSeen = await seen(applied);
    });
    expect(cniSeen).toEqual(iproute2Seen);
    expect(record.containers.map((c) => c.interfaces[0]?.address)).toEqual(iproute2.record.containers.map((c) => c.interfaces[0]?.address));
    expect(cniSeen).toEqual(['a1 198.19.0.2/24', 'a2 198.19.0.3/24', 'b 198.19.1.2/24', 'c 198.19.2.2/24']);
    expect(await expectNothingLeft(testbed, 'cnivx')).toEqual([]);
  });

  it('rolls back every plugin ADD on every host when the second host fails half-way', async () => {
    const spec = testTopology(`name: cnirb\nbackend: cni\nhosts: [h1, h2]\nnetworks:\n  - { name: ov, mode: vxlan }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [ov] }\n  - { name: b, count: 2, host: h2, networks: [ov] }\n`);
    const before = await Promise.all(spec.hosts.map((host) => foreignState(host)));
    const plan = await labs.plan(spec);
    const error = await labs.runtime.apply(plan, { failAfter: { host: 'h2', stepId: 'b1/cni' } }).then(
      () => null,
      (e: unknown) => e as CnlabError,
    );
    expect(error?.message).toMatch(/host h2: step b1\/cni .*injected fault.*everything applied on every host was rolled back/s);
    // h2 had run b1's ADDs (and written every entry ahead): its DELs, namespaces and host objects were undone.
    const rollback = error?.details.rollback as HostTeardown[];
    expect(rollback.find((host) => host.host === 'h2')?.undone).toBeGreaterThan(4);
    expect(await expectNothingLeft(testbed, 'cnirb')).toEqual([]);
    expect(await Promise.all(spec.hosts.map((host) => foreignState(host)))).toEqual(before);
  });
});
