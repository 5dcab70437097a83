// The lab of a launch-time repetition: measured names, the macvlan anchor, when a peer is measured,
// container mode's owner and the measured containers joining it (planned under netns and docker).
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../../tests/support/cnlab-error';
import { planLab } from '../../topology/planner';
import { contextFor } from '../../topology/planner.test-support';
import { launchParamsSchema } from '../workload-params';
import { launchLayout, launchModeName, peerProblem } from './launch-topology';

const base = { labId: 'ln-t', addressPool: '198.19.0.0/16', host: 'h1', peerHost: 'h2' };
const params = (containers: number, fromPeer = false) => launchParamsSchema.parse({ tool: 'launch', containers, fromPeer });

describe('launchLayout', () => {
  it('puts K measured containers on the host, one host only without a peer', () => {
    const layout = launchLayout({ ...base, params: params(3), network: { name: 'net', mode: 'bridge' } });
    expect(layout.measured).toEqual(['c1', 'c2', 'c3']);
    expect(layout.spec.hosts).toEqual(['h1']);
    expect(layout.spec.containers).toEqual([expect.objectContaining({ name: 'c', host: 'h1', count: 3, networks: ['net'] })]);
    expect(layout.peerHost).toBeNull();
  });

  it('gives macvlan an anchor created before the measured ones, so each has a container to ping', () => {
    const layout = launchLayout({ ...base, params: params(2), network: { name: 'net', mode: 'macvlan' } });
    expect(layout.spec.containers.map((c) => c.name)).toEqual(['a', 'c']);
  });

  it('adds a peer on the other host for spanning modes with fromPeer, and says why not otherwise', () => {
    const vxlan = launchLayout({ ...base, params: params(2, true), network: { name: 'net', mode: 'vxlan' } });
    expect(vxlan.peerHost).toBe('h2');
    expect(vxlan.spec.hosts).toEqual(['h1', 'h2']);
    expect(vxlan.spec.containers.find((c) => c.name === 'p')?.host).toBe('h2');
    const bridge = launchLayout({ ...base, params: params(2, true), network: { name: 'net', mode: 'bridge' } });
    expect(bridge.peerHost).toBeNull();
    expect(bridge.peerSkipped).toContain('does not span hosts');
    expect(peerProblem(vxlan.network, 'h1', 'h1')).toContain('other than the measured one');
  });

  it('measures etcd and BGP from a peer too, with the peer host first so that etcd runs there', () => {
    const etcd = launchLayout({ ...base, params: params(1, true), network: { name: 'net', mode: 'vxlan', options: { controlPlane: 'etcd' } } });
    expect(etcd).toMatchObject({ peerHost: 'h2', peerSkipped: null, controlPlane: 'etcd' });
    expect(etcd.spec.hosts).toEqual(['h2', 'h1']);
    const bgp = launchLayout({ ...base, params: params(1, true), network: { name: 'net', mode: 'routed', options: { controlPlane: 'bgp' } } });
    expect(bgp).toMatchObject({ peerHost: 'h2', controlPlane: 'bgp' });
    const staticVxlan = launchLayout({ ...base, params: params(1, true), network: { name: 'net', mode: 'vxlan' } });
    expect(staticVxlan).toMatchObject({ controlPlane: null });
    expect(staticVxlan.spec.hosts).toEqual(['h1', 'h2']);
  });

  it('container mode: an owner on the network first, then c1..cK each joining its namespace', () => {
    const layout = launchLayout({ ...base, params: params(3), network: { name: 'net', mode: 'bridge' }, sharesNetns: true });
    expect(layout.measured).toEqual(['c1', 'c2', 'c3']);
    expect(layout.spec.hosts).toEqual(['h1']);
    expect(layout.spec.containers).toEqual([
      { name: 'o', host: 'h1', networks: ['net'] },
      { name: 'c1', host: 'h1', networks: [], shareNetnsWith: 'o' },
      { name: 'c2', host: 'h1', networks: [], shareNetnsWith: 'o' },
      { name: 'c3', host: 'h1', networks: [], shareNetnsWith: 'o' },
    ]);
    expect(layout.sharesNetns).toBe(true);
    expect(launchModeName(layout)).toBe('container');
    expect(launchModeName(launchLayout({ ...base, params: params(1), network: { name: 'net', mode: 'bridge' } }))).toBe('bridge');
  });

  it.each(['netns', 'docker'] as const)('container mode under %s: every measured container gets a first reply from the owner’s namespace, to the gateway', (runtime) => {
    const layout = launchLayout({ ...base, params: params(2), network: { name: 'net', mode: 'bridge' }, sharesNetns: true, runtime });
    const context = contextFor(layout.spec.hosts);
    if (runtime === 'docker') {
      for (const facts of Object.values(context.facts)) {
        facts.tools.dockerServer = '20.10.24';
        facts.docker = { serverVersion: '20.10.24', apiVersion: '1.41', storageDriver: 'overlay2', cgroupDriver: 'cgroupfs', cgroupVersion: '1', swarm: { state: 'inactive', nodeId: null, controlAvailable: false, managers: null, nodes: null }, networkDrivers: ['bridge', 'host', 'null'], defaultAddressPools: [] };
      }
    }
    const plan = planLab(layout.spec, { ...context, measureFirstReply: true });
    const steps = plan.hosts[0]?.steps ?? [];
    const owner = plan.containers.find((container) => container.name === 'o');
    for (const name of layout.measured) {
      const own = steps.filter((step) => step.container === name);
      // netns: joining creates nothing, so the first reply is the whole launch; docker: create, start, first reply.
      expect(own.map((step) => step.phase)).toEqual(runtime === 'docker' ? ['container-create', 'container-start', 'first-reply'] : ['first-reply']);
      expect(own.at(-1)?.run).toEqual([{ kind: 'first-reply', netns: owner?.netns, address: '198.19.0.1' }]);
      // It answers on the owner's address.
      expect(plan.containers.find((container) => container.name === name)?.interfaces[0]?.address).toBe(owner?.interfaces[0]?.address);
    }
    // The owner is up, first reply included, before the first measured container starts.
    const ids = steps.map((step) => step.id);
    expect(ids.indexOf('o/first-reply')).toBeLessThan(ids.findIndex((id) => id.startsWith('c1/')));
  });

  it('container mode skips the peer, which it cannot reach on another host, and says so', () => {
    const layout = launchLayout({ ...base, params: params(2, true), network: { name: 'net', mode: 'bridge' }, sharesNetns: true });
    expect(layout.peerHost).toBeNull();
    expect(layout.spec.hosts).toEqual(['h1']);
    expect(layout.peerSkipped).toBe('mode container does not span hosts');
    // Even on a network that spans hosts, the shared namespace is on one host.
    expect(peerProblem(layout.network, 'h1', 'h2', true)).toBe('mode container does not span hosts');
    expect(launchLayout({ ...base, params: params(1, true), network: { name: 'net', mode: 'vxlan' }, sharesNetns: true }).peerHost).toBeNull();
  });

  it('container mode refuses an owner network with no namespace or link to share (host, none)', () => {
    for (const mode of ['host', 'none']) {
      const error = thrownCnlabError(() => launchLayout({ ...base, params: params(1), network: { name: 'net', mode }, sharesNetns: true }));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toBe(`launch time: mode container joins an owner's namespace on a network of its own, and mode ${mode} gives the owner none: put the owner on a bridge network`);
    }
  });

  it('refuses a network that is not one, naming the problem', () => {
    expect(() => launchLayout({ ...base, params: params(1), network: { name: 'net', mode: 'warp' } })).toThrow(/not a valid network/);
  });
});
