// The facts probe over real SSH on testbed hosts, checked against what each host's kernel reports
// when read independently inside the host (never against values hard-coded for this machine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src-main/core/hosts/host-facts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

let testbed: Testbed;
let fixture: ServiceFixture;
let facts: HostFacts;

/** Whether the kernel lets the test itself create a link of this kind, in its own scratch namespace. */
async function kernelCreates(host: string, kind: string): Promise<boolean> {
  const ns = `cnlab-facts-test-${kind}`;
  const script = [
    `ip netns add ${ns}`,
    `ip -n ${ns} link add p0 type veth peer name p1 >/dev/null 2>&1`,
    `ip -n ${ns} link add t0 link p0 type ${kind} >/dev/null 2>&1; r=$?`,
    `ip netns del ${ns}`,
    'exit $r',
  ].join('; ');
  return (await testbed.hostExec(host, ['sh', '-c', script])).code === 0;
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService([testbedHost(testbed, 'h1'), testbedHost(testbed, 'h2-bob', { user: 'bob' })]);
  facts = await fixture.service.probe('h1');
});

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('facts of a testbed host over SSH', () => {
  it('reports the host name, kernel release and CPU count the host itself reports', async () => {
    const read = async (argv: string[]) => (await testbed.hostExec('h1', argv)).stdout.trim();
    expect(facts.hostname).toBe('h1');
    expect(facts.kernel.release).toBe(await read(['uname', '-r']));
    expect(facts.cpu.count).toBe(Number(await read(['nproc', '--all'])));
    expect(facts.probeMode).toBe('privileged');
    expect(facts.privilege.kind).toBe('root');
  });

  it('lists the host NICs with their addresses and marks the management NIC', async () => {
    const links = JSON.parse((await testbed.hostExec('h1', ['ip', '-j', 'link'])).stdout) as { ifname: string }[];
    expect(facts.nics.map((nic) => nic.name).sort()).toEqual(links.map((l) => l.ifname).filter((n) => n !== 'lo').sort());
    const eth0 = facts.nics.find((nic) => nic.name === 'eth0');
    expect(eth0?.addresses).toContain(`${testbed.host('h1').address}/24`);
    expect(eth0?.isManagement).toBe(true);
    expect(facts.management.address).toBe(testbed.host('h1').address);
    // Testbed hosts have no default route by design.
    expect(facts.defaultRoute).toBeNull();
  });

  it('decides macvlan and ipvlan support the way the kernel does, by trial', async () => {
    for (const kind of ['macvlan', 'ipvlan'] as const) {
      const feature = facts.kernelFeatures[kind];
      expect(feature?.source).toBe('trial');
      expect(feature?.supported).toBe(await kernelCreates('h1', kind));
      if (feature?.supported === false) expect(feature.reason).toBeTruthy();
    }
  });

  it('leaves no scratch namespace behind on the host', async () => {
    const left = (await testbed.hostExec('h1', ['ip', 'netns', 'list'])).stdout;
    expect(left).not.toContain('cnlab-probe-');
    expect(facts.scratchNamespace?.removed).toBe(true);
  });

  it('finds the tools installed on the host', async () => {
    const iperf = (await testbed.hostExec('h1', ['sh', '-c', 'iperf3 --version | head -1'])).stdout;
    const version = /iperf (\d+\.\d+)/.exec(iperf)?.[1];
    expect(version).toBeTruthy();
    expect(facts.tools.iperf3).toContain(version);
  });

  it('caches the facts with the time they were taken', async () => {
    const cached = await fixture.service.facts.load('h1');
    expect(cached?.probedAt).toBe(facts.probedAt);
  });

  it('probes an unprivileged user without trials, from the kernel config or as unknown', async () => {
    const bob = await fixture.service.probe('h2-bob');
    expect(bob.probeMode).toBe('unprivileged');
    expect(bob.privilege).toMatchObject({ kind: 'none', user: 'bob' });
    for (const feature of Object.values(bob.kernelFeatures)) expect(feature.source).not.toBe('trial');
  });
});
