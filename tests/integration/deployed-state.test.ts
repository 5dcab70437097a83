// The topology as deployed, read back from real testbed hosts: a bridge network with a non-default MTU
// and a rate limit, and a VXLAN overlay across two hosts. Every container's namespace and interfaces,
// the MTU, the VNI, offload flags and qdiscs must be in the capture, and nothing but the lab's objects;
// after teardown nothing is left and a capture finds nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureDeployedState, type DeployedLabState, type DeployedState } from '../../src-main/core/topology/deployed-state';
import { LabService, type AppliedLab } from '../../src-main/core/topology/lab-service';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { testTopology } from '../support/lab-tools';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

const LAB = 'dstate';
const VNI = 4343;
const MTU = 1450;

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
let applied: AppliedLab | null = null;

const executorFor = (host: string) => fixture.service.executor(host);

function hostState(capture: DeployedLabState, host: string): DeployedState {
  const state = capture.hosts.find((candidate) => candidate.host === host);
  if (!state) throw new Error(`no capture of host ${host}`);
  return state;
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  if (applied) await labs.teardown(LAB).catch(() => undefined);
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('captureDeployedState on a two-host lab', () => {
  it('records every namespace, link, MTU, VNI, offloads and qdiscs; after teardown nothing is left', async () => {
    const spec = testTopology(
      `name: ${LAB}\nhosts: [h1, h2]\nnetworks:\n` +
        `  - { name: lan, mode: bridge, options: { mtu: ${MTU} }, shaping: { rate: 200mbit } }\n` +
        `  - { name: ov, mode: vxlan, options: { vni: ${VNI} } }\n` +
        'containers:\n  - { name: a, count: 2, host: h1, networks: [lan, ov] }\n  - { name: b, host: h2, networks: [ov] }\n',
    );
    applied = await labs.apply(spec);
    const record = applied.record;

    const capture = await captureDeployedState(record, executorFor);
    expect(capture.failures).toEqual([]);
    expect(capture.hosts.map((host) => host.host).sort()).toEqual(['h1', 'h2']);
    for (const state of capture.hosts) {
      expect(state.notes).toEqual([]);
      expect(state.capturedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }

    // Every container: its namespace, each planned interface with its address, offloads and a qdisc.
    for (const container of record.containers) {
      const state = hostState(capture, container.host);
      const ns = state.namespaces.find((candidate) => candidate.name === container.netns);
      expect(ns, `namespace of ${container.name}`).toBeDefined();
      if (!ns) continue;
      for (const planned of container.interfaces) {
        const link = ns.links.find((candidate) => candidate.name === planned.ifname);
        expect(link, `${container.name} ${planned.ifname}`).toMatchObject({ kind: 'veth', state: 'UP' });
        expect(link?.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        expect(ns.addresses).toContainEqual(expect.objectContaining({ ifname: planned.ifname, address: planned.address?.split('/')[0], prefixLength: Number(planned.address?.split('/')[1]) }));
        expect(link?.offloads).toHaveProperty('tcp-segmentation-offload');
        expect(link?.offloads).toHaveProperty('generic-receive-offload');
        expect(ns.qdiscs.some((qdisc) => qdisc.dev === planned.ifname)).toBe(true);
        // The host end is the planned host device, on the host, enslaved to the network's bridge.
        expect(link?.peer).toMatchObject({ name: planned.hostDevice, netns: null, found: true });
        const hostEnd = state.rootLinks.find((candidate) => candidate.name === planned.hostDevice);
        expect(hostEnd?.peer).toMatchObject({ name: planned.ifname, netns: container.netns });
        expect(state.rootLinks.find((candidate) => candidate.name === hostEnd?.master)?.kind).toBe('bridge');
        if (planned.network === 'lan') {
          expect(link?.mtu).toBe(MTU);
          expect(hostEnd?.mtu).toBe(MTU);
          // The rate limit: tbf (or htb where the kernel lacks tbf) on both ends of the link.
          expect(ns.qdiscs.find((qdisc) => qdisc.dev === planned.ifname && qdisc.parent === 'root')?.kind).toMatch(/^(tbf|htb)$/);
          expect(state.rootQdiscs.find((qdisc) => qdisc.dev === planned.hostDevice && qdisc.parent === 'root')?.kind).toMatch(/^(tbf|htb)$/);
        }
      }
    }

    // The VXLAN device on each host: its VNI and port, routes through it; its underlay NIC is named
    // but not read. The host links are the lab's only (its alias, or enslaved to one of its bridges).
    for (const host of ['h1', 'h2']) {
      const state = hostState(capture, host);
      const vxlans = state.rootLinks.filter((link) => link.kind === 'vxlan');
      expect(vxlans).toHaveLength(1);
      expect(vxlans[0]?.vxlan).toMatchObject({ id: VNI, port: 4789 });
      expect(vxlans[0]?.offloads).toHaveProperty('tcp-segmentation-offload');
      // The other host's container block is routed through the VXLAN device.
      expect(state.rootRoutes.some((route) => route.dev === vxlans[0]?.name)).toBe(true);
      expect(state.rootLinks.every((link) => link.alias === `cnlab:${LAB}`)).toBe(true);
      expect(state.rootLinks.map((link) => link.name)).not.toContain(vxlans[0]?.vxlan?.dev);
      expect(state.rootQdiscs.length).toBe(state.rootLinks.length);
      // Independently: the kernel says the same VNI.
      const seen = await testbed.hostExec(host, ['ip', '-d', 'link', 'show', 'dev', vxlans[0]?.name ?? '']);
      expect(seen.stdout).toContain(`vxlan id ${VNI} `);
    }
    expect(hostState(capture, 'h1').namespaces.map((ns) => ns.name).sort()).toEqual([`cnl-${LAB}-a1`, `cnl-${LAB}-a2`]);
    expect(hostState(capture, 'h2').namespaces.map((ns) => ns.name)).toEqual([`cnl-${LAB}-b`]);
    // The captured state is plain JSON.
    expect(JSON.parse(JSON.stringify(capture))).toEqual(capture);

    const teardown = await labs.teardown(LAB);
    applied = null;
    expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
    expect(await expectNothingLeft(testbed, LAB)).toEqual([]);

    const after = await captureDeployedState(record, executorFor);
    expect(after.failures).toEqual([]);
    for (const state of after.hosts) {
      expect(state.rootLinks).toEqual([]);
      expect(state.namespaces).toEqual([]);
      expect(state.notes.every((note) => /^namespace cnl-dstate-\S+ is missing$/.test(note))).toBe(true);
    }
    expect(after.hosts.flatMap((state) => state.notes)).toHaveLength(3);
  });
});
