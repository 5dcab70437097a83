// Link shaping on real testbed hosts: a rate-limited bridge network measured with iperf3 next to an
// unshaped one, netem options decided from the probed facts (refused where the kernel lacks netem),
// underlay shaping refused on the management NIC and applied (and undone) on another NIC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../../src-main/core/errors';
import { LabService } from '../../src-main/core/topology/lab-service';
import { type TopologySpec } from '../../src-main/core/topology/topology-schema';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { addressOf, iperf, testTopology } from '../support/lab-tools';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;




async function refusalOf(spec: TopologySpec): Promise<string> {
  const error = await labs.apply(spec).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CnlabError);
  return (error as CnlabError).message;
}

async function rootQdisc(host: string, dev: string): Promise<string> {
  return (await testbed.hostExec(host, ['tc', 'qdisc', 'show', 'dev', dev, 'root'])).stdout.trim();
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 1 });
  fixture = await openTestService([testbedHost(testbed, 'h1')]);
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('shaping container links', () => {
  it('rate 50mbit gives an iperf3 throughput of 40-55 Mbit/s each way, while an unshaped pair is far faster', async () => {
    const spec = testTopology(
      `name: shp1\nhosts: [h1]\nnetworks:\n  - { name: slow, mode: bridge, shaping: { rate: 50mbit } }\n  - { name: fast, mode: bridge }\ncontainers:\n  - { name: s, count: 2, host: h1, networks: [slow] }\n  - { name: u, count: 2, host: h1, networks: [fast] }\n`,
    );
    const facts = await labs.factsFor(['h1']);
    if (facts.h1?.kernelFeatures.tbf?.supported !== true && facts.h1?.kernelFeatures.htb?.supported !== true) {
      expect(await refusalOf(spec)).toContain("rate needs tbf or htb, which host h1's kernel lacks");
      return;
    }
    const applied = await labs.apply(spec);
    try {
      // Both ends carry cnlab's qdisc: the host end of the veth and eth0 inside the container.
      const veth = applied.record.containers.find((c) => c.name === 's1')?.interfaces[0]?.hostDevice ?? '';
      expect(await rootQdisc('h1', veth)).toMatch(/^qdisc (tbf|htb) c1ab: root .*rate 50Mbit/);
      expect((await labs.exec('shp1', 's1', ['tc', 'qdisc', 'show', 'dev', 'eth0', 'root'])).stdout).toMatch(/qdisc (tbf|htb) c1ab: root .*rate 50Mbit/);
      const unshapedVeth = applied.record.containers.find((c) => c.name === 'u1')?.interfaces[0]?.hostDevice ?? '';
      expect(await rootQdisc('h1', unshapedVeth)).toMatch(/^qdisc noqueue 0: root/);

      const shaped = await iperf(labs, 'shp1', 's1', 's2', addressOf(applied.record, 's2'), { seconds: 3 });
      const shapedBack = await iperf(labs, 'shp1', 's1', 's2', addressOf(applied.record, 's2'), { seconds: 3, reverse: true });
      const unshaped = await iperf(labs, 'shp1', 'u1', 'u2', addressOf(applied.record, 'u2'), { seconds: 3 });
      console.info(`shaped 50mbit: ${(shaped / 1e6).toFixed(1)} Mbit/s, reverse ${(shapedBack / 1e6).toFixed(1)} Mbit/s; unshaped: ${(unshaped / 1e6).toFixed(0)} Mbit/s`);
      for (const bps of [shaped, shapedBack]) {
        expect(bps).toBeGreaterThan(40e6);
        expect(bps).toBeLessThan(55e6);
      }
      expect(unshaped).toBeGreaterThan(10 * shaped);
    } finally {
      const teardown = await labs.teardown('shp1');
      expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
    }
    expect(await expectNothingLeft(testbed, 'shp1')).toEqual([]);
  }, 90_000);

  it('delay and loss need netem: refused where the probed kernel lacks it, applied where it has it', async () => {
    const spec = testTopology(
      `name: shp2\nhosts: [h1]\nnetworks:\n  - { name: wan, mode: bridge, shaping: { rate: 100mbit, delay: 10ms, loss: 0 } }\ncontainers:\n  - { name: w, count: 2, host: h1, networks: [wan] }\n`,
    );
    const facts = await labs.factsFor(['h1']);
    const netem = facts.h1?.kernelFeatures.netem;
    if (netem?.supported === true) {
      const applied = await labs.apply(spec);
      try {
        // 10 ms on each of the two links, each way: about 40 ms round trip.
        const ping = await labs.exec('shp2', 'w1', ['ping', '-n', '-c', '3', '-i', '0.2', addressOf(applied.record, 'w2')]);
        const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1]);
        expect(avg).toBeGreaterThan(38);
      } finally {
        await labs.teardown('shp2');
      }
    } else {
      const message = await refusalOf(spec);
      expect(message).toContain(`network wan: delay/loss need netem, which host h1's kernel lacks${netem?.reason ? ` (${netem.reason})` : ''}`);
    }
    expect(await expectNothingLeft(testbed, 'shp2')).toEqual([]);
  });
});

describe('underlay shaping', () => {
  it('refuses the management NIC, by default and when named, and leaves its qdisc alone', async () => {
    const before = await rootQdisc('h1', 'eth0');
    const lab = (entry: string) =>
      testTopology(`name: shp3\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c1, host: h1, networks: [lan] }\nunderlayShaping:\n  - ${entry}\n`);
    for (const entry of ['{ host: h1, rate: 1gbit }', '{ host: h1, nic: eth0, rate: 1gbit }']) {
      const message = await refusalOf(lab(entry));
      expect(message).toContain(`underlayShaping of host h1 (eth0): eth0 is host h1's management NIC (it carries ${testbed.host('h1').address}`);
      expect(message).toContain('cnlab never changes the management NIC');
    }
    expect(await rootQdisc('h1', 'eth0')).toBe(before);
    expect(await expectNothingLeft(testbed, 'shp3')).toEqual([]);
  });

  it('shapes another NIC, undoes it from the ledger, and never replaces a qdisc someone else set', async () => {
    // A second NIC of h1 with no address, standing in for a data-plane NIC; removed in finally.
    expect((await testbed.hostExec('h1', ['ip', 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1'])).code).toBe(0);
    try {
      await testbed.hostExec('h1', ['ip', 'link', 'set', 'ul0', 'up']);
      await fixture.service.probe('h1');
      const spec = testTopology(
        `name: shp4\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c1, host: h1, networks: [lan] }\nunderlayShaping:\n  - { host: h1, nic: ul0, rate: 1gbit }\n`,
      );
      const facts = await labs.factsFor(['h1']);
      if (facts.h1?.kernelFeatures.tbf?.supported !== true && facts.h1?.kernelFeatures.htb?.supported !== true) return;
      const defaultQdisc = await rootQdisc('h1', 'ul0');
      expect(defaultQdisc).toMatch(/^qdisc \S+ 0: root/);

      await labs.apply(spec);
      expect(await rootQdisc('h1', 'ul0')).toMatch(/^qdisc (tbf|htb) c1ab: root .*rate 1Gbit/);
      const ledger = (await testbed.hostExec('h1', ['cat', '/run/cnlab/shp4/ledger'])).stdout;
      expect(ledger).toContain('qdisc\tul0\ttc qdisc del dev ul0 root handle c1ab:');
      const teardown = await labs.teardown('shp4');
      expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
      expect(await rootQdisc('h1', 'ul0')).toBe(defaultQdisc);
      expect(await expectNothingLeft(testbed, 'shp4')).toEqual([]);

      // Someone else's root qdisc: the apply refuses before writing anything, and it stays.
      expect((await testbed.hostExec('h1', ['tc', 'qdisc', 'replace', 'dev', 'ul0', 'root', 'pfifo'])).code).toBe(0);
      const theirs = await rootQdisc('h1', 'ul0');
      const message = await refusalOf(spec);
      expect(message).toContain('step precheck');
      expect(message).toContain('ul0 already has a root qdisc this apply did not set');
      expect(await rootQdisc('h1', 'ul0')).toBe(theirs);
      expect(await expectNothingLeft(testbed, 'shp4')).toEqual([]);
    } finally {
      await testbed.hostExec('h1', ['ip', 'link', 'del', 'ul0']);
    }
  });
});
