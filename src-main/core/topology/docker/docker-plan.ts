// The docker runtime's plan: the same topology, with Docker's objects instead of cnlab's own. Networks
// are Docker networks (bridge, macvlan, ipvlan drivers; nat = a bridge network with published ports),
// containers are `docker create` + `docker start` of the lab image with the addresses cnlab's IPAM chose,
// and each container's namespace is attached as /run/netns/<name> (`ip netns attach`), so verify, the
// load generators, the launch-time pings and the deployed-state capture work on it exactly as on the
// netns runtime, with the same host tools. Every object carries the lab's label and sits in the host's
// ledger with an undo that removes it only while it still carries that label.
import { shellCommand } from '../../shell/quote';
import { formatCidr, formatIpv4 } from '../ipam';
import { addressOf, blockOf, hostInfo, type HostInfo, type LabContainer, type LabModel, type PlanInputs } from '../modes/common';
import { publishedPorts } from '../modes/bridge';
import { hostModeInterface } from '../modes/host-mode';
import { parentOf } from '../modes/macvlan';
import { noneInterface } from '../modes/namespace';
import { DOCKER_LAB_LABEL } from '../naming';
import type { LedgerEntry, PlannedContainer, PlannedInterface, PlanStep } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { IMAGE_VARIABLE, labImageScript } from './lab-image';
import { overlayDynamicRange, swarmStep, type SwarmPlan } from './swarm-plan';

/** Docker's name of a lab network, unique per lab: cnl-<lab>-<network>. */
function dockerNetworkName(inputs: PlanInputs, network: string): string {
  return `cnl-${inputs.model.spec.name}-${network}`;
}

/** A lab container's Docker name: the same as its namespace name, cnl-<lab>-<container>. */
function dockerContainerName(inputs: PlanInputs, container: string): string {
  return inputs.model.names.netns(container);
}

function labelWords(inputs: PlanInputs): string[] {
  return ['--label', `${DOCKER_LAB_LABEL}=${inputs.model.spec.name}`];
}

/**
 * Removes the object named `name` of `kind` only if it still carries this lab's label: a user's
 * container or network of the same name is never touched. Harmless when it is already gone.
 */
function labelledRemoval(inputs: PlanInputs, kind: 'container' | 'network', name: string): string {
  const label = `label=${DOCKER_LAB_LABEL}=${inputs.model.spec.name}`;
  if (kind === 'container') return `${shellCommand(['docker', 'ps', '-aq', '--filter', label, '--filter', `name=^${name}$`])} 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1; true`;
  // A swarm removes an overlay asynchronously (and frees its load balancer's endpoint a moment after the
  // last container): `network rm` is repeated until the network is gone from this host, for up to 10 s.
  const list = shellCommand(['docker', 'network', 'ls', '-q', '--filter', label, '--filter', `name=^${name}$`]);
  return `for cnlab_try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cnlab_ids=$(${list} 2>/dev/null); [ -z "$cnlab_ids" ] && break; docker network rm $cnlab_ids >/dev/null 2>&1; sleep 0.5; done; true`;
}

function imageStep(inputs: PlanInputs): PlanStep {
  const image = inputs.model.spec.docker?.image ?? null;
  return {
    id: 'host/lab-image',
    phase: 'host',
    description: image === null ? 'the lab image (built from this host’s tools when missing)' : `the lab image ${image}`,
    creates: [],
    run: [{ kind: 'shell', text: labImageScript(image) }],
  };
}

/** `docker network create` options of one network on one host (bridge and nat networks are per host). */
function networkWords(inputs: PlanInputs, network: NetworkSpec, host: string): string[] {
  const block = blockOf(inputs, network.name, host);
  // IPAM reserves .1 of every block as the gateway, even on macvlan and ipvlan, where Docker wants one.
  const gateway = formatIpv4(block.gateway ?? block.subnet.base + 1);
  const common = ['--subnet', formatCidr(block.subnet), '--gateway', gateway];
  const mtu = network.mode !== 'vxlan' && 'mtu' in network.options && typeof network.options.mtu === 'number' ? ['-o', `com.docker.network.driver.mtu=${network.options.mtu}`] : [];
  switch (network.mode) {
    case 'bridge':
    case 'nat':
      // Docker's bridge gets cnlab's bridge name, so the diagram and the deployed-state capture find it.
      return [
        '--driver',
        'bridge',
        ...(network.mode === 'bridge' ? ['--internal'] : []),
        ...common,
        '-o',
        `com.docker.network.bridge.name=${inputs.model.names.link('b', network.name)}`,
        ...mtu,
      ];
    case 'macvlan':
      return ['--driver', 'macvlan', ...common, '-o', `parent=${parentOf(inputs, network, host) ?? ''}`, '-o', `macvlan_mode=${network.options.macvlanMode}`, ...mtu];
    case 'ipvlan':
      return ['--driver', 'ipvlan', ...common, '-o', `parent=${parentOf(inputs, network, host) ?? ''}`, '-o', `ipvlan_mode=${network.options.ipvlanMode}`, ...mtu];
    case 'vxlan':
      // Swarm-scoped, made once on the manager; attachable so plain containers join it; internal: no
      // egress through docker_gwbridge, so the lab's traffic stays on the overlay.
      return [
        '--driver',
        'overlay',
        '--attachable',
        '--internal',
        ...common,
        ...(overlayDynamicRange(block) ? ['--ip-range', overlayDynamicRange(block) ?? ''] : []),
        '-o',
        `com.docker.network.driver.overlay.vxlanid_list=${network.options.vni}`,
        ...(typeof network.options.mtu === 'number' ? ['-o', `com.docker.network.driver.mtu=${network.options.mtu}`] : []),
      ];
    default:
      throw new Error(`internal: network ${network.name} (mode ${network.mode}) has no Docker network`);
  }
}

function networkSteps(inputs: PlanInputs, host: string, swarm: SwarmPlan | null): PlanStep[] {
  const here = [...inputs.model.networks.values()].filter((network) => (inputs.model.hostsOf.get(network.name) ?? []).includes(host));
  return here
    .filter((network) => network.mode !== 'none' && network.mode !== 'host')
    // An overlay is one network of the swarm, made on its manager; the other hosts' containers attach to it.
    .filter((network) => network.mode !== 'vxlan' || swarm?.manager === host)
    .map((network) => {
      const name = dockerNetworkName(inputs, network.name);
      return {
        id: `net/${network.name}`,
        phase: 'host' as const,
        description: `Docker network ${name} (${network.mode === 'nat' ? 'bridge driver, published ports' : `${network.mode === 'vxlan' ? 'overlay' : network.mode} driver`})`,
        creates: [{ kind: 'docker-network' as const, name, undo: labelledRemoval(inputs, 'network', name) }],
        run: [{ kind: 'shell' as const, text: `${shellCommand(['docker', 'network', 'create', ...labelWords(inputs), ...networkWords(inputs, network, host), name])} >/dev/null` }],
      };
    });
}

function networkOf(inputs: PlanInputs, name: string): NetworkSpec {
  const network = inputs.model.networks.get(name);
  if (!network) throw new Error(`internal: unknown network ${name}`);
  return network;
}

/** The container's interface on a network: eth<index> in the order the networks are attached. */
function attachedInterface(inputs: PlanInputs, network: NetworkSpec, container: LabContainer, index: number): PlannedInterface {
  const address = addressOf(inputs, network.name, container.name);
  const cidr = `${address}/${blockOf(inputs, network.name, container.host).subnet.prefix}`;
  const hostDevice = network.mode === 'macvlan' || network.mode === 'ipvlan' ? parentOf(inputs, network, container.host) : null;
  const planned: PlannedInterface = { network: network.name, ifname: `eth${index}`, address: cidr, hostDevice };
  if (network.mode === 'nat' && network.options.publish.length > 0) {
    const onHost = (inputs.model.members.get(network.name) ?? []).filter((member) => member.host === container.host);
    planned.publishedPorts = publishedPorts(network, onHost.indexOf(container));
  }
  return planned;
}

/** `-p` words publishing a container's nat ports on its host's management address, TCP and UDP. */
function publishWords(inputs: PlanInputs, planned: PlannedInterface, host: string): string[] {
  const address = hostInfo(inputs, host).address;
  return (planned.publishedPorts ?? []).flatMap((port) => ['tcp', 'udp'].flatMap((protocol) => ['-p', `${address ?? '0.0.0.0'}:${port.host}:${port.container}/${protocol}`]));
}

export interface DockerContainerPlan {
  planned: PlannedContainer;
  steps: PlanStep[];
}

/**
 * A container's steps: create (first network, address, cpuset, labels), start and attach its namespace
 * under /run/netns, then connect its other networks in order (so eth1, eth2… follow the list; an overlay
 * comes first, see below). A namespace-sharing container joins its owner with --network container:<owner>.
 */
export function dockerContainer(inputs: PlanInputs, container: LabContainer, owner: PlannedContainer | null): DockerContainerPlan {
  const name = dockerContainerName(inputs, container.name);
  const netns = inputs.model.names.netns(container.name);
  const networks = container.networks.map((network) => networkOf(inputs, network));
  const first = networks[0];
  const hostMode = first?.mode === 'host';
  // An overlay is attached first (eth0), the rest after the start in list order: Docker 20.10 connects an
  // attachable overlay to a running container on a swarm worker without traffic between hosts (measured).
  const own = networks.filter((network) => network.mode !== 'none' && network.mode !== 'host');
  const attached = [...own.filter((network) => network.mode === 'vxlan'), ...own.filter((network) => network.mode !== 'vxlan')];
  const interfaces: PlannedInterface[] = owner
    ? owner.interfaces.map((entry) => ({ ...entry }))
    : hostMode && first
      ? [hostModeInterface(inputs, first.name, container.host)]
      : networks.map((network) => (network.mode === 'none' || network.mode === 'host' ? noneInterface(network.name) : attachedInterface(inputs, network, container, attached.indexOf(network))));
  let networkWords: string[];
  if (owner) networkWords = ['--network', `container:${dockerContainerName(inputs, owner.name)}`];
  else if (hostMode) networkWords = ['--network', 'host'];
  else if (attached[0]) {
    const firstInterface = interfaces.find((entry) => entry.network === attached[0]?.name);
    networkWords = ['--network', dockerNetworkName(inputs, attached[0].name), '--ip', (firstInterface?.address ?? '').split('/')[0] ?? '', ...publishWords(inputs, firstInterface ?? { network: '', ifname: '', address: null, hostDevice: null }, container.host)];
  } else networkWords = ['--network', 'none'];
  const ownNamespace = !owner && !hostMode;
  const create = [
    'docker',
    'create',
    '--name',
    name,
    // Docker refuses a hostname for a container in another's namespace or the host's.
    ...(owner || hostMode ? [] : ['--hostname', container.name]),
    ...labelWords(inputs),
    '--label',
    `cnlab.container=${container.name}`,
    ...(container.cpuset ? ['--cpuset-cpus', container.cpuset] : []),
    ...networkWords,
  ];
  const steps: PlanStep[] = [
    {
      id: `${container.name}/create`,
      phase: 'container-create',
      container: container.name,
      description: `docker create ${name}`,
      creates: [{ kind: 'docker-container', name, undo: labelledRemoval(inputs, 'container', name) }],
      run: [{ kind: 'shell', text: `${shellCommand(create)} "$${IMAGE_VARIABLE}" >/dev/null` }],
    },
    {
      id: `${container.name}/start`,
      phase: 'container-start',
      container: container.name,
      description: ownNamespace ? `docker start ${name}, its namespace attached as ${netns}` : `docker start ${name}`,
      creates: ownNamespace ? [attachedNetnsEntry(netns)] : [],
      run: [
        {
          kind: 'shell',
          text: [
            `${shellCommand(['docker', 'start', name])} >/dev/null`,
            ...(ownNamespace ? [`${shellCommand(['ip', 'netns', 'attach', netns])} "$(${shellCommand(['docker', 'inspect', '--format', '{{.State.Pid}}', name])})"`] : []),
          ].join(' &&\n'),
        },
      ],
    },
  ];
  const more = owner ? [] : attached.slice(1);
  if (more.length > 0) {
    steps.push({
      id: `${container.name}/links`,
      phase: 'links',
      container: container.name,
      description: `connect ${name} to ${more.map((network) => dockerNetworkName(inputs, network.name)).join(', ')}`,
      creates: [],
      run: [
        {
          kind: 'shell',
          text: more
            .map((network) => {
              const address = (interfaces.find((entry) => entry.network === network.name)?.address ?? '').split('/')[0] ?? '';
              return `${shellCommand(['docker', 'network', 'connect', '--ip', address, dockerNetworkName(inputs, network.name), name])} >/dev/null`;
            })
            .join(' &&\n'),
        },
      ],
    });
  }
  const planned: PlannedContainer = {
    name: container.name,
    host: container.host,
    netns: owner ? owner.netns : hostMode ? null : netns,
    sharesWith: owner ? owner.name : null,
    cpuset: container.cpuset,
    interfaces,
  };
  return { planned, steps };
}

/** The /run/netns name of a container's namespace: undone by unmounting it (the namespace goes with the container). */
function attachedNetnsEntry(netns: string): LedgerEntry {
  return { kind: 'netns', name: netns, undo: `${shellCommand(['ip', 'netns', 'delete', netns])} 2>/dev/null; true` };
}

/** The host-level steps of the docker runtime: the swarm (overlays), the lab image, then the lab's networks on this host. */
export function dockerHostSteps(inputs: PlanInputs, host: string, swarm: SwarmPlan | null): PlanStep[] {
  const hasContainers = inputs.model.containers.some((container) => container.host === host);
  const joined = swarm ? swarmStep(inputs, swarm, host) : null;
  return [...(joined ? [joined] : []), ...(hasContainers ? [imageStep(inputs)] : []), ...networkSteps(inputs, host, swarm)];
}

/** Docker's driver for each mode cnlab maps onto one. */
const DRIVER_OF: Partial<Record<NetworkSpec['mode'], string>> = { bridge: 'bridge', nat: 'bridge', macvlan: 'macvlan', ipvlan: 'ipvlan', vxlan: 'overlay' };

/** What the docker runtime refuses in a topology, or on its hosts, with the fix (the swarm's own in swarm-plan.ts). */
export function dockerProblems(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): string[] {
  const problems: string[] = [];
  if (model.spec.backend === 'cni') problems.push('backend cni works with runtime netns only (under runtime docker, Docker\'s drivers make the networks): remove backend or set runtime: netns');
  for (const network of model.networks.values()) {
    if (network.mode === 'routed') problems.push(`network ${network.name}: Docker has no network driver that routes per host (mode routed): use runtime netns for routed`);
    if (network.shaping) problems.push(`network ${network.name}: link shaping is not available under runtime docker yet: remove shaping, or use runtime netns`);
  }
  for (const container of model.containers) {
    const own = container.networks.map((name) => model.networks.get(name)).filter((network) => network !== undefined && network.mode !== 'none' && network.mode !== 'host');
    const first = own.find((network) => network?.mode === 'vxlan') ?? own[0];
    const published = own.find((network) => network?.mode === 'nat' && network.options.publish.length > 0);
    // Docker publishes ports only when it creates the container, on the network it creates it on.
    if (published && published !== first) problems.push(`container ${container.name}: under runtime docker the nat network ${published.name} publishes ports only as the container's first network${first?.mode === 'vxlan' ? ' (an overlay is always attached first)' : ''}: list ${published.name} first`);
  }
  for (const info of hosts.values()) {
    if (!model.containers.some((container) => container.host === info.name)) continue;
    if (info.facts.tools.dockerServer === null) {
      problems.push(`host ${info.name}: runtime docker needs a Docker engine there, and none answered the probe: start dockerd (or install docker.io), then \`cnlab hosts probe ${info.name}\`; or use runtime netns`);
      continue;
    }
    const drivers = info.facts.docker?.networkDrivers ?? [];
    for (const network of model.networks.values()) {
      const driver = DRIVER_OF[network.mode];
      if (!driver || drivers.length === 0 || drivers.includes(driver) || !(model.hostsOf.get(network.name) ?? []).includes(info.name)) continue;
      problems.push(`network ${network.name}: the Docker engine on host ${info.name} has no ${driver} network driver (it has ${drivers.join(', ')}): use another mode, or runtime netns`);
    }
  }
  return problems;
}
