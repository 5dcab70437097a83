// What validation refuses about the dynamic control planes, with the exact messages: missing etcd or
// BIRD named per host with the package to install, options that belong to another control plane,
// conflicting ports and timers, and a second network of the same control plane in one lab.
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../../errors';
import { planLab, type PlanContext } from '../planner';
import { contextFor, specOf } from '../planner.test-support';
import type { TopologyInput } from '../topology-schema';
import { daemonArgv, daemonRestartCommand } from './control-planes';
import { startDetachedCommand } from './daemons';

type Input = Omit<TopologyInput, 'v'>;
const H3 = ['h1', 'h2', 'h3'];

function context(tools: Record<string, { etcd?: string | null; bird?: string | null }>): PlanContext {
  const result = contextFor(H3);
  for (const [name, facts] of Object.entries(result.facts)) Object.assign(facts.tools, { etcd: '3.4.23', bird: '2.0.12' }, tools[name] ?? {});
  return result;
}

function refusal(input: Input, given: PlanContext = context({})): string[] {
  try {
    planLab(specOf(input), given);
  } catch (error) {
    expect(error).toBeInstanceOf(CnlabError);
    return (error as CnlabError).message.split('\n');
  }
  throw new Error('the plan was not refused');
}

const lab = (networks: Input['networks'], containers: Input['containers'] = H3.map((host) => ({ name: `c-${host}`, host, networks: (networks ?? []).map((network) => network.name) }))): Input => ({
  name: 'lab',
  hosts: H3,
  networks,
  containers,
});

describe('control-plane refusals', () => {
  it('needs etcd only on the host that runs it (the first), naming it and the packages', () => {
    const input = lab([{ name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd' } }]);
    expect(refusal(input, context({ h1: { etcd: null } }))).toEqual([
      "network ov (controlPlane etcd): etcd is not installed on host h1, which runs the lab's etcd: install it there (Debian: apt-get install etcd-server etcd-client)",
    ]);
    expect(() => planLab(specOf(input), context({ h2: { etcd: null }, h3: { etcd: null } }))).not.toThrow();
  });

  it('needs BIRD on every host of the network, naming each host without it', () => {
    const input = lab([{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } }]);
    expect(refusal(input, context({ h2: { bird: null }, h3: { bird: null } }))).toEqual([
      'network rt (controlPlane bgp): BIRD is not installed on host h2: install it there (Debian: apt-get install bird2)',
      'network rt (controlPlane bgp): BIRD is not installed on host h3: install it there (Debian: apt-get install bird2)',
    ]);
    // A host without containers on the network runs no BIRD and needs none.
    const twoHosts = lab([{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } }], [{ name: 'a', host: 'h1', networks: ['rt'] }, { name: 'b', host: 'h2', networks: ['rt'] }]);
    expect(() => planLab(specOf(twoHosts), context({ h3: { bird: null } }))).not.toThrow();
  });

  it('refuses options of another control plane', () => {
    expect(
      refusal(
        lab([
          { name: 'ov', mode: 'vxlan', options: { etcdClientPort: 4001 } },
          { name: 'rt', mode: 'routed', options: { holdTime: 9, asn: 65000 } },
        ]),
      ),
    ).toEqual([
      'network ov: options.etcdClientPort applies to controlPlane etcd only: remove it or set controlPlane: etcd',
      'network rt: options.asn applies to controlPlane bgp only: remove it or set controlPlane: bgp',
      'network rt: options.holdTime applies to controlPlane bgp only: remove it or set controlPlane: bgp',
    ]);
  });

  it('refuses equal etcd ports and a keepalive not below the hold time', () => {
    expect(
      refusal(
        lab([
          { name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd', etcdClientPort: 23800 } },
          { name: 'rt', mode: 'routed', options: { controlPlane: 'bgp', holdTime: 3, keepaliveTime: 3 } },
        ]),
      ),
    ).toEqual([
      'network ov: etcdClientPort and etcdPeerPort are both 23800: give them different ports',
      'network rt: keepaliveTime 3 must be below holdTime 3: lower keepaliveTime (a third of holdTime is usual)',
    ]);
  });

  it('refuses a second network of the same control plane in one lab', () => {
    expect(
      refusal(
        lab([
          { name: 'ov1', mode: 'vxlan', options: { controlPlane: 'etcd', vni: 1 } },
          { name: 'ov2', mode: 'vxlan', options: { controlPlane: 'etcd', vni: 2 } },
        ]),
      ),
    ).toEqual(['networks ov1, ov2 all use controlPlane etcd, but a lab runs one etcd for one such network: keep one of them, or put the others in another lab']);
  });

  it('lets one container be on both: each network\'s range route has its own metric', () => {
    const plan = planLab(
      specOf(
        lab([
          { name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd' } },
          { name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } },
        ]),
      ),
      context({}),
    );
    const linkUp = plan.hosts[1]?.steps.find((entry) => entry.id === 'c-h2/link-up')?.run[0];
    expect(linkUp).toMatchObject({ lines: ['link set eth0 up', 'link set eth1 up', 'route add 198.19.0.0/16 via 198.19.1.1 metric 100', 'route add 198.19.0.0/16 via 198.19.4.1 metric 101'] });
    expect(plan.controlPlanes?.map((plane) => plane.kind)).toEqual(['etcd', 'bgp']);
  });

  it('refuses timers BIRD would not take, in the schema', () => {
    for (const options of [{ holdTime: 2 }, { connectDelayTime: 0 }, { connectRetryTime: 0 }, { bgpPort: 0 }, { kernelMetric: 0 }, { asn: 0 }]) {
      expect(() => specOf(lab([{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp', ...options } }])), JSON.stringify(options)).toThrow();
    }
  });

  it('still needs the hosts on one subnet for BGP sessions and next hops', () => {
    const given = context({});
    const h3 = given.facts.h3;
    if (!h3) throw new Error('no facts for h3');
    given.managementAddress.h3 = '203.0.113.7';
    h3.management.address = '203.0.113.7';
    h3.nics = h3.nics.map((nic) => (nic.name === 'eth0' ? { ...nic, addresses: ['203.0.113.7/24'] } : nic));
    const problems = refusal(lab([{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } }]), given);
    expect(problems).toContain("network rt: host h3's address 203.0.113.7 is not on any subnet of host h1, and routed mode sends plain packets to it as the next hop: put the hosts on one subnet or use mode vxlan");
  });
});

describe('daemon restarts', () => {
  const planOf = (network: NonNullable<Input['networks']>[number]): ReturnType<typeof planLab> => planLab(specOf(lab([network])), context({}));

  it('start each daemon with the command line its apply step used, and stop it with its ledger undo', () => {
    for (const network of [
      { name: 'ov', mode: 'vxlan', options: { controlPlane: 'etcd' } },
      { name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } },
    ] as const) {
      const plan = planOf(network);
      const controlPlane = plan.controlPlanes?.[0];
      if (!controlPlane) throw new Error('no control plane');
      expect(controlPlane.daemons.length).toBeGreaterThan(0);
      for (const daemon of controlPlane.daemons) {
        const steps = plan.hosts.find((host) => host.host === daemon.host)?.steps ?? [];
        const start = startDetachedCommand(daemonArgv(controlPlane, daemon), daemon.pidFile, daemon.logFile);
        const step = steps.find((candidate) => candidate.run.some((command) => command.kind === 'shell' && command.text.includes(start)));
        expect(step, `${daemon.program} on ${daemon.host}`).toBeDefined();
        const entry = step?.creates.find((candidate) => candidate.kind === 'process' && candidate.name.endsWith(daemon.pidFile));
        expect(daemonRestartCommand(controlPlane, daemon)).toBe(`( ${entry?.undo ?? '?'} ); ${start}`);
      }
    }
  });
});
