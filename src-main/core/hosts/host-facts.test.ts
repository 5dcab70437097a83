// Tests of the HostFacts schema: what a saved facts record must contain to be trusted when read back.
// The parser's behaviour on real probe output is tested in facts-probe.test.ts.

import { describe, expect, it } from 'vitest';
import { KERNEL_FEATURES, hostFactsSchema, type HostFacts } from './host-facts';

function minimalFacts(): HostFacts {
  return {
    factsVersion: 1,
    probedAt: '2025-01-01T00:00:00.000Z',
    probeDurationMs: 12,
    probeMode: 'unprivileged',
    scratchNamespace: null,
    hostname: null,
    os: { id: null, name: null, prettyName: null, version: null, versionId: null },
    kernel: { release: null, configSource: null },
    arch: null,
    cpu: { model: null, count: null, online: null },
    memoryBytes: null,
    virtualization: { kind: 'unknown', source: 'none' },
    nics: [],
    defaultRoute: null,
    management: { address: null, nic: null, source: 'none' },
    kernelFeatures: Object.fromEntries(
      KERNEL_FEATURES.map((feature) => [feature, { supported: 'unknown', source: 'unknown' }]),
    ) as HostFacts['kernelFeatures'],
    tools: {
      iproute2: null,
      iperf3: null,
      sockperf: null,
      netperf: null,
      qperf: null,
      ping: null,
      nft: null,
      iptables: null,
      iptablesBackend: null,
      docker: null,
      dockerServer: null,
      bird: null,
      etcd: null,
    },
    cniPluginsDir: null,
    cniPlugins: [],
    privilege: { user: null, uid: null, kind: 'none' },
    warnings: [],
  };
}

describe('hostFactsSchema', () => {
  it('accepts a record where everything is unknown', () => {
    expect(hostFactsSchema.parse(minimalFacts())).toEqual(minimalFacts());
  });

  it('requires every kernel feature, so a reader never meets a silently missing one', () => {
    const facts = minimalFacts();
    const features: Record<string, unknown> = { ...facts.kernelFeatures };
    delete features.macvlan;
    expect(hostFactsSchema.safeParse({ ...facts, kernelFeatures: features }).success).toBe(false);
  });

  it('rejects a feature support value that is neither a boolean nor "unknown"', () => {
    const facts = minimalFacts();
    const bad = { ...facts, kernelFeatures: { ...facts.kernelFeatures, vxlan: { supported: 'maybe', source: 'trial' } } };
    expect(hostFactsSchema.safeParse(bad).success).toBe(false);
  });

  it('rejects a probe time that is not ISO 8601 and a virtualization kind it does not know', () => {
    expect(hostFactsSchema.safeParse({ ...minimalFacts(), probedAt: 'yesterday' }).success).toBe(false);
    expect(hostFactsSchema.safeParse({ ...minimalFacts(), virtualization: { kind: 'cloud', source: 'none' } }).success).toBe(false);
  });

  it('keeps NIC fields nullable but never a NIC without a name', () => {
    const nic = { name: 'eth0', mtu: null, state: null, mac: null, speedMbps: null, driver: null, kind: null, addresses: [], isManagement: false };
    expect(hostFactsSchema.safeParse({ ...minimalFacts(), nics: [nic] }).success).toBe(true);
    expect(hostFactsSchema.safeParse({ ...minimalFacts(), nics: [{ ...nic, name: '' }] }).success).toBe(false);
  });
});
