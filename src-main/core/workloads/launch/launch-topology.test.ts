// The lab of a launch-time repetition: measured names, the macvlan anchor, when a peer is measured.
import { describe, expect, it } from 'vitest';
import { launchParamsSchema } from '../workload-params';
import { launchLayout, peerProblem } from './launch-topology';

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

  it('refuses a network that is not one, naming the problem', () => {
    expect(() => launchLayout({ ...base, params: params(1), network: { name: 'net', mode: 'warp' } })).toThrow(/not a valid network/);
  });
});
