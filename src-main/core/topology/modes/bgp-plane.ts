// The BGP control plane of a routed network, Calico's design: BIRD 2 on every host of the network, an
// iBGP full mesh between them (one private AS, router id = management address, sessions between the
// management addresses), each host announcing its /24 block (the bridge's connected prefix, protocol
// direct) and a /32 route per container (cnlab adds `<address>/32 dev <bridge>`, BIRD's kernel protocol
// learns it), and the routes learned from the peers installed into the kernel. No encapsulation.
//
// Safety: every filter is confined to the network's range (its subnet, else the lab's pool), so BIRD never
// imports, exports or installs the default route or a management route. BIRD deletes every kernel route
// with "proto bird" and its own metric that it did not install itself (measured here: with metric 32 it
// removed another BIRD's route), so each lab's BIRD uses a metric of its own (derived from the lab name,
// or options.kernelMetric), never BIRD's default 32.
//
// Files per host: /run/cnlab/<lab>/bird/{bird.conf, bird.ctl (control socket), bird.pid, bird.log, version}.
import { createHash } from 'node:crypto';
import { quoteShellArg, sh, shellCommand } from '../../shell/quote';
import { formatCidr, type Cidr } from '../ipam';
import type { ControlPlanePlan, LedgerEntry, PlanStep } from '../plan';
import { bridgeName } from './bridge';
import { addressOf, blockOf, hostInfo, ipBatch, type PlanInputs } from './common';
import { DAEMON_ANSWER_SECONDS, processEntry, startDetachedCommand, stepScript, waitForRoutesBody, writeFileCommand } from './daemons';
import { networkRange } from './dynamic-routes';
import type { RoutedNetwork } from './routed';

/** BIRD's own defaults, except the AS (a private one) and the metric (see above). */
export const BGP_DEFAULTS = { asn: 64512, port: 179, connectDelayTime: 5, connectRetryTime: 120, holdTime: 240 } as const;

export interface BgpSettings {
  asn: number;
  port: number;
  connectDelayTime: number;
  connectRetryTime: number;
  holdTime: number;
  keepaliveTime: number;
  kernelMetric: number;
}

/** A metric per lab in 1000-8999: never BIRD's default 32, and two labs rarely share one. */
export function defaultKernelMetric(labId: string): number {
  return 1000 + (parseInt(createHash('sha256').update(`bird-metric:${labId}`).digest('hex').slice(0, 8), 16) % 8000);
}

export function bgpSettings(labId: string, network: RoutedNetwork): BgpSettings {
  const options = network.options;
  const holdTime = options.holdTime ?? BGP_DEFAULTS.holdTime;
  return {
    asn: options.asn ?? BGP_DEFAULTS.asn,
    port: options.bgpPort ?? BGP_DEFAULTS.port,
    connectDelayTime: options.connectDelayTime ?? BGP_DEFAULTS.connectDelayTime,
    connectRetryTime: options.connectRetryTime ?? BGP_DEFAULTS.connectRetryTime,
    holdTime,
    keepaliveTime: options.keepaliveTime ?? Math.max(1, Math.floor(holdTime / 3)),
    kernelMetric: options.kernelMetric ?? defaultKernelMetric(labId),
  };
}

/** How long a host waits for BIRD to learn every peer's block and containers: a connect delay on both sides, and room. */
export function bgpConvergeSeconds(settings: BgpSettings): number {
  return Math.max(30, 2 * settings.connectDelayTime + 20);
}

export interface BirdLayout {
  dir: string;
  configFile: string;
  socket: string;
  pidFile: string;
  logFile: string;
  versionFile: string;
}

export function birdLayout(inputs: PlanInputs): BirdLayout {
  const dir = `${inputs.model.names.ledgerDir}/bird`;
  return { dir, configFile: `${dir}/bird.conf`, socket: `${dir}/bird.ctl`, pidFile: `${dir}/bird.pid`, logFile: `${dir}/bird.log`, versionFile: `${dir}/version` };
}

/** BIRD's command line, the same at apply and at a restart (restartDetachedCommand). */
export function birdArgv(layout: Pick<BirdLayout, 'configFile' | 'socket' | 'pidFile'>): string[] {
  return ['bird', '-f', '-c', layout.configFile, '-s', layout.socket, '-P', layout.pidFile];
}

function peersOf(inputs: PlanInputs, network: string, host: string): string[] {
  return (inputs.model.hostsOf.get(network) ?? []).filter((other) => other !== host);
}

function addressOfHost(inputs: PlanInputs, host: string): string {
  const address = hostInfo(inputs, host).address;
  if (address === null) throw new Error(`internal: host ${host} has no management address for BGP`);
  return address;
}

/** Containers with an address of their own on the network, on one host. */
function containersOn(inputs: PlanInputs, network: string, host: string): { name: string; address: string }[] {
  return (inputs.model.members.get(network) ?? []).filter((member) => member.host === host).map((member) => ({ name: member.name, address: addressOf(inputs, network, member.name) }));
}

export function birdConfig(inputs: PlanInputs, network: RoutedNetwork, host: string): string {
  const settings = bgpSettings(inputs.model.names.labId, network);
  const range: Cidr = networkRange(inputs, network.name);
  const all = `[ ${formatCidr(range)}+ ]`;
  const hostRoutes = `[ ${formatCidr(range)}{32,32} ]`;
  const bridge = bridgeName(inputs, network.name);
  const own = addressOfHost(inputs, host);
  const lines = [
    `# cnlab: BIRD of lab ${inputs.model.names.labId}, network ${network.name}, host ${host} (Calico's design).`,
    `# iBGP full mesh of the lab's hosts in AS ${settings.asn}; announces this host's block (the connected prefix of`,
    `# bridge ${bridge}) and its containers' /32 routes (learned from the kernel); installs the peers' routes with`,
    `# metric ${settings.kernelMetric}. Only prefixes inside ${formatCidr(range)} pass any filter: the default route and the`,
    '# management routes are never imported, exported or installed.',
    `router id ${own};`,
    'log stderr all;',
    '',
    'protocol device cnlab_device {',
    '}',
    '',
    'protocol direct cnlab_direct {',
    '  ipv4;',
    `  interface "${bridge}";`,
    '}',
    '',
    'protocol kernel cnlab_kernel {',
    `  metric ${settings.kernelMetric};`,
    '  learn;',
    '  ipv4 {',
    `    import filter { if net ~ ${hostRoutes} && ifname = "${bridge}" then accept; reject; };`,
    `    export filter { if source = RTS_BGP && net ~ ${all} then accept; reject; };`,
    '  };',
    '}',
    '',
    'template bgp cnlab_mesh {',
    `  local ${own} port ${settings.port} as ${settings.asn};`,
    '  strict bind yes;',
    '  direct;',
    `  connect delay time ${settings.connectDelayTime};`,
    `  connect retry time ${settings.connectRetryTime};`,
    `  hold time ${settings.holdTime};`,
    `  keepalive time ${settings.keepaliveTime};`,
    '  ipv4 {',
    `    import filter { if net ~ ${all} then accept; reject; };`,
    `    export filter { if net ~ ${all} && (proto = "cnlab_direct" || proto = "cnlab_kernel") then accept; reject; };`,
    '    next hop self;',
    '  };',
    '}',
  ];
  peersOf(inputs, network.name, host).forEach((peer, index) => {
    lines.push('', `protocol bgp cnlab_peer${index + 1} from cnlab_mesh {`, `  description "host ${peer}";`, `  neighbor ${addressOfHost(inputs, peer)} port ${settings.port} as ${settings.asn};`, '}');
  });
  lines.push('');
  return lines.join('\n');
}

/** On every host of the network: check, configure and start BIRD, wait until it answers on its socket. */
export function birdStep(inputs: PlanInputs, network: RoutedNetwork, host: string): PlanStep {
  const labId = inputs.model.names.labId;
  const layout = birdLayout(inputs);
  const settings = bgpSettings(labId, network);
  const body = [
    sh`cnlab_need bird bird2; cnlab_need birdc bird2; cnlab_need setsid util-linux; cnlab_need ss iproute2`,
    ...(peersOf(inputs, network.name, host).length > 0
      ? [sh`cnlab_port_free ${settings.port} ${`BGP port of lab ${labId}`} ${`set options.bgpPort of network ${network.name} to a free port`}`]
      : []),
    sh`mkdir -p ${layout.dir}`,
    writeFileCommand(layout.configFile, birdConfig(inputs, network, host)),
    sh`bird -p -c ${layout.configFile}`,
    sh`bird --version > ${layout.versionFile} 2>&1 || true`,
    startDetachedCommand(birdArgv(layout), layout.pidFile, layout.logFile),
    sh`cnlab_wait ${DAEMON_ANSWER_SECONDS} ${`BIRD of lab ${labId}`} ${layout.pidFile} ${layout.logFile} birdc -s ${layout.socket} show status`,
  ];
  return {
    id: `net/${network.name}/bird`,
    phase: 'control-plane',
    description: `BIRD of lab ${labId} (config ${layout.configFile}, socket ${layout.socket}), iBGP with ${peersOf(inputs, network.name, host).join(', ') || 'no peers'}`,
    creates: [processEntry('bird', layout.pidFile, layout.configFile)],
    run: [{ kind: 'shell', text: stepScript(body) }],
  };
}

/** After the containers: the /32 route of each container of this host, which BIRD learns and announces. */
export function announceStep(inputs: PlanInputs, network: RoutedNetwork, host: string): PlanStep | null {
  const containers = containersOn(inputs, network.name, host);
  if (containers.length === 0) return null;
  const bridge = bridgeName(inputs, network.name);
  const creates: LedgerEntry[] = containers.map(({ address }) => ({
    kind: 'route',
    name: `${address}/32 dev ${bridge}`,
    undo: shellCommand(['ip', 'route', 'del', `${address}/32`, 'dev', bridge]),
  }));
  return {
    id: `net/${network.name}/announce`,
    phase: 'routes',
    description: `/32 routes of ${containers.map((container) => container.name).join(', ')} on ${bridge}, for BIRD to announce`,
    creates,
    run: [ipBatch(null, containers.map(({ address }) => ['route', 'add', `${address}/32`, 'dev', bridge, 'proto', 'static']))],
  };
}

/** Last on every host: wait until BIRD has installed every peer's block and container routes. */
export function bgpConvergeStep(inputs: PlanInputs, network: RoutedNetwork, host: string): PlanStep | null {
  const peers = peersOf(inputs, network.name, host);
  if (peers.length === 0) return null;
  const layout = birdLayout(inputs);
  const settings = bgpSettings(inputs.model.names.labId, network);
  const seconds = bgpConvergeSeconds(settings);
  // `ip route` shows a /32 as the bare address.
  const wanted = peers.flatMap((peer) => [formatCidr(blockOf(inputs, network.name, peer).subnet), ...containersOn(inputs, network.name, peer).map((container) => container.address)]);
  const installed = `ip -4 -o route show proto bird | awk -v m=${quoteShellArg(settings.kernelMetric)} '{ for (i = 1; i < NF; i++) if ($i == "metric" && $(i + 1) == m) print $1 }'`;
  const body = waitForRoutesBody(wanted, installed, seconds, [
    sh`printf 'BIRD has not installed the routes to %swithin %s s; its protocols:\n' "$(cnlab_missing)" ${seconds} >&2`,
    sh`birdc -s ${layout.socket} show protocols </dev/null >&2 || true; cnlab_tail ${layout.logFile}; exit 1`,
  ]);
  return {
    id: `net/${network.name}/converge`,
    phase: 'control-plane',
    description: `wait until BIRD has learned the blocks and containers of ${peers.join(', ')} on network ${network.name}`,
    creates: [],
    run: [{ kind: 'shell', text: stepScript(body) }],
  };
}

export function bgpPlanInfo(inputs: PlanInputs, network: RoutedNetwork): ControlPlanePlan {
  const hosts = inputs.model.hostsOf.get(network.name) ?? [];
  const layout = birdLayout(inputs);
  const settings = bgpSettings(inputs.model.names.labId, network);
  return {
    network: network.name,
    kind: 'bgp',
    daemons: hosts.map((host) => ({ host, program: 'bird' as const, version: hostInfo(inputs, host).facts.tools.bird, configFile: layout.configFile, pidFile: layout.pidFile, logFile: layout.logFile })),
    settings: { ...settings, range: formatCidr(networkRange(inputs, network.name)), socket: layout.socket },
    configs: Object.fromEntries(hosts.map((host) => [host, { [layout.configFile]: birdConfig(inputs, network, host) }])),
  };
}

