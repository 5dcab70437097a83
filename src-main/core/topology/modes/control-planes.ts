// The dynamic control planes as the planner and validation see them: which steps come last on each host
// (announcing containers, waiting for convergence), what the plan records about the daemons, and what
// validation refuses before anything runs.
import type { ControlPlaneDaemon, ControlPlanePlan, PlanStep } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { announceStep, bgpConvergeStep, bgpPlanInfo, birdArgv } from './bgp-plane';
import type { HostInfo, LabModel, PlanInputs } from './common';
import { restartDetachedCommand } from './daemons';
import { agentArgv, etcdArgv, etcdConvergeStep, etcdLayout, etcdPlanInfo } from './etcd-plane';
import { vtepName, type VxlanNetwork } from './overlay';
import type { RoutedNetwork } from './routed';

function etcdNetworks(model: LabModel): VxlanNetwork[] {
  return [...model.networks.values()].filter((network): network is VxlanNetwork => network.mode === 'vxlan' && network.options.controlPlane === 'etcd');
}

function bgpNetworks(model: LabModel): RoutedNetwork[] {
  return [...model.networks.values()].filter((network): network is RoutedNetwork => network.mode === 'routed' && network.options.controlPlane === 'bgp');
}

function onHost(model: LabModel, network: string, host: string): boolean {
  return (model.hostsOf.get(network) ?? []).includes(host);
}

/** Steps that come after every container of the host: /32 announcements, then the convergence waits. */
export function controlPlaneFinalSteps(inputs: PlanInputs, host: string): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const network of bgpNetworks(inputs.model)) {
    if (!onHost(inputs.model, network.name, host)) continue;
    const announce = announceStep(inputs, network, host);
    if (announce) steps.push(announce);
  }
  for (const network of etcdNetworks(inputs.model)) {
    if (!onHost(inputs.model, network.name, host)) continue;
    const converge = etcdConvergeStep(inputs, network, etcdLayout(inputs, network), host, vtepName(inputs, network.name));
    if (converge) steps.push(converge);
  }
  for (const network of bgpNetworks(inputs.model)) {
    if (!onHost(inputs.model, network.name, host)) continue;
    const converge = bgpConvergeStep(inputs, network, host);
    if (converge) steps.push(converge);
  }
  return steps;
}

/** What the plan (and the lab's record) keeps about each control plane: daemons, versions, configs. */
export function controlPlanesOf(inputs: PlanInputs): ControlPlanePlan[] {
  return [
    ...etcdNetworks(inputs.model)
      .filter((network) => (inputs.model.hostsOf.get(network.name) ?? []).length > 0)
      .map((network) => etcdPlanInfo(inputs, network, etcdLayout(inputs, network), vtepName(inputs, network.name))),
    ...bgpNetworks(inputs.model)
      .filter((network) => (inputs.model.hostsOf.get(network.name) ?? []).length > 0)
      .map((network) => bgpPlanInfo(inputs, network)),
  ];
}

/** The command line the apply started a daemon of the plan with (the ledger's marker is its configFile). */
export function daemonArgv(controlPlane: Pick<ControlPlanePlan, 'settings'>, daemon: Pick<ControlPlaneDaemon, 'program' | 'configFile' | 'pidFile'>): string[] {
  if (daemon.program === 'etcd') return etcdArgv(daemon.configFile);
  if (daemon.program === 'watch-agent') return agentArgv(daemon.configFile);
  const socket = controlPlane.settings.socket;
  if (typeof socket !== 'string') throw new Error('internal: the BGP control plane has no BIRD socket in its settings');
  return birdArgv({ configFile: daemon.configFile, socket, pidFile: daemon.pidFile });
}

/** Shell text that restarts one daemon of the plan on its host: stopped by its pid file, started as the apply did. */
export function daemonRestartCommand(controlPlane: Pick<ControlPlanePlan, 'settings'>, daemon: ControlPlaneDaemon): string {
  return restartDetachedCommand(daemon.program, daemonArgv(controlPlane, daemon), daemon.pidFile, daemon.logFile, daemon.configFile);
}

const ETCD_ONLY = ['etcdClientPort', 'etcdPeerPort'] as const;
const BGP_ONLY = ['asn', 'bgpPort', 'connectDelayTime', 'connectRetryTime', 'holdTime', 'keepaliveTime', 'kernelMetric'] as const;

/** Refusals of one network's control plane against its hosts' facts and its own options. */
export function controlPlaneProblems(network: NetworkSpec, participants: readonly HostInfo[]): string[] {
  const problems: string[] = [];
  if (network.mode === 'vxlan') {
    const options = network.options;
    if (options.controlPlane !== 'etcd') {
      for (const key of ETCD_ONLY) {
        if (options[key] !== undefined) problems.push(`network ${network.name}: options.${key} applies to controlPlane etcd only: remove it or set controlPlane: etcd`);
      }
      return problems;
    }
    const etcdHost = participants[0];
    if (etcdHost && etcdHost.facts.tools.etcd === null) {
      problems.push(
        `network ${network.name} (controlPlane etcd): etcd is not installed on host ${etcdHost.name}, which runs the lab's etcd: install it there (Debian: apt-get install etcd-server etcd-client)`,
      );
    }
    const client = options.etcdClientPort ?? 23790;
    const peer = options.etcdPeerPort ?? 23800;
    if (client === peer) problems.push(`network ${network.name}: etcdClientPort and etcdPeerPort are both ${client}: give them different ports`);
  }
  if (network.mode === 'routed') {
    const options = network.options;
    if (options.controlPlane !== 'bgp') {
      for (const key of BGP_ONLY) {
        if (options[key] !== undefined) problems.push(`network ${network.name}: options.${key} applies to controlPlane bgp only: remove it or set controlPlane: bgp`);
      }
      return problems;
    }
    for (const info of participants) {
      if (info.facts.tools.bird === null) {
        problems.push(`network ${network.name} (controlPlane bgp): BIRD is not installed on host ${info.name}: install it there (Debian: apt-get install bird2)`);
      }
    }
    const hold = options.holdTime ?? 240;
    if (options.keepaliveTime !== undefined && options.keepaliveTime >= hold) {
      problems.push(`network ${network.name}: keepaliveTime ${options.keepaliveTime} must be below holdTime ${hold}: lower keepaliveTime (a third of holdTime is usual)`);
    }
  }
  return problems;
}

/** One etcd and one BIRD per lab and host: at most one network of each dynamic control plane per lab. */
export function controlPlaneLabProblems(model: LabModel): string[] {
  const problems: string[] = [];
  for (const [kind, networks] of [['etcd', etcdNetworks(model)], ['bgp', bgpNetworks(model)]] as const) {
    if (networks.length > 1) {
      problems.push(
        `networks ${networks.map((network) => network.name).join(', ')} all use controlPlane ${kind}, but a lab runs one ${kind === 'etcd' ? 'etcd' : 'BIRD mesh'} for one such network: keep one of them, or put the others in another lab`,
      );
    }
  }
  return problems;
}
