// The planner: topology + probed host facts → per-host ordered steps with their undo, where each container
// ends up, the verify matrix and a fingerprint. Pure: no I/O, and the same inputs give the same plan.
import { createHash } from 'node:crypto';
import { CnlabError } from '../errors';
import { sh } from '../shell/quote';
import { allocateAddresses, formatCidr, parseIpv4, type IpamRequest, type ReservedRange } from './ipam';
import { bridgeStep, natInterface, natStep, vethInterface } from './modes/bridge';
import {
  ADDRESSLESS_MODES,
  buildModel,
  FORWARDING_MODES,
  forwardingStep,
  resolveHost,
  type HostInfo,
  type InterfaceWork,
  type LabContainer,
  type LabModel,
  type PlanContext,
  type PlanInputs,
} from './modes/common';
import { cniContainerSteps, cniInterfaces, cniProblems, withCniHostSteps } from './modes/cni';
import { sharingContainer } from './modes/container-mode';
import { controlPlaneFinalSteps, controlPlanesOf } from './modes/control-planes';
import { hostModeInterface } from './modes/host-mode';
import { stackedInterface } from './modes/macvlan';
import { netnsStep, noneInterface } from './modes/namespace';
import { vxlanHostSteps, vxlanInterface } from './modes/overlay';
import { expectations } from './modes/reachability';
import { routedHostSteps, routedInterface } from './modes/routed';
import { containerShapingStep, shapingFeatures, underlayShapingSteps } from './modes/shaping';
import { firstReplyStep } from './modes/first-reply';
import { dockerContainer, dockerHostSteps, dockerProblems } from './docker/docker-plan';
import { joinTokenFile, overlayAddressProblems, swarmOf, type SwarmPlan } from './docker/swarm-plan';
import type { HostPlan, LabPlan, PlannedContainer, PlannedInterface, PlanStep, StepCommand } from './plan';
import { topologySchema, type NetworkSpec, type TopologySpec } from './topology-schema';
import { factProblems, MODE_FEATURES, structureProblems } from './validate';

export type { PlanContext } from './modes/common';

/** Part of the fingerprint: a planner that plans differently must not count as "unchanged". */
export const PLANNER_VERSION = 1;

function refusal(problems: readonly string[]): CnlabError {
  return new CnlabError('invalid-input', problems.join('\n'), { problems: [...problems] });
}

/**
 * Plans a lab. Throws CnlabError('invalid-input') listing every problem found, one per line:
 * first the structural ones alone (unknown names, bad references), then everything the hosts'
 * facts and the address plan refuse, together.
 */
export function planLab(spec: TopologySpec, context: PlanContext): LabPlan {
  // A spec read from a file was parsed already; one rebuilt from a record (a run folder's or a bundle's
  // experiment, on resume or rerun) was not. Its values become ip batch words, nft rules, BIRD and etcd
  // configs and docker arguments on the hosts, so whatever the file format refuses is refused here too.
  const checked = topologySchema.safeParse(spec);
  if (!checked.success) {
    throw refusal(
      checked.error.issues
        .slice(0, 5)
        .map((issue) => `lab ${JSON.stringify(String(spec.name))}: ${issue.path.join('.') || '(top)'}: ${issue.message} (no topology file can hold this: the run record it came from was altered; do not run it)`),
    );
  }
  const structural = structureProblems(spec, context);
  if (structural.length > 0) throw refusal(structural);
  const model = buildModel(spec);
  const hosts = new Map<string, HostInfo>();
  for (const host of spec.hosts) {
    const facts = context.facts[host];
    if (facts) hosts.set(host, resolveHost(host, facts, context, model.names));
  }
  const problems = factProblems(model, hosts);
  const ipam = allocateAddresses(ipamRequest(model, hosts));
  problems.push(...ipam.problems);
  const docker = spec.runtime === 'docker';
  const swarm = docker ? swarmOf(model, hosts) : { swarm: null, problems: [] };
  if (docker) problems.push(...dockerProblems(model, hosts), ...swarm.problems, ...overlayAddressProblems(model, ipam.networks));
  else problems.push(...cniProblems(model, hosts, problems.length === 0 ? { model, hosts, ipam: ipam.networks } : null));
  if (problems.length > 0) throw refusal(problems);

  const inputs: PlanInputs = { model, hosts, ipam: ipam.networks };
  const { steps, containers } = docker ? planDockerContainers(inputs, context, swarm.swarm) : planNetnsContainers(inputs, context);

  const hostPlans: HostPlan[] = spec.hosts.map((host) => ({ host, steps: steps.get(host) ?? [] }));
  for (const hostPlan of hostPlans) {
    const ids = new Set<string>();
    for (const step of hostPlan.steps) {
      if (ids.has(step.id)) throw new Error(`internal: step id ${step.id} is used twice on host ${hostPlan.host}`);
      ids.add(step.id);
    }
  }
  return {
    labId: spec.name,
    fingerprint: fingerprintOf(model, hosts),
    hosts: hostPlans,
    containers,
    expectations: expectations(model, containers),
    ...controlPlanesField(inputs),
    ...(swarm.swarm ? { swarm: { ...swarm.swarm, joinTokenFile: joinTokenFile(inputs) } } : {}),
  };
}

interface PlannedContainers {
  steps: Map<string, PlanStep[]>;
  containers: PlannedContainer[];
}

function planNetnsContainers(inputs: PlanInputs, context: PlanContext): PlannedContainers {
  const { model } = inputs;
  const steps = new Map<string, PlanStep[]>(model.spec.hosts.map((host) => [host, [...withCniHostSteps(inputs, host, hostLevelSteps(inputs, host)), ...underlayShapingSteps(inputs, host)]]));
  const planned = new Map<string, PlannedContainer>();
  // A namespace-sharing container creates nothing; timed applies give it a first-reply step from the
  // shared namespace, right where it stands in the topology, or after its owner when that comes later.
  const waiting = new Map<string, LabContainer[]>();
  const sharerReply = (container: LabContainer, owner: PlannedContainer): void => {
    const step = firstReplyStep(inputs, sharingContainer(container, owner), [...planned.values()]);
    if (step) steps.get(container.host)?.push(step);
  };
  for (const container of model.containers) {
    if (container.shareNetnsWith !== null) {
      if (!context.measureFirstReply) continue;
      const owner = planned.get(container.shareNetnsWith);
      if (owner) sharerReply(container, owner);
      else waiting.set(container.shareNetnsWith, [...(waiting.get(container.shareNetnsWith) ?? []), container]);
      continue;
    }
    const result = planContainer(inputs, container);
    // After link-up: shaping, then (timed applies) the first ping reply, which the shaping affects.
    const shaping = containerShapingStep(inputs, result.planned);
    const firstReply = context.measureFirstReply ? firstReplyStep(inputs, result.planned, [...planned.values()]) : null;
    planned.set(container.name, result.planned);
    steps.get(container.host)?.push(...result.steps, ...(shaping ? [shaping] : []), ...(firstReply ? [firstReply] : []));
    for (const sharer of waiting.get(container.name) ?? []) sharerReply(sharer, result.planned);
    waiting.delete(container.name);
  }
  // Dynamic control planes: /32 announcements and the waits for convergence come after every container.
  for (const host of model.spec.hosts) steps.get(host)?.push(...controlPlaneFinalSteps(inputs, host));
  const containers = model.containers.map((container) => {
    if (container.shareNetnsWith === null) return planned.get(container.name) as PlannedContainer;
    const owner = planned.get(container.shareNetnsWith);
    if (!owner) throw new Error(`internal: container ${container.name} shares with unplanned ${container.shareNetnsWith}`);
    return sharingContainer(container, owner);
  });
  return { steps, containers };
}

/** Docker containers: owners first, in topology order, then the containers that join an owner's namespace. */
function planDockerContainers(inputs: PlanInputs, context: PlanContext, swarm: SwarmPlan | null): PlannedContainers {
  const { model } = inputs;
  const steps = new Map<string, PlanStep[]>(model.spec.hosts.map((host) => [host, [...dockerHostSteps(inputs, host, swarm), ...underlayShapingSteps(inputs, host)]]));
  const planned = new Map<string, PlannedContainer>();
  const owners = model.containers.filter((container) => container.shareNetnsWith === null);
  const sharers = model.containers.filter((container) => container.shareNetnsWith !== null);
  for (const container of [...owners, ...sharers]) {
    const owner = container.shareNetnsWith === null ? null : (planned.get(container.shareNetnsWith) ?? null);
    if (container.shareNetnsWith !== null && !owner) throw new Error(`internal: container ${container.name} shares with unplanned ${container.shareNetnsWith}`);
    const result = dockerContainer(inputs, container, owner);
    // A sharer's first reply is timed from the owner's namespace, which is up by then (owners come first).
    const firstReply = context.measureFirstReply ? firstReplyStep(inputs, result.planned, [...planned.values()]) : null;
    planned.set(container.name, result.planned);
    steps.get(container.host)?.push(...result.steps, ...(firstReply ? [firstReply] : []));
  }
  return { steps, containers: model.containers.map((container) => planned.get(container.name) as PlannedContainer) };
}

function controlPlanesField(inputs: PlanInputs): Pick<LabPlan, 'controlPlanes'> {
  const controlPlanes = controlPlanesOf(inputs);
  return controlPlanes.length > 0 ? { controlPlanes } : {};
}

function ipamRequest(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): IpamRequest {
  const networks = [...model.networks.values()]
    .filter((network) => !ADDRESSLESS_MODES.has(network.mode))
    .map((network) => {
      // Docker's overlay (vxlan under runtime docker) is one subnet across its hosts, like macvlan's, but
      // with a gateway: Docker answers at its .1.
      const dockerOverlay = network.mode === 'vxlan' && model.spec.runtime === 'docker';
      const perNetwork = network.mode === 'macvlan' || network.mode === 'ipvlan' || dockerOverlay;
      return {
        name: network.name,
        scope: perNetwork ? ('per-network' as const) : ('per-host' as const),
        gateway: !perNetwork || dockerOverlay,
        subnet: network.subnet ?? null,
        hosts: model.hostsOf.get(network.name) ?? [],
        members: (model.members.get(network.name) ?? []).map((container) => ({
          container: container.name,
          host: container.host,
          explicit: container.addresses[network.name] ?? null,
        })),
      };
    });
  const reserved: ReservedRange[] = [];
  for (const info of hosts.values()) {
    for (const prefix of info.prefixes) reserved.push({ cidr: prefix.cidr, owner: `${prefix.nic} on host ${info.name}` });
    const address = info.address === null ? null : parseIpv4(info.address);
    if (address !== null && !info.prefixes.some((prefix) => formatCidr(prefix.cidr).startsWith(`${info.address}/`))) {
      reserved.push({ cidr: { base: address, prefix: 32 }, owner: `management address of host ${info.name}` });
    }
  }
  return { pool: model.spec.addressPool, networks, reserved };
}

/** Forwarding first, then each network's host objects in topology order, then the nat table. */
function hostLevelSteps(inputs: PlanInputs, host: string): PlanStep[] {
  const here = [...inputs.model.networks.values()].filter((network) => (inputs.model.hostsOf.get(network.name) ?? []).includes(host));
  const steps: PlanStep[] = [];
  if (here.some((network) => FORWARDING_MODES.has(network.mode))) steps.push(forwardingStep());
  for (const network of here) {
    if (network.mode === 'bridge' || network.mode === 'nat') steps.push(bridgeStep(inputs, network.name, host, network.options.mtu ?? null));
    else if (network.mode === 'vxlan') steps.push(...vxlanHostSteps(inputs, network, host));
    else if (network.mode === 'routed') steps.push(...routedHostSteps(inputs, network, host));
  }
  const nat = here.filter((network): network is Extract<NetworkSpec, { mode: 'nat' }> => network.mode === 'nat');
  if (nat.length > 0) steps.push(natStep(inputs, host, nat));
  return steps;
}

function networkOf(inputs: PlanInputs, name: string): NetworkSpec {
  const network = inputs.model.networks.get(name);
  if (!network) throw new Error(`internal: unknown network ${name}`);
  return network;
}

function planContainer(inputs: PlanInputs, container: LabContainer): { planned: PlannedContainer; steps: PlanStep[] } {
  const planned = (netns: string | null, interfaces: PlannedInterface[]): PlannedContainer => ({
    name: container.name,
    host: container.host,
    netns,
    sharesWith: null,
    cpuset: container.cpuset,
    interfaces,
  });
  const first = container.networks[0];
  if (first !== undefined && networkOf(inputs, first).mode === 'host') {
    return { planned: planned(null, [hostModeInterface(inputs, first, container.host)]), steps: [] };
  }
  const netns = inputs.model.names.netns(container.name);
  const interfaces: PlannedInterface[] = [];
  const works: InterfaceWork[] = [];
  let defaultRouteTaken = false;
  container.networks.forEach((name, index) => {
    const network = networkOf(inputs, name);
    let work: InterfaceWork | null = null;
    switch (network.mode) {
      case 'none':
      case 'host':
        interfaces.push(noneInterface(name));
        return;
      case 'bridge':
        work = vethInterface(inputs, { network: name, container, index, mtu: network.options.mtu ?? null, routes: [] });
        break;
      case 'nat':
        // One default route per namespace: the first nat network gets it.
        work = natInterface(inputs, network, container, index, !defaultRouteTaken);
        defaultRouteTaken = true;
        break;
      case 'vxlan':
        work = vxlanInterface(inputs, network, container, index);
        break;
      case 'routed':
        work = routedInterface(inputs, network, container, index);
        break;
      case 'macvlan':
      case 'ipvlan':
        work = stackedInterface(inputs, network, container, index);
        break;
    }
    interfaces.push(work.planned);
    works.push(work);
  });
  if (inputs.model.spec.backend === 'cni') {
    return { planned: planned(netns, cniInterfaces(inputs.model, interfaces)), steps: cniContainerSteps(inputs, container) };
  }

  const steps: PlanStep[] = [netnsStep(inputs.model, container.name)];
  const step = (suffix: string, phase: PlanStep['phase'], description: string, creates: PlanStep['creates'], run: StepCommand[]): void => {
    steps.push({ id: `${container.name}/${suffix}`, phase, container: container.name, description, creates, run });
  };
  if (works.length > 0) {
    const names = works.map((work) => work.planned.ifname).join(', ');
    step('links', 'links', `create ${names}`, works.flatMap((work) => work.creates), [
      { kind: 'ip-batch', netns: null, lines: works.flatMap((work) => work.hostLines) },
    ]);
    step('addresses', 'addresses', `address ${names}`, [], [{ kind: 'ip-batch', netns, lines: works.flatMap((work) => work.addressLines) }]);
    const run: StepCommand[] = [{ kind: 'ip-batch', netns, lines: [...works.flatMap((work) => work.upLines), ...works.flatMap((work) => work.routeLines)] }];
    const announce = works.flatMap((work) => (work.announce ? [work.announce] : []));
    // A peer that probed too early keeps a failed ARP entry and waits up to 1 s (measured), so each
    // address is announced. In the background, one per interface: iputils arping -U sends its packet
    // at once but then lingers a second; nsenter (no mount namespace, unlike ip netns exec) keeps the
    // cost near 1 ms per container (measured), and teardown ends any arping still lingering.
    for (const { ifname, address } of announce) {
      run.push({ kind: 'shell', text: sh`nsenter --net=/run/netns/${netns} arping -q -U -c 1 -I ${ifname} ${address} || true`, background: true });
    }
    step('link-up', 'link-up', `bring up ${names}${announce.length > 0 ? ' and announce the addresses' : ''}`, [], run);
  }
  return { planned: planned(netns, interfaces), steps };
}

/** JSON with sorted keys, so equal values hash equally whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Only the facts the plan was made from: management address and NIC, parents, needed features.
 * Everything else (other NICs coming and going, timestamps) would make every re-apply look new.
 */
function fingerprintOf(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): string {
  const facts: Record<string, unknown> = {};
  for (const [host, info] of hosts) {
    const parents: Record<string, number | null> = {};
    const features: Record<string, boolean | 'unknown'> = {};
    for (const network of model.networks.values()) {
      if (!(model.hostsOf.get(network.name) ?? []).includes(host)) continue;
      for (const feature of MODE_FEATURES[network.mode]) features[feature] = info.facts.kernelFeatures[feature]?.supported ?? 'unknown';
      if (network.mode === 'macvlan' || network.mode === 'ipvlan') {
        const parent = network.options.parent ?? info.nic?.name ?? null;
        if (parent !== null) parents[parent] = info.facts.nics.find((nic) => nic.name === parent)?.mtu ?? null;
      }
    }
    for (const feature of shapingFeatures(model, host)) features[feature] = info.facts.kernelFeatures[feature]?.supported ?? 'unknown';
    facts[host] = { address: info.address, nic: info.nic?.name ?? null, mtu: info.nic?.mtu ?? null, parents, features };
  }
  return createHash('sha256')
    .update(canonicalJson({ planner: PLANNER_VERSION, spec: { ...model.spec, layout: undefined }, facts }))
    .digest('hex');
}
