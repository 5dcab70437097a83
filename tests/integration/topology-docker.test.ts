// Runtime docker on real Docker engines (one private dockerd inside each testbed host): every single-host
// mode and macvlan across hosts applied, verified by the ping matrix, measured with iperf3 and torn down
// with nothing left (no labelled container or network, namespace, ledger); a failed apply rolled back; a
// user's own container of the same name refused and never touched; a lab whose ledger is lost swept by label.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../../src-main/core/errors';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { experimentFromData } from '../../src-main/core/experiment/experiment-schema';
import { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText, type TopologySpec } from '../../src-main/core/topology/topology-schema';
import { exerciseLab, expectNothingLeft } from '../support/lab-checks';
import { addressOf, iperf } from '../support/lab-tools';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { recordingContext } from '../support/workload-context';
import { runLaunch } from '../../src-main/core/workloads/launch/launch-workload';
import type { Measurement } from '../../src-main/core/workloads/workload-context';
import { launchParamsSchema } from '../../src-main/core/workloads/workload-params';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
const daemons: HostDockerd[] = [];
let rawDir: string;

/** What Docker on a host still holds of a lab: containers and networks with its label. */
async function dockerLeftovers(labId: string): Promise<string[]> {
  const found: string[] = [];
  for (const host of testbed.hosts) {
    const script = `docker ps -a --filter label=cnlab.lab=${labId} --format '{{.Names}}'; docker network ls --filter label=cnlab.lab=${labId} --format '{{.Name}}'`;
    const lines = (await testbed.hostExec(host.name, ['sh', '-c', script])).stdout.split('\n').filter(Boolean);
    found.push(...lines.map((line) => `${host.name}: ${line}`));
  }
  return found;
}

async function expectClean(labId: string): Promise<void> {
  expect(await expectNothingLeft(testbed, labId)).toEqual([]);
  expect(await dockerLeftovers(labId)).toEqual([]);
}

function exercise(spec: TopologySpec, transfer?: { client: string; server: string }): Promise<void> {
  return exerciseLab(labs, testbed, spec, { ...(transfer ? { transfer: { ...transfer, minBps: 1e8 } } : {}), alsoLeft: dockerLeftovers });
}

/** A docker topology in the lower half of the tests' range; Docker's own networks take the top (see beforeAll). */
const docker = (yaml: string): TopologySpec => parseTopologyText(`v: 1\naddressPool: 198.19.0.0/17\nruntime: docker\n${yaml}`, 'test topology');

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  // No docker0: its prefix would overlap the labs' pool (cnlab refuses pools that overlap host prefixes).
  // Docker's own networks (docker_gwbridge of a swarm) from the top of the labs' range, far from what cnlab allocates.
  for (const host of ['h1', 'h2']) daemons.push(await startHostDockerd(testbed, host, { bip: null, addressPool: '198.19.224.0/19' }));
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
  rawDir = mkdtempSync(join(tmpdir(), 'cnlab-docker-raw-'));
}, 180_000);

afterAll(async () => {
  if (rawDir) rmSync(rawDir, { recursive: true, force: true });
  await fixture?.dispose();
  for (const daemon of daemons) await daemon.stop();
  await testbed?.teardown();
}, 120_000);

describe('runtime docker on a real Docker engine', () => {
  it('bridge: containers on one Docker bridge network reach each other; the lab image is built from the host tools', async () => {
    await exercise(docker('name: dbr\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 3, host: h1, networks: [lan] }\n'), { client: 'c1', server: 'c2' });
    const images = (await testbed.hostExec('h1', ['docker', 'image', 'ls', '--filter', 'label=cnlab.image=lab', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim();
    expect(images).toMatch(/^cnlab-lab:[0-9a-f]{16}$/);
  }, 120_000);

  it('none, container mode (a pod) and host mode', async () => {
    await exercise(docker('name: dnone\nhosts: [h1]\nnetworks:\n  - { name: iso, mode: none }\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: lone, host: h1, networks: [iso] }\n  - { name: c1, host: h1, networks: [lan] }\n'));
    const pod = docker('name: dpod\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: app, host: h1, networks: [lan] }\n  - { name: sidecar, host: h1, shareNetnsWith: app }\n  - { name: peer, host: h1, networks: [lan] }\n');
    const applied = await labs.apply(pod);
    try {
      expect((await labs.exec('dpod', 'sidecar', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain(`${addressOf(applied.record, 'app')}/`);
      // Docker itself says the sidecar runs in the app container's namespace.
      const mode = await testbed.hostExec('h1', ['docker', 'inspect', '--format', '{{.HostConfig.NetworkMode}}', 'cnl-dpod-sidecar']);
      expect(mode.stdout.trim()).toMatch(/^container:[0-9a-f]{64}$/);
      expect((await labs.verify('dpod')).filter((o) => !o.ok)).toEqual([]);
      expect(await iperf(labs, 'dpod', 'peer', 'sidecar', addressOf(applied.record, 'app'))).toBeGreaterThan(1e8);
    } finally {
      await labs.teardown('dpod');
    }
    await expectClean('dpod');
    await exercise(docker('name: dhost\nhosts: [h1, h2]\nnetworks:\n  - { name: hostnet, mode: host }\ncontainers:\n  - { name: a, host: h1, networks: [hostnet] }\n  - { name: b, host: h2, networks: [hostnet] }\n'), { client: 'a', server: 'b' });
  }, 120_000);

  it('macvlan across two hosts on the underlay, and a second network as eth1', async () => {
    const spec = docker('name: dmv\nhosts: [h1, h2]\nnetworks:\n  - { name: mv, mode: macvlan }\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: a, host: h1, networks: [mv, lan] }\n  - { name: b, host: h2, networks: [mv] }\n  - { name: c, host: h1, networks: [lan] }\n');
    const applied = await labs.apply(spec);
    try {
      const eth1 = await labs.exec('dmv', 'a', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']);
      const lan = applied.record.containers.find((container) => container.name === 'a')?.interfaces[1]?.address ?? '';
      expect(lan).not.toBe('');
      expect(eth1.stdout).toContain(lan);
      expect((await labs.verify('dmv')).filter((o) => !o.ok)).toEqual([]);
      expect(await iperf(labs, 'dmv', 'b', 'a', addressOf(applied.record, 'a'))).toBeGreaterThan(1e8);
    } finally {
      await labs.teardown('dmv');
    }
    await expectClean('dmv');
  }, 120_000);

  it('nat: a published port on the host address carries iperf3 from another host', async () => {
    const spec = docker('name: dnat\nhosts: [h1, h2]\nnetworks:\n  - { name: natnet, mode: nat, options: { publish: [5301], hostPortBase: 20000 } }\n  - { name: hostnet, mode: host }\ncontainers:\n  - { name: server, host: h1, networks: [natnet] }\n  - { name: client, host: h2, networks: [hostnet] }\n');
    await labs.apply(spec);
    try {
      expect((await labs.verify('dnat')).filter((o) => !o.ok)).toEqual([]);
      expect(await iperf(labs, 'dnat', 'client', 'server', testbed.host('h1').address, { port: 20000 })).toBeGreaterThan(1e8);
    } finally {
      await labs.teardown('dnat');
    }
    await expectClean('dnat');
  }, 120_000);

  it('a failed apply is rolled back on every host, Docker objects included', async () => {
    const spec = docker('name: dfail\nhosts: [h1, h2]\nnetworks:\n  - { name: mv, mode: macvlan }\ncontainers:\n  - { name: a, host: h1, networks: [mv] }\n  - { name: b, host: h2, networks: [mv] }\n');
    const failure = await labs.apply(spec, { failAfter: { host: 'h1', stepId: 'a/start' } }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CnlabError);
    expect((failure as CnlabError).message).toMatch(/a\/start.*rolled back/);
    await expectClean('dfail');
  }, 120_000);

  it('refuses to start over a user’s container of the same name, and leaves it alone', async () => {
    await testbed.hostExec('h1', ['docker', 'network', 'create', '--internal', '--subnet', '198.19.250.0/24', 'users-net']);
    const image = (await testbed.hostExec('h1', ['docker', 'image', 'ls', '--filter', 'label=cnlab.image=lab', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n')[0] ?? '';
    expect(image).not.toBe('');
    await testbed.hostExec('h1', ['docker', 'run', '-d', '--name', 'cnl-dusr-c1', '--network', 'users-net', image]);
    try {
      const spec = docker('name: dusr\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 2, host: h1, networks: [lan] }\n');
      await expect(labs.apply(spec)).rejects.toThrow(/Docker objects already exist on this host, not created by this apply: cnl-dusr-c1/);
      const still = await testbed.hostExec('h1', ['docker', 'inspect', '--format', '{{.State.Running}}', 'cnl-dusr-c1']);
      expect(still.stdout.trim()).toBe('true');
      await expectClean('dusr');
    } finally {
      await testbed.hostExec('h1', ['sh', '-c', 'docker rm -f cnl-dusr-c1 >/dev/null; docker network rm users-net >/dev/null']);
    }
  }, 120_000);

  it('sweeps a lab whose ledger was lost by its label, and nothing else', async () => {
    const spec = docker('name: dswp\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 2, host: h1, networks: [lan] }\n');
    await labs.apply(spec);
    // As after a crash that lost /run/cnlab: the objects remain, labelled, with no ledger naming them.
    await testbed.hostExec('h1', ['rm', '-rf', '/run/cnlab/dswp']);
    await testbed.hostExec('h1', ['sh', '-c', 'for n in $(ip netns list | awk \'/^cnl-dswp-/ {print $1}\'); do ip netns delete "$n"; done']);
    const swept = await labs.sweepHosts(['h1'], false);
    const found = swept.get('h1');
    expect(found).not.toBeInstanceOf(CnlabError);
    expect((found as { kind: string; name: string }[]).map((item) => `${item.kind} ${item.name}`).sort()).toEqual(['docker-container cnl-dswp-c1', 'docker-container cnl-dswp-c2', 'docker-network cnl-dswp-lan']);
    await expectClean('dswp');
  }, 120_000);
});

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** One warm-up and three measured launches of two containers on h1 under a runtime; nothing left after each. */
async function launches(mode: string, runtime: 'netns' | 'docker'): Promise<Measurement[]> {
  const runs: Measurement[] = [];
  const labId = `dl-${mode}-${runtime}`.slice(0, 20);
  for (let index = 0; index <= 3; index++) {
    const { ctx } = recordingContext(fixture.service, { rawRoot: rawDir, firstPort: 42000 });
    const params = launchParamsSchema.parse({ tool: 'launch', containers: 2 });
    const run = await runLaunch(ctx, { params, labs, network: { name: 'net', mode }, labId, addressPool: '198.19.0.0/17', host: 'h1', peerHost: 'h2', runtime });
    if (index > 0) runs.push(run);
    await expectClean(labId);
  }
  return runs;
}

/** Each host's swarm state as Docker reports it. */
async function swarmStates(): Promise<string[]> {
  return Promise.all(testbed.hosts.map(async (host) => (await testbed.hostExec(host.name, ['docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim()));
}

describe('runtime docker against the hosts’ facts and in experiments', () => {
  it('refuses ipvlan where the kernel lacks it (Docker’s driver needs it too), and pins a container’s CPUs', async () => {
    const facts = await fixture.service.probe('h1');
    const ipvlan = docker('name: dipv\nhosts: [h1]\nnetworks:\n  - { name: ipv, mode: ipvlan }\ncontainers:\n  - { name: c, count: 2, host: h1, networks: [ipv] }\n');
    if (facts.kernelFeatures.ipvlan?.supported === false) await expect(labs.apply(ipvlan)).rejects.toThrow(/network ipv: .*ipvlan/);
    else await exercise(ipvlan, { client: 'c1', server: 'c2' });
    await expectClean('dipv');
    const pinned = docker('name: dcpu\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c1, host: h1, networks: [lan], cpuset: "0" }\n');
    await labs.apply(pinned);
    try {
      expect((await testbed.hostExec('h1', ['docker', 'inspect', '--format', '{{.HostConfig.CpusetCpus}}', 'cnl-dcpu-c1'])).stdout.trim()).toBe('0');
      // What cnlab runs in the container's namespace runs on its CPUs too.
      expect((await labs.exec('dcpu', 'c1', ['grep', 'Cpus_allowed_list', '/proc/self/status'])).stdout).toMatch(/Cpus_allowed_list:\s+0\n/);
    } finally {
      await labs.teardown('dcpu');
    }
    await expectClean('dcpu');
    // The same under netns, where the cpuset has no container process of its own to pin.
    const netns = parseTopologyText('v: 1\naddressPool: 198.19.0.0/17\nname: ncpu\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c1, host: h1, networks: [lan], cpuset: "0" }\n', 'test topology');
    await labs.apply(netns);
    try {
      expect((await labs.exec('ncpu', 'c1', ['grep', 'Cpus_allowed_list', '/proc/self/status'])).stdout).toMatch(/Cpus_allowed_list:\s+0\n/);
    } finally {
      await labs.teardown('ncpu');
    }
    await expectClean('ncpu');
  }, 120_000);

  it('runs an experiment with a case under Docker beside the same mode under netns, and records the image it ran', async () => {
    const experiments = new ExperimentService(fixture.service, labs, fixture.workspaceDir);
    const spec = experimentFromData(
      {
        v: 1,
        kind: 'experiment',
        name: 'dexp',
        hosts: ['h1', 'h2'],
        addressPool: '198.19.0.0/17',
        placement: { server: 'h1', client: 'h2' },
        modes: [{ mode: 'macvlan' }, { mode: 'macvlan', runtime: 'docker' }],
        workload: { tool: 'iperf3', duration: 1 },
        repetitions: 2,
        warmup: 0,
        cooldown: 0,
      },
      'dexp',
    );
    const record = await experiments.start(spec);
    expect(record.state).toBe('completed');
    const details = await experiments.show(record.runId);
    expect(details.cells.map((cell) => [cell.caseLabel, cell.runs])).toEqual([
      ['macvlan', 2],
      ['macvlan-docker', 2],
    ]);
    for (const cell of details.cells) expect(cell.metrics.throughputBitsPerSecond?.median).toBeGreaterThan(1e8);
    const deployed = (await experiments.store.folderOf(record.runId).readDeployed()) as Record<string, { hosts: { dockerContainers?: { imageId: string | null }[] }[] }>;
    const images = deployed['macvlan-docker']?.hosts.flatMap((host) => host.dockerContainers ?? []).map((container) => container.imageId) ?? [];
    expect(images.length).toBe(2);
    for (const image of images) expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(deployed.macvlan?.hosts.some((host) => host.dockerContainers)).toBe(false);
  }, 180_000);
});

describe('swarm overlay (vxlan under runtime docker)', () => {
  const overlay = (name: string, hosts: string, containers: string): TopologySpec =>
    docker(`name: ${name}\ndocker: { swarmAddressPool: 198.19.192.0/19 }\nhosts: [${hosts}]\nnetworks:\n  - { name: ov, mode: vxlan, options: { vni: 4242 } }\ncontainers:\n${containers}`);

  it('on one host: cnlab initialises a single-node swarm for the lab and leaves it at teardown', async () => {
    expect(await swarmStates()).toEqual(['inactive', 'inactive']);
    await exercise(overlay('dov1', 'h1', '  - { name: c, count: 2, host: h1, networks: [ov] }\n'), { client: 'c1', server: 'c2' });
    expect(await swarmStates()).toEqual(['inactive', 'inactive']);
  }, 120_000);

  it('across two hosts: manager and worker, containers of both reach each other over the overlay', async () => {
    const spec = overlay('dov2', 'h1, h2', '  - { name: a, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n');
    const applied = await labs.apply(spec);
    try {
      expect(await swarmStates()).toEqual(['active', 'active']);
      expect((await labs.verify('dov2')).filter((o) => !o.ok)).toEqual([]);
      const bps = await iperf(labs, 'dov2', 'b', 'a', addressOf(applied.record, 'a'), { seconds: 2 });
      console.info(`swarm overlay h2 → h1: ${(bps / 1e9).toFixed(2)} Gbit/s`);
      expect(bps).toBeGreaterThan(1e8);
    } finally {
      await labs.teardown('dov2');
    }
    await expectClean('dov2');
    expect(await swarmStates()).toEqual(['inactive', 'inactive']);
  }, 180_000);

  it('refuses a swarm it did not make that lacks a host, and never leaves it', async () => {
    await testbed.hostExec('h1', ['docker', 'swarm', 'init', '--advertise-addr', testbed.host('h1').address, '--default-addr-pool', '198.19.192.0/19']);
    try {
      const spec = overlay('dov3', 'h1, h2', '  - { name: a, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n');
      await expect(labs.apply(spec)).rejects.toThrow(/the overlay's hosts do not agree on a swarm \(h1 is in a swarm, h2 is inactive\)/);
      // One host in the user's swarm: cnlab uses it as it is, and leaves it in place afterwards.
      await exercise(overlay('dov4', 'h1', '  - { name: c, count: 2, host: h1, networks: [ov] }\n'), { client: 'c1', server: 'c2' });
      expect(await swarmStates()).toEqual(['active', 'inactive']);
    } finally {
      await testbed.hostExec('h1', ['docker', 'swarm', 'leave', '--force']);
    }
  }, 180_000);
});

describe('launch time under Docker (the setting of Table VI), next to netns', () => {
  for (const mode of ['none', 'bridge', 'macvlan', 'vxlan']) {
    it(`${mode}: docker create, docker start and the first reply are timed on the host`, async () => {
      const docker = await launches(mode, 'docker');
      const netns = await launches(mode, 'netns');
      for (const run of docker) {
        expect(run.metrics.launchCreateMs).toBeGreaterThan(0);
        expect(run.metrics.launchStartMs).toBeGreaterThan(0);
        expect(run.metrics.launchNetnsMs).toBeUndefined();
        if (mode === 'none') expect(run.metrics.launchFirstReplyMs).toBeUndefined();
        else expect(run.metrics.launchFirstReplyMs).toBeLessThan(2000);
        expect(run.rawSamples?.launchMs).toHaveLength(2);
        expect(run.notes?.filter((note) => note.startsWith('noReply'))).toEqual([]);
      }
      const dockerMs = median(docker.flatMap((run) => run.rawSamples?.launchMs ?? []));
      const netnsMs = median(netns.flatMap((run) => run.rawSamples?.launchMs ?? []));
      const phase = (metric: string): string => median(docker.map((run) => run.metrics[metric] ?? NaN)).toFixed(1);
      console.info(`${mode}: launch median docker ${dockerMs.toFixed(1)} ms (create ${phase('launchCreateMs')}, start ${phase('launchStartMs')}, first reply ${phase('launchFirstReplyMs')}) vs netns ${netnsMs.toFixed(1)} ms`);
      // A Docker container is a process tree with its own mounts and cgroups: it cannot start as fast as a bare namespace.
      expect(dockerMs).toBeGreaterThan(netnsMs);
    }, 180_000);
  }

  it('vxlan across hosts (Table VI’s Docker overlay row): the measured host joins the peer host’s swarm; the peer’s first reply is measured or reported missed', async () => {
    const runs: Measurement[] = [];
    for (let index = 0; index < 3; index++) {
      const { ctx } = recordingContext(fixture.service, { rawRoot: rawDir, firstPort: 43000 });
      const params = launchParamsSchema.parse({ tool: 'launch', containers: 2, fromPeer: true });
      runs.push(await runLaunch(ctx, { params, labs, network: { name: 'net', mode: 'vxlan' }, labId: 'dl-ovpeer', addressPool: '198.19.0.0/17', host: 'h1', peerHost: 'h2', runtime: 'docker' }));
      await expectClean('dl-ovpeer');
      expect(await swarmStates()).toEqual(['inactive', 'inactive']);
    }
    for (const run of runs) {
      expect(run.metrics.launchStartMs).toBeGreaterThan(0);
      expect(run.rawSamples?.launchMs).toHaveLength(2);
    }
    // The peer's first reply waits for the swarm's gossip to tell the manager about the new worker's endpoints:
    // about a second on a quiet machine, but on the loaded CI machine all three runs of one CI run passed the
    // prober's 10 s bound, though the overlay carries traffic across hosts (the swarm tests above); why is
    // not established (the prober pings before the endpoints exist, and libnetwork resolves misses itself).
    // Such a run says so in its notes and keeps its launch samples from the measured host, asserted for every run.
    const reached = runs.map((run) => run.metrics.peerFirstContainerMs).filter((ms): ms is number => ms !== undefined);
    for (const run of runs.filter((one) => one.metrics.peerFirstContainerMs === undefined)) {
      expect(run.notes?.some((note) => /the peer got no reply from c\d .* within its bound: not a sample/.test(note))).toBe(true);
      console.info(`a run without a peer reply: ${(run.notes ?? []).join('; ')}`);
    }
    for (const ms of reached) expect(ms).toBeLessThan(10_000);
    const launch = median(runs.flatMap((run) => run.rawSamples?.launchMs ?? []));
    console.info(`vxlan across hosts (swarm overlay): launch median ${launch.toFixed(1)} ms, peer reaches the first container after ${reached.length > 0 ? median(reached).toFixed(1) : '—'} ms (${reached.length} of ${runs.length} runs)`);
  }, 240_000);
});
