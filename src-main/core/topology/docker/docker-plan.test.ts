// The docker runtime's plan: which Docker objects a topology becomes, with which options, in which
// order, with which label-guarded undo; what it refuses; and that the rendered apply scripts are sh.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../../tests/support/cnlab-error';
import type { HostFacts } from '../../hosts/host-facts';
import { renderApplyScript } from '../apply-script';
import { labNames } from '../naming';
import { planLab, type PlanContext } from '../planner';
import { contextFor, hostPlanOf, specOf, stepOf } from '../planner.test-support';
import type { TopologyInput } from '../topology-schema';

const DOCKER: NonNullable<HostFacts['docker']> = {
  serverVersion: '20.10.24',
  apiVersion: '1.41',
  storageDriver: 'overlay2',
  cgroupDriver: 'cgroupfs',
  cgroupVersion: '1',
  swarm: { state: 'inactive', nodeId: null, controlAvailable: false, managers: null, nodes: null },
  networkDrivers: ['bridge', 'host', 'ipvlan', 'macvlan', 'null', 'overlay'],
  defaultAddressPools: [],
};

/** Hosts with a Docker engine (the fixture's kernel, which has macvlan but no ipvlan). */
function dockerContext(hosts: readonly string[], docker: HostFacts['docker'] = DOCKER): PlanContext {
  const context = contextFor(hosts);
  for (const facts of Object.values(context.facts)) {
    facts.tools.dockerServer = docker ? docker.serverVersion : null;
    facts.docker = docker;
  }
  return context;
}

const plan = (input: Omit<TopologyInput, 'v'>, context = dockerContext(input.hosts)) => planLab(specOf({ ...input, runtime: 'docker' }), context);

describe('runtime docker plan', () => {
  const lab = plan({
    name: 'dk',
    hosts: ['h1'],
    networks: [
      { name: 'lan', mode: 'bridge' },
      { name: 'iso', mode: 'none' },
    ],
    containers: [
      { name: 'c', count: 2, host: 'h1', networks: ['lan'], cpuset: '0' },
      { name: 'side', host: 'h1', shareNetnsWith: 'c1' },
      { name: 'lone', host: 'h1', networks: ['iso'] },
    ],
  });
  const bridge = labNames('dk').link('b', 'lan');

  it('makes the lab image, then the networks, then each container, sharers after their owners', () => {
    expect(hostPlanOf(lab, 'h1').steps.map((step) => step.id)).toEqual(['host/lab-image', 'net/lan', 'c1/create', 'c1/start', 'c2/create', 'c2/start', 'lone/create', 'lone/start', 'side/create', 'side/start']);
  });

  it('creates an internal bridge network with cnlab’s subnet, gateway, bridge name and label', () => {
    const step = stepOf(lab, 'h1', 'net/lan');
    expect(step.run[0]).toEqual({
      kind: 'shell',
      text: `docker network create --label cnlab.lab=dk --driver bridge --internal --subnet 198.19.0.0/24 --gateway 198.19.0.1 -o com.docker.network.bridge.name=${bridge} cnl-dk-lan >/dev/null`,
    });
    // Removed only while labelled with the lab, and waited for: a swarm removes an overlay asynchronously.
    expect(step.creates).toEqual([
      {
        kind: 'docker-network',
        name: 'cnl-dk-lan',
        undo: 'for cnlab_try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cnlab_ids=$(docker network ls -q --filter label=cnlab.lab=dk --filter \'name=^cnl-dk-lan$\' 2>/dev/null); [ -z "$cnlab_ids" ] && break; docker network rm $cnlab_ids >/dev/null 2>&1; sleep 0.5; done; true',
      },
    ]);
  });

  it('creates each container with its address, cpuset and labels, starts it and attaches its namespace', () => {
    const create = stepOf(lab, 'h1', 'c1/create');
    expect(create.phase).toBe('container-create');
    expect(create.run[0]).toEqual({
      kind: 'shell',
      text: 'docker create --name cnl-dk-c1 --hostname c1 --label cnlab.lab=dk --label cnlab.container=c1 --cpuset-cpus 0 --network cnl-dk-lan --ip 198.19.0.2 "$cnlab_image" >/dev/null',
    });
    // The undo removes the container only while it carries the lab's label: never a user's namesake.
    expect(create.creates).toEqual([{ kind: 'docker-container', name: 'cnl-dk-c1', undo: "docker ps -aq --filter label=cnlab.lab=dk --filter 'name=^cnl-dk-c1$' 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1; true" }]);
    const start = stepOf(lab, 'h1', 'c1/start');
    expect(start.phase).toBe('container-start');
    expect(start.run[0]).toEqual({ kind: 'shell', text: 'docker start cnl-dk-c1 >/dev/null &&\nip netns attach cnl-dk-c1 "$(docker inspect --format \'{{.State.Pid}}\' cnl-dk-c1)"' });
    expect(start.creates).toEqual([{ kind: 'netns', name: 'cnl-dk-c1', undo: 'ip netns delete cnl-dk-c1 2>/dev/null; true' }]);
    expect(lab.containers.find((container) => container.name === 'c1')).toEqual({
      name: 'c1',
      host: 'h1',
      netns: 'cnl-dk-c1',
      sharesWith: null,
      cpuset: '0',
      interfaces: [{ network: 'lan', ifname: 'eth0', address: '198.19.0.2/24', hostDevice: null }],
    });
  });

  it('puts a sharer in its owner’s namespace (no hostname, nothing attached) and a none container on no network', () => {
    expect(stepOf(lab, 'h1', 'side/create').run[0]).toEqual({ kind: 'shell', text: 'docker create --name cnl-dk-side --label cnlab.lab=dk --label cnlab.container=side --network container:cnl-dk-c1 "$cnlab_image" >/dev/null' });
    expect(stepOf(lab, 'h1', 'side/start').creates).toEqual([]);
    expect(lab.containers.find((container) => container.name === 'side')).toMatchObject({ netns: 'cnl-dk-c1', sharesWith: 'c1' });
    expect((stepOf(lab, 'h1', 'lone/create').run[0] as { text: string }).text).toContain('--network none');
    expect(lab.containers.find((container) => container.name === 'lone')?.interfaces).toEqual([{ network: 'iso', ifname: 'lo', address: null, hostDevice: null }]);
  });

  it('connects further networks after the start, in the order listed (eth1, eth2…), and publishes nat ports on the host address', () => {
    const multi = plan({
      name: 'mx',
      hosts: ['h1', 'h2'],
      networks: [
        { name: 'mv', mode: 'macvlan' },
        { name: 'lan', mode: 'bridge' },
        { name: 'out', mode: 'nat', options: { publish: [5201] } },
        { name: 'hostnet', mode: 'host' },
      ],
      containers: [
        { name: 'a', host: 'h1', networks: ['mv', 'lan'] },
        { name: 'b', host: 'h2', networks: ['mv'] },
        { name: 'srv', host: 'h1', networks: ['out'] },
        { name: 'cli', host: 'h2', networks: ['hostnet'] },
      ],
    });
    expect((stepOf(multi, 'h1', 'net/mv').run[0] as { text: string }).text).toBe(
      'docker network create --label cnlab.lab=mx --driver macvlan --subnet 198.19.0.0/24 --gateway 198.19.0.1 -o parent=eth0 -o macvlan_mode=bridge cnl-mx-mv >/dev/null',
    );
    expect(stepOf(multi, 'h1', 'a/links').run[0]).toEqual({ kind: 'shell', text: 'docker network connect --ip 198.19.1.2 cnl-mx-lan cnl-mx-a >/dev/null' });
    expect(multi.containers.find((container) => container.name === 'a')?.interfaces.map((entry) => [entry.network, entry.ifname])).toEqual([
      ['mv', 'eth0'],
      ['lan', 'eth1'],
    ]);
    const srv = (stepOf(multi, 'h1', 'srv/create').run[0] as { text: string }).text;
    expect(srv).toContain('-p 192.0.2.11:20000:5201/tcp -p 192.0.2.11:20000:5201/udp');
    // nat is Docker's bridge with egress (not internal).
    expect((stepOf(multi, 'h1', 'net/out').run[0] as { text: string }).text).not.toContain('--internal');
    expect((stepOf(multi, 'h2', 'cli/create').run[0] as { text: string }).text).toContain('--network host');
    expect(stepOf(multi, 'h2', 'cli/start').creates).toEqual([]);
    expect(multi.containers.find((container) => container.name === 'cli')?.netns).toBeNull();
  });

  it('plans first replies for timed applies, to the gateway of Docker’s bridge', () => {
    const timed = planLab(specOf({ name: 'dk', runtime: 'docker', hosts: ['h1'], networks: [{ name: 'lan', mode: 'bridge' }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }] }), { ...dockerContext(['h1']), measureFirstReply: true });
    expect(stepOf(timed, 'h1', 'c1/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-dk-c1', address: '198.19.0.1' }]);
  });

  it('times a container that joins another’s namespace after its docker start, from the owner’s namespace', () => {
    const timed = planLab(specOf({ name: 'dk', runtime: 'docker', hosts: ['h1'], networks: [{ name: 'lan', mode: 'bridge' }], containers: [{ name: 'o', host: 'h1', networks: ['lan'] }, { name: 'c1', host: 'h1', shareNetnsWith: 'o' }] }), { ...dockerContext(['h1']), measureFirstReply: true });
    const ids = timed.hosts[0]?.steps.map((step) => step.id) ?? [];
    expect(ids.slice(ids.indexOf('o/create'))).toEqual(['o/create', 'o/start', 'o/first-reply', 'c1/create', 'c1/start', 'c1/first-reply']);
    expect(stepOf(timed, 'h1', 'c1/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-dk-o', address: '198.19.0.1' }]);
  });

  it('uses a given image as is and never pulls it', () => {
    const given = planLab(specOf({ name: 'dk', runtime: 'docker', docker: { image: 'tools:1' }, hosts: ['h1'], containers: [{ name: 'c1', host: 'h1' }] }), dockerContext(['h1']));
    const text = (stepOf(given, 'h1', 'host/lab-image').run[0] as { text: string }).text;
    expect(text).toContain('cnlab_image=tools:1');
    expect(text).toContain('cnlab does not pull images');
    expect(text).not.toContain('docker import');
    expect(text).not.toMatch(/docker (pull|run)/);
  });

  it('renders apply scripts that sh parses, with a precheck of the Docker names it will create', () => {
    for (const timings of [false, true]) {
      const { script } = renderApplyScript(labNames('dk'), hostPlanOf(lab, 'h1'), { fingerprint: lab.fingerprint, timings });
      execFileSync('sh', ['-n'], { input: script });
      expect(script).toContain("docker ps -a --format '{{.Names}}'");
      expect(script).toMatch(/planned-docker-names[^\n]*\n(?:[^\n]*\n)*?cnl-dk-c1\n/);
    }
  });

  it('refuses what Docker cannot make here, each with its fix', () => {
    const refusals = (input: Omit<TopologyInput, 'v'>, context?: PlanContext): string => thrownCnlabError(() => plan(input, context)).message;
    const base = { name: 'dk', hosts: ['h1', 'h2'] };
    expect(refusals({ ...base, networks: [{ name: 'rt', mode: 'routed' }], containers: [{ name: 'c1', host: 'h1', networks: ['rt'] }] })).toMatch(/network rt: Docker has no network driver that routes per host/);
    expect(refusals({ ...base, networks: [{ name: 'lan', mode: 'bridge', shaping: { rate: '1gbit' } }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }] })).toMatch(/network lan: link shaping is not available under runtime docker/);
    expect(refusals({ ...base, backend: 'cni', networks: [{ name: 'lan', mode: 'bridge' }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }] })).toMatch(/backend cni works with runtime netns only/);
    expect(
      refusals({
        ...base,
        networks: [
          { name: 'lan', mode: 'bridge' },
          { name: 'out', mode: 'nat', options: { publish: [80] } },
        ],
        containers: [{ name: 'c1', host: 'h1', networks: ['lan', 'out'] }],
      }),
    ).toMatch(/container c1: under runtime docker the nat network out publishes ports only as the container's first network: list out first/);
    expect(refusals({ ...base, containers: [{ name: 'c1', host: 'h1' }] }, dockerContext(['h1', 'h2'], null))).toMatch(/host h1: runtime docker needs a Docker engine there.*cnlab hosts probe h1/);
    const noMacvlan = dockerContext(['h1', 'h2'], { ...DOCKER, networkDrivers: ['bridge', 'host', 'null'] });
    expect(refusals({ ...base, networks: [{ name: 'mv', mode: 'macvlan' }], containers: [{ name: 'c1', host: 'h1', networks: ['mv'] }] }, noMacvlan)).toMatch(/network mv: the Docker engine on host h1 has no macvlan network driver \(it has bridge, host, null\)/);
  });
});

/** Docker facts in a swarm: active, manager or worker. */
function inSwarm(manager: boolean, nodeId: string): NonNullable<HostFacts['docker']> {
  return { ...DOCKER, swarm: { state: 'active', nodeId, controlAvailable: manager, managers: manager ? 1 : null, nodes: manager ? 2 : null } };
}

describe('runtime docker: swarm overlay (vxlan)', () => {
  const overlay = (context = dockerContext(['h1', 'h2']), options: Record<string, unknown> = {}) =>
    plan({ name: 'ov', hosts: ['h1', 'h2'], docker: { swarmAddressPool: '198.19.192.0/19' }, networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 4242, ...options } }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }, { name: 'b', host: 'h2', networks: ['ov'] }] }, context);

  it('initialises a swarm on the first host and joins the others, each undone by leaving (and removing the gwbridge it made)', () => {
    const lab = overlay();
    expect(lab.swarm).toEqual({ manager: 'h1', workers: ['h2'], initialise: true, joinTokenFile: '/run/cnlab/ov/swarm-join-token' });
    const init = stepOf(lab, 'h1', 'host/swarm');
    expect((init.run[0] as { text: string }).text).toBe(
      "docker network inspect docker_gwbridge >/dev/null 2>&1 || : > /run/cnlab/ov/swarm-made-gwbridge\ndocker swarm init --advertise-addr 192.0.2.11 --listen-addr 192.0.2.11:2377 --default-addr-pool 198.19.192.0/19 --default-addr-pool-mask-length 24 >/dev/null",
    );
    expect(init.creates).toEqual([
      {
        kind: 'docker-swarm',
        name: 'manager',
        undo: 'docker swarm leave --force >/dev/null 2>&1; if [ -e /run/cnlab/ov/swarm-made-gwbridge ]; then for cnlab_try in 1 2 3 4 5 6 7 8 9 10; do docker network inspect docker_gwbridge >/dev/null 2>&1 || break; docker network rm docker_gwbridge >/dev/null 2>&1; sleep 0.5; done; fi; true',
      },
    ]);
    const join = (stepOf(lab, 'h2', 'host/swarm').run[0] as { text: string }).text;
    // The token is read from the root-only file on the host, never written in the plan or a command line.
    expect(join).toContain('--token "$(cat /run/cnlab/ov/swarm-join-token)" 192.0.2.11:2377');
    expect(join).toContain('rm -f /run/cnlab/ov/swarm-join-token');
    expect(JSON.stringify(lab)).not.toMatch(/SWMTKN/);
  });

  it('creates the overlay once, on the manager: attachable, internal, one subnet, Docker’s own addresses kept in the top /27', () => {
    const lab = overlay();
    expect((stepOf(lab, 'h1', 'net/ov').run[0] as { text: string }).text).toBe(
      'docker network create --label cnlab.lab=ov --driver overlay --attachable --internal --subnet 198.19.0.0/24 --gateway 198.19.0.1 --ip-range 198.19.0.224/27 -o com.docker.network.driver.overlay.vxlanid_list=4242 cnl-ov-ov >/dev/null',
    );
    expect(hostPlanOf(lab, 'h2').steps.map((step) => step.id)).toEqual(['host/swarm', 'host/lab-image', 'b/create', 'b/start']);
    expect(lab.containers.map((container) => container.interfaces[0]?.address)).toEqual(['198.19.0.2/24', '198.19.0.3/24']);
  });

  it('uses the hosts’ own swarm without touching it, checking on the manager that the workers are members', () => {
    const context = dockerContext(['h1', 'h2']);
    (context.facts.h1 as HostFacts).docker = inSwarm(false, 'node-h1');
    (context.facts.h2 as HostFacts).docker = inSwarm(true, 'node-h2');
    const lab = overlay(context);
    expect(lab.swarm).toMatchObject({ manager: 'h2', workers: ['h1'], initialise: false });
    expect(stepOf(lab, 'h2', 'host/swarm').creates).toEqual([]);
    expect((stepOf(lab, 'h2', 'host/swarm').run[0] as { text: string }).text).toContain('docker node ls -q 2>/dev/null | grep -qx node-h1');
    expect(hostPlanOf(lab, 'h1').steps.some((step) => step.id === 'host/swarm' || step.creates.some((entry) => entry.kind === 'docker-swarm'))).toBe(false);
    expect(hostPlanOf(lab, 'h2').steps.some((step) => step.id === 'net/ov')).toBe(true);
  });

  it('refuses mixed swarms, a swarm without a manager, another control plane, and addresses in Docker’s range', () => {
    const mixed = dockerContext(['h1', 'h2']);
    (mixed.facts.h1 as HostFacts).docker = inSwarm(true, 'node-h1');
    expect(thrownCnlabError(() => overlay(mixed)).message).toMatch(/the overlay's hosts do not agree on a swarm \(h1 is in a swarm, h2 is inactive\).*joins or leaves only a swarm it initialised/);
    const workers = dockerContext(['h1', 'h2'], inSwarm(false, 'n'));
    expect(thrownCnlabError(() => overlay(workers)).message).toMatch(/none of them is a manager/);
    expect(thrownCnlabError(() => overlay(undefined, { controlPlane: 'etcd' })).message).toMatch(/network ov: under runtime docker the swarm is the overlay's control plane: remove controlPlane etcd/);
    const managed = dockerContext(['h1', 'h2'], inSwarm(true, 'n'));
    expect(thrownCnlabError(() => overlay(managed, { port: 4790 })).message).toMatch(/data path port is chosen when it is initialised, and cnlab did not initialise this one/);
    const crowded = thrownCnlabError(() =>
      plan({ name: 'ov', hosts: ['h1'], networks: [{ name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'], addresses: { ov: '198.19.0.230' } }] }),
    ).message;
    expect(crowded).toMatch(/network ov: container a has address 198.19.0.230, in 198.19.0.224\/27, which Docker's overlay keeps/);
    expect(thrownCnlabError(() => overlay(dockerContext(['h1', 'h2'], { ...DOCKER, networkDrivers: ['bridge'] }))).message).toMatch(/no overlay network driver/);
  });

  it('attaches an overlay first (eth0), whatever the container’s list says: hot-plugged on a worker it carries nothing', () => {
    const lab = plan({ name: 'ov', hosts: ['h1', 'h2'], networks: [{ name: 'mv', mode: 'macvlan' }, { name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }, { name: 'b', host: 'h2', networks: ['mv', 'ov'] }] });
    expect(lab.containers.find((container) => container.name === 'b')?.interfaces.map((entry) => [entry.network, entry.ifname])).toEqual([
      ['mv', 'eth1'],
      ['ov', 'eth0'],
    ]);
    expect((stepOf(lab, 'h2', 'b/create').run[0] as { text: string }).text).toContain('--network cnl-ov-ov --ip 198.19.1.3');
    expect((stepOf(lab, 'h2', 'b/links').run[0] as { text: string }).text).toContain('docker network connect --ip 198.19.0.2 cnl-ov-mv cnl-ov-b');
  });

  it('times the first reply from the overlay’s .1, which Docker answers', () => {
    const timed = planLab(specOf({ name: 'ov', runtime: 'docker', hosts: ['h1'], networks: [{ name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }] }), { ...dockerContext(['h1']), measureFirstReply: true });
    expect(stepOf(timed, 'h1', 'a/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-ov-a', address: '198.19.0.1' }]);
  });

  it('passes a non-default VXLAN port to the swarm it initialises', () => {
    expect((stepOf(overlay(undefined, { port: 4790 }), 'h1', 'host/swarm').run[0] as { text: string }).text).toContain('--data-path-port 4790');
  });
});
