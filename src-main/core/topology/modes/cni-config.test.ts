// CNI network configs: the exact JSON each plugin gets, host-local limited to the planned address with
// its state in the lab's folder, and `static` only where host-local could not give the address.
import { describe, expect, it } from 'vitest';
import { bridgeConfig, ipamConfig, loopbackConfig, pluginsOf, renderCniConfig, stackedConfig, type CniConfig } from './cni-config';

const DATA = '/run/cnlab/lab/cni/host-local';

describe('ipamConfig', () => {
  it('limits host-local to the one planned address, with the gateway and routes', () => {
    expect(
      ipamConfig({ subnet: '198.19.1.0/24', address: '198.19.1.7', gateway: '198.19.1.1', routes: [{ dst: '198.19.2.0/24', gw: '198.19.1.1' }], dataDir: DATA }),
    ).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '198.19.1.0/24', rangeStart: '198.19.1.7', rangeEnd: '198.19.1.7', gateway: '198.19.1.1' }]],
      routes: [{ dst: '198.19.2.0/24', gw: '198.19.1.1' }],
      dataDir: DATA,
    });
  });

  it('leaves out gateway and routes where the network has none (macvlan, ipvlan)', () => {
    expect(ipamConfig({ subnet: '198.19.0.0/24', address: '198.19.0.2', gateway: null, routes: [], dataDir: DATA })).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '198.19.0.0/24', rangeStart: '198.19.0.2', rangeEnd: '198.19.0.2' }]],
      dataDir: DATA,
    });
  });

  it('uses static IPAM for the first address of a gateway-less subnet, which host-local keeps as its default gateway', () => {
    expect(ipamConfig({ subnet: '198.19.9.0/24', address: '198.19.9.1', gateway: null, routes: [], dataDir: DATA })).toEqual({
      type: 'static',
      addresses: [{ address: '198.19.9.1/24' }],
    });
  });
});

describe('configs', () => {
  const ipam = ipamConfig({ subnet: '198.19.0.0/24', address: '198.19.0.2', gateway: '198.19.0.1', routes: [], dataDir: DATA });

  it('renders the bridge plugin config with isGateway on and ipMasq off, cniVersion first', () => {
    expect(renderCniConfig(bridgeConfig('cnlab-lab-lan', 'c1234b123456789', 1450, ipam))).toBe(
      '{"cniVersion":"1.0.0","name":"cnlab-lab-lan","type":"bridge","bridge":"c1234b123456789","isGateway":true,"ipMasq":false,"hairpinMode":false,"mtu":1450,' +
        '"ipam":{"type":"host-local","ranges":[[{"subnet":"198.19.0.0/24","rangeStart":"198.19.0.2","rangeEnd":"198.19.0.2","gateway":"198.19.0.1"}]],"dataDir":"/run/cnlab/lab/cni/host-local"}}',
    );
  });

  it('leaves the MTU to the plugin when the topology sets none', () => {
    expect(bridgeConfig('n', 'b', null, ipam)).not.toHaveProperty('mtu');
  });

  it('renders macvlan and ipvlan with their master and mode', () => {
    expect(stackedConfig('cnlab-lab-mv', 'macvlan', 'eth0', 'bridge', null, ipam)).toEqual({
      cniVersion: '1.0.0',
      name: 'cnlab-lab-mv',
      type: 'macvlan',
      master: 'eth0',
      mode: 'bridge',
      ipam,
    });
    expect(JSON.parse(renderCniConfig(stackedConfig('n', 'ipvlan', 'eth1', 'l3', 1400, ipam)))).toMatchObject({ type: 'ipvlan', master: 'eth1', mode: 'l3', mtu: 1400 });
  });

  it('gives the loopback plugin nothing but its name', () => {
    expect(renderCniConfig(loopbackConfig('cnlab-lab-lo'))).toBe('{"cniVersion":"1.0.0","name":"cnlab-lab-lo","type":"loopback"}');
  });

  it('names the plugins an attachment execs, IPAM included', () => {
    expect(pluginsOf(loopbackConfig('n'))).toEqual(['loopback']);
    expect(pluginsOf(bridgeConfig('n', 'b', null, ipam))).toEqual(['bridge', 'host-local']);
    expect(pluginsOf(stackedConfig('n', 'macvlan', 'eth0', 'vepa', null, ipamConfig({ subnet: '10.0.0.0/24', address: '10.0.0.1', gateway: null, routes: [], dataDir: DATA })))).toEqual([
      'macvlan',
      'static',
    ]);
  });

  it('refuses a config that does not start with its version (the apply splices it there)', () => {
    const config = { name: 'n', cniVersion: '1.0.0', type: 'loopback' } as CniConfig;
    expect(() => renderCniConfig(config)).toThrow(/must start with its cniVersion/);
  });
});
