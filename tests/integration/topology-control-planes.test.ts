// The dynamic control planes on three real testbed hosts: vxlan driven by etcd (Flannel's design) and
// routed driven by BIRD over iBGP (Calico's design). Each is checked by the ping matrix and a short iperf3
// transfer; etcd by its leases and an update's propagation, BGP by the routes' origin, the absence of any
// encapsulation and a container added later that only BIRD makes reachable; both by a teardown that leaves
// no process, route, link or namespace behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labNames } from '../../src-main/core/topology/naming';
import { LabService } from '../../src-main/core/topology/lab-service';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { addressOf, iperf, testTopology } from '../support/lab-tools';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
const HOSTS = ['h1', 'h2', 'h3'];


async function hostSh(host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return testbed.hostExec(host, ['sh', '-c', script]);
}



/** Nanoseconds on the hosts' shared clock (all testbed hosts run on this machine's kernel). */
const NOW = 'date +%s%N';

/** On `host`, polls (5 ms) until `check` succeeds and prints the clock then; "timeout" after `seconds`. */
function pollScript(check: string, seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); until ${check}; do [ "$(date +%s)" -ge "$end" ] && { echo timeout; exit 1; }; sleep 0.005; done; ${NOW}`;
}

/** Daemons of a lab left on the hosts: bird, etcd, or anything running from the lab's folder. */
async function labProcesses(labId: string): Promise<string[]> {
  const found: string[] = [];
  for (const host of HOSTS) {
    for (const argv of [['pgrep', '-a', 'bird'], ['pgrep', '-a', 'etcd'], ['pgrep', '-af', `/run/cnlab/${labId}/`]]) {
      const result = await testbed.hostExec(host, argv);
      found.push(...result.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => `${host}: ${line}`));
    }
  }
  return found;
}

async function birdRoutes(host: string): Promise<string[]> {
  return (await hostSh(host, 'ip -4 route show')).stdout.split('\n').filter((line) => line.includes(' proto bird '));
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 3 });
  fixture = await openTestService(HOSTS.map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('vxlan with controlPlane etcd (Flannel design)', () => {
  it('runs etcd and a watch agent per host: leases in etcd, ping matrix, iperf3, updates in a fraction of a second, clean teardown', async () => {
    const spec = testTopology(
      'name: et1\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: ov, mode: vxlan, options: { vni: 43, controlPlane: etcd } }\n' +
        'containers:\n  - { name: a, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n  - { name: c, host: h3, networks: [ov] }\n',
    );
    const applied = await labs.apply(spec);
    try {
      expect(applied.status).toBe('applied');
      const plane = applied.record.controlPlanes?.[0];
      expect(plane).toMatchObject({ network: 'ov', kind: 'etcd', settings: { etcdHost: 'h1', keyPrefix: '/coreos.com/network/et1/' } });
      expect(plane?.daemons.find((daemon) => daemon.program === 'etcd')?.version).toMatch(/^\d+\.\d+/);
      const endpoint = String(plane?.settings.endpoint);

      // etcd holds one lease per host, with Flannel's value layout.
      const leases = await testbed.hostExec('h2', ['etcdctl', `--endpoints=${endpoint}`, 'get', '--prefix', '/coreos.com/network/et1/subnets/']);
      const lines = leases.stdout.split('\n').filter((line) => line !== '');
      const keys = lines.filter((line) => line.startsWith('/'));
      expect(keys).toHaveLength(3);
      for (const key of keys) expect(key).toMatch(/^\/coreos\.com\/network\/et1\/subnets\/198\.19\.\d+\.0-24$/);
      for (const host of HOSTS) expect(leases.stdout).toContain(`"PublicIP":"${testbed.host(host).address}","BackendType":"vxlan"`);
      expect((await testbed.hostExec('h1', ['pgrep', '-ax', 'etcd'])).stdout).toContain('etcd --config-file /run/cnlab/et1/etcd/etcd.conf.yml');
      expect((await testbed.hostExec('h2', ['pgrep', '-ax', 'etcd'])).stdout).toBe('');

      expect((await labs.verify('et1')).filter((outcome) => !outcome.ok)).toEqual([]);
      expect(await iperf(labs, 'et1', 'a', 'c', addressOf(applied.record, 'c'))).toBeGreaterThan(1e6);

      // Propagation: a lease written on h2 becomes a route on h1's VTEP; its deletion removes it.
      const vtep = labNames('et1').link('x', 'ov');
      const key = '/coreos.com/network/et1/subnets/198.19.250.0-24';
      const value = JSON.stringify({ PublicIP: testbed.host('h2').address, BackendType: 'vxlan', BackendData: { VNI: 43, VtepMAC: '02:00:00:00:00:fa' } });
      const seen = hostSh('h1', pollScript(`ip -4 route show 198.19.250.0/24 dev ${vtep} | grep -q .`, 10));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const put = await hostSh('h2', `${NOW}; etcdctl --endpoints=${endpoint} put ${key} '${value}' >/dev/null`);
      const appeared = await seen;
      expect(appeared.stdout).not.toContain('timeout');
      const updateMs = (Number(appeared.stdout.trim()) - Number(put.stdout.trim())) / 1e6;
      expect((await hostSh('h1', `bridge fdb show dev ${vtep}`)).stdout).toContain(`02:00:00:00:00:fa dst ${testbed.host('h2').address}`);
      const gone = hostSh('h1', pollScript(`! ip -4 route show 198.19.250.0/24 dev ${vtep} | grep -q .`, 10));
      const deleted = await hostSh('h2', `${NOW}; etcdctl --endpoints=${endpoint} del ${key} >/dev/null`);
      const removed = await gone;
      expect(removed.stdout).not.toContain('timeout');
      const deleteMs = (Number(removed.stdout.trim()) - Number(deleted.stdout.trim())) / 1e6;
      expect((await hostSh('h1', `bridge fdb show dev ${vtep}`)).stdout).not.toContain('02:00:00:00:00:fa');
      console.log(`etcd: apply ${JSON.stringify(applied.hostDurationsMs)} ms; lease put → route on h1 ${updateMs.toFixed(1)} ms, delete → route gone ${deleteMs.toFixed(1)} ms`);
      expect(updateMs).toBeLessThan(2000);
    } finally {
      const teardown = await labs.teardown('et1');
      expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
    }
    expect(await expectNothingLeft(testbed, 'et1')).toEqual([]);
    expect(await labProcesses('et1')).toEqual([]);
  }, 60_000);
  it('rolls back every host when one fails after its agent started: etcd on h1 and every agent stopped', async () => {
    const spec = testTopology(
      'name: et2\nhosts: [h1, h2, h3]\nnetworks:\n  - { name: ov, mode: vxlan, options: { vni: 44, controlPlane: etcd } }\n' +
        'containers:\n  - { name: a, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n  - { name: c, host: h3, networks: [ov] }\n',
    );
    const error = await labs.apply(spec, { failAfter: { host: 'h2', stepId: 'net/ov/agent' } }).then(
      () => null,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toContain('host h2: step net/ov/agent');
    expect(error?.message).toContain('everything applied on every host was rolled back');
    expect(await expectNothingLeft(testbed, 'et2')).toEqual([]);
    expect(await labProcesses('et2')).toEqual([]);
  }, 30_000);
});

/** BIRD's timers pinned small: first connection after 1 s, retries every second, a 3 s hold time. */
const bgpYaml =
  'name: bg1\nhosts: [h1, h2, h3]\nnetworks:\n' +
  '  - { name: rt, mode: routed, options: { controlPlane: bgp, connectDelayTime: 1, connectRetryTime: 1, holdTime: 3, keepaliveTime: 1 } }\n' +
  'containers:\n  - { name: a, host: h1, networks: [rt] }\n  - { name: b, host: h2, networks: [rt] }\n  - { name: c, host: h3, networks: [rt] }\n';

describe('routed with controlPlane bgp (Calico design)', () => {
  it('runs BIRD per host: routes learned over iBGP, no encapsulation, a later container reachable through BIRD alone, clean teardown', async () => {
    const spec = testTopology(bgpYaml);
    const started = Date.now();
    const applied = await labs.apply(spec, { timings: true });
    const applyMs = Date.now() - started;
    const late = { netns: 'cnlt-bg1-late', veth: 'cnlt-bg1-late', address: '198.19.200.9' };
    const bridge = labNames('bg1').link('b', 'rt');
    try {
      expect(applied.status).toBe('applied');
      const plane = applied.record.controlPlanes?.[0];
      expect(plane).toMatchObject({ network: 'rt', kind: 'bgp', settings: { asn: 64512, connectDelayTime: 1, holdTime: 3 } });
      expect(plane?.daemons.map((daemon) => daemon.host)).toEqual(HOSTS);
      const metric = Number(plane?.settings.kernelMetric);
      expect(metric).not.toBe(32);

      // h2 learned h1's block and a's /32 from BIRD; nothing else routes the pool on h2.
      const h1Block = addressOf(applied.record, 'a').replace(/\.\d+$/, '.0/24');
      const onH2 = await birdRoutes('h2');
      expect(onH2.some((line) => line.startsWith(`${h1Block} via ${testbed.host('h1').address} `) && line.includes(`proto bird metric ${metric}`))).toBe(true);
      expect(onH2.some((line) => line.startsWith(`${addressOf(applied.record, 'a')} via ${testbed.host('h1').address} `))).toBe(true);
      const poolRoutes = (await hostSh('h2', 'ip -4 route show | grep "^198\\.19\\."')).stdout.split('\n').filter((line) => line !== '');
      expect(poolRoutes.filter((line) => !line.includes('proto bird') && !line.includes(`dev ${bridge} `))).toEqual([]);
      // No encapsulation anywhere: no VXLAN, IPIP or GRE device on any host.
      for (const host of HOSTS) {
        const devices = (await hostSh(host, 'ip -d -o link show')).stdout;
        expect(devices, host).not.toMatch(/\b(vxlan|ipip|gre|gretap|geneve) /);
      }

      expect((await labs.verify('bg1')).filter((outcome) => !outcome.ok)).toEqual([]);
      expect(await iperf(labs, 'bg1', 'a', 'b', addressOf(applied.record, 'b'))).toBeGreaterThan(1e6);

      // A container added later on h1, the way a CNI plugin would (Calico's: a /32 host route), with an
      // address outside h1's block: only the /32 that BIRD carries makes it reachable from h2 and h3.
      const gateway = addressOf(applied.record, 'a').replace(/\.\d+$/, '.1');
      const add = await hostSh(
        'h1',
        [
          `ip netns add ${late.netns}`,
          `ip link add ${late.veth} type veth peer name eth0 netns ${late.netns}`,
          `ip link set ${late.veth} master ${bridge} up`,
          `ip -n ${late.netns} link set lo up`,
          `ip -n ${late.netns} addr add ${late.address}/32 dev eth0`,
          `ip -n ${late.netns} link set eth0 up`,
          `ip -n ${late.netns} route add ${gateway} dev eth0`,
          `ip -n ${late.netns} route add 198.19.0.0/16 via ${gateway}`,
        ].join(' && '),
      );
      expect(add.stderr).toBe('');
      const seen = hostSh('h2', pollScript(`ip -4 route show ${late.address} | grep -q 'proto bird'`, 20));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const announced = await hostSh('h1', `${NOW}; ip route add ${late.address}/32 dev ${bridge} proto static`);
      const appeared = await seen;
      expect(appeared.stdout).not.toContain('timeout');
      const learnMs = (Number(appeared.stdout.trim()) - Number(announced.stdout.trim())) / 1e6;
      expect((await birdRoutes('h3')).some((line) => line.startsWith(`${late.address} via ${testbed.host('h1').address} `))).toBe(true);
      expect((await labs.exec('bg1', 'b', ['ping', '-c', '1', '-W', '2', late.address])).code).toBe(0);
      expect((await labs.exec('bg1', 'c', ['ping', '-c', '1', '-W', '2', late.address])).code).toBe(0);
      // Withdrawn when its route goes.
      const gone = hostSh('h2', pollScript(`! ip -4 route show ${late.address} | grep -q 'proto bird'`, 20));
      const withdrawn = await hostSh('h1', `${NOW}; ip route del ${late.address}/32 dev ${bridge}`);
      const removed = await gone;
      expect(removed.stdout).not.toContain('timeout');
      const withdrawMs = (Number(removed.stdout.trim()) - Number(withdrawn.stdout.trim())) / 1e6;

      // Re-applied with one more container (a changed topology is re-created cleanly): the daemons are
      // replaced, and the new container's /32 reaches the other hosts through BIRD.
      const grown = testTopology(`${bgpYaml}  - { name: d, host: h2, networks: [rt] }\n`);
      const reapplied = await labs.apply(grown);
      expect(reapplied.status).toBe('applied');
      expect((await labs.verify('bg1')).filter((outcome) => !outcome.ok)).toEqual([]);
      const dAddress = addressOf(reapplied.record, 'd');
      for (const host of ['h1', 'h3']) expect((await birdRoutes(host)).some((line) => line.startsWith(`${dAddress} via ${testbed.host('h2').address} `)), host).toBe(true);
      expect((await testbed.hostExec('h2', ['pgrep', '-ax', 'bird'])).stdout.trim().split('\n')).toHaveLength(1);
      const steps = (id: string): string =>
        applied.timings
          .filter((timing) => timing.stepId === id)
          .map((timing) => `${timing.host} ${timing.durationMs.toFixed(0)}`)
          .join(', ');
      console.log(
        `bgp: apply ${applyMs} ms (hosts ${JSON.stringify(applied.hostDurationsMs)}); BIRD start [${steps('net/rt/bird')}] ms; converge wait [${steps('net/rt/converge')}] ms; ` +
          `later /32 on h1 → h2 ${learnMs.toFixed(0)} ms, withdrawal ${withdrawMs.toFixed(0)} ms`,
      );
    } finally {
      await hostSh('h1', `ip route del ${late.address}/32 dev ${bridge} 2>/dev/null; ip netns del ${late.netns} 2>/dev/null; true`);
      const teardown = await labs.teardown('bg1');
      expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
    }
    expect(await expectNothingLeft(testbed, 'bg1')).toEqual([]);
    expect(await labProcesses('bg1')).toEqual([]);
    for (const host of HOSTS) {
      expect(await birdRoutes(host), host).toEqual([]);
      expect((await hostSh(host, 'ip -4 route show | grep "^198\\.19\\." || true')).stdout, host).toBe('');
      expect((await hostSh(host, `ip netns list | grep ${late.netns} || true`)).stdout, host).toBe('');
    }
  }, 60_000);
});

describe('both control planes in one lab, on either backend', () => {
  it.each(['iproute2', 'cni'])('backend %s: applies, verifies and tears down cleanly', async (backend) => {
    const labId = `cp${backend.slice(0, 3)}`;
    const spec = testTopology(
      `name: ${labId}\nbackend: ${backend}\nhosts: [h1, h2]\nnetworks:\n` +
        '  - { name: ov, mode: vxlan, options: { vni: 45, controlPlane: etcd } }\n' +
        '  - { name: rt, mode: routed, options: { controlPlane: bgp, connectDelayTime: 1, connectRetryTime: 1, holdTime: 3, keepaliveTime: 1 } }\n' +
        'containers:\n  - { name: a, host: h1, networks: [ov, rt] }\n  - { name: b, host: h2, networks: [ov, rt] }\n',
    );
    const applied = await labs.apply(spec);
    try {
      expect(applied.record.controlPlanes?.map((plane) => plane.kind)).toEqual(['etcd', 'bgp']);
      expect((await labs.verify(labId)).filter((outcome) => !outcome.ok)).toEqual([]);
    } finally {
      const teardown = await labs.teardown(labId);
      expect(teardown.filter((host) => host.error || host.leftovers.length > 0)).toEqual([]);
    }
    expect(await expectNothingLeft(testbed, labId)).toEqual([]);
    expect(await labProcesses(labId)).toEqual([]);
  }, 30_000);
});
