// Every network mode applied on real testbed hosts, single host and across hosts: each checked by the
// ping matrix, a short iperf3 transfer between containers, and a teardown that leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../../src-main/core/errors';
import { LabService } from '../../src-main/core/topology/lab-service';
import { type TopologySpec } from '../../src-main/core/topology/topology-schema';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { exerciseLab, expectNothingLeft } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { addressOf, iperf, testTopology } from '../support/lab-tools';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;

function exercise(spec: TopologySpec, transfer?: { client: string; server: string }): Promise<void> {
  return exerciseLab(labs, testbed, spec, transfer ? { transfer } : {});
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 3 });
  fixture = await openTestService(['h1', 'h2', 'h3'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('single-host modes', () => {
  it('bridge: containers on one bridge reach each other', async () => {
    await exercise(
      testTopology(`name: br1\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 3, host: h1, networks: [lan] }\n`),
      { client: 'c1', server: 'c2' },
    );
  });

  it('none: a container has loopback only and reaches nobody', async () => {
    await exercise(testTopology(`name: none1\nhosts: [h1]\nnetworks:\n  - { name: iso, mode: none }\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: lone, host: h1, networks: [iso] }\n  - { name: c1, host: h1, networks: [lan] }\n`));
  });

  it('container mode: a second container shares the first one\'s namespace', async () => {
    const spec = testTopology(`name: pod1\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: app, host: h1, networks: [lan] }\n  - { name: sidecar, host: h1, shareNetnsWith: app }\n  - { name: peer, host: h1, networks: [lan] }\n`);
    const applied = await labs.apply(spec);
    try {
      const seen = await labs.exec('pod1', 'sidecar', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      expect(seen.stdout).toContain(`${addressOf(applied.record, 'app')}/`);
      expect((await labs.verify('pod1')).filter((o) => !o.ok)).toEqual([]);
      expect(await iperf(labs, 'pod1', 'peer', 'sidecar', addressOf(applied.record, 'app'))).toBeGreaterThan(1e6);
    } finally {
      await labs.teardown('pod1');
    }
    expect(await expectNothingLeft(testbed, 'pod1')).toEqual([]);
  });

  it('host mode: the container is the host namespace', async () => {
    await exercise(testTopology(`name: host1\nhosts: [h1, h2]\nnetworks:\n  - { name: hostnet, mode: host }\ncontainers:\n  - { name: a, host: h1, networks: [hostnet] }\n  - { name: b, host: h2, networks: [hostnet] }\n`), { client: 'a', server: 'b' });
  });

  it('refuses a mode the host kernel lacks, naming host and feature, or runs it where present', async () => {
    const spec = testTopology(`name: ipv1\nhosts: [h1]\nnetworks:\n  - { name: ipv, mode: ipvlan }\ncontainers:\n  - { name: c, count: 2, host: h1, networks: [ipv] }\n`);
    const facts = await labs.factsFor(['h1']);
    if (facts.h1?.kernelFeatures.ipvlan?.supported === true) {
      await exercise(spec, { client: 'c1', server: 'c2' });
    } else {
      const error = await labs.apply(spec).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(CnlabError);
      expect((error as CnlabError).message).toContain('ipvlan is not available on host h1');
      expect(await expectNothingLeft(testbed, 'ipv1')).toEqual([]);
    }
  });
});

describe('multi-host modes', () => {
  it('bridge on two hosts: same host reaches, other host is isolated', async () => {
    await exercise(testTopology(`name: br2\nhosts: [h1, h2]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [lan] }\n  - { name: b, count: 2, host: h2, networks: [lan] }\n`));
  });

  it('macvlan across hosts on the shared underlay', async () => {
    await exercise(testTopology(`name: mv1\nhosts: [h1, h2]\nnetworks:\n  - { name: mv, mode: macvlan }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [mv] }\n  - { name: b, host: h2, networks: [mv] }\n`), { client: 'a1', server: 'b' });
  });

  it('vxlan overlay (static control plane) across three hosts', async () => {
    await exercise(testTopology(`name: vx1\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: ov, mode: vxlan, options: { vni: 42 } }\ncontainers:\n  - { name: a, count: 2, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n  - { name: c, host: h3, networks: [ov] }\n`), { client: 'a1', server: 'c' });
  });

  it('routed (static routes, no encapsulation) across three hosts', async () => {
    await exercise(testTopology(`name: rt1\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: rt, mode: routed }\ncontainers:\n  - { name: a, host: h1, networks: [rt] }\n  - { name: b, host: h2, networks: [rt] }\n  - { name: c, host: h3, networks: [rt] }\n`), { client: 'a', server: 'b' });
  });

  it('nat: a published container port is reached at the host address from another host', async () => {
    const spec = testTopology(`name: nat1\nhosts: [h1, h2]\nnetworks:\n  - { name: natnet, mode: nat, options: { publish: [5301], hostPortBase: 20000 } }\n  - { name: hostnet, mode: host }\ncontainers:\n  - { name: web, host: h1, networks: [natnet] }\n  - { name: client, host: h2, networks: [hostnet] }\n`);
    await labs.apply(spec);
    try {
      expect((await labs.verify('nat1')).filter((o) => !o.ok)).toEqual([]);
      // The client on h2 reaches the container only through h1's address and the published port.
      expect(await iperf(labs, 'nat1', 'client', 'web', testbed.host('h1').address, { port: 20000 })).toBeGreaterThan(1e6);
    } finally {
      await labs.teardown('nat1');
    }
    expect(await expectNothingLeft(testbed, 'nat1')).toEqual([]);
  });
});
