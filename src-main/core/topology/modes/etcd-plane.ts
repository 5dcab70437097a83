// The etcd control plane of a vxlan network, Flannel's design: cnlab runs one etcd for the lab (on the
// network's first host, in topology order), every host writes its subnet lease with its VTEP's MAC, and a
// watch agent on every host programs the neighbour, FDB and route entries for the other hosts' leases.
// The VXLAN device, bridge and container plumbing are those of overlay.ts; only the peer entries move
// from static steps to the agent.
//
// Keys, as Flannel lays them out under /coreos.com/network/, with the lab's name added so labs sharing
// an etcd could never see each other's leases:
//   /coreos.com/network/<lab>/config                  {"Network":"<range>","SubnetLen":24,"Backend":{...}}
//   /coreos.com/network/<lab>/subnets/<a.b.c.d>-24    {"PublicIP":"<mgmt>","BackendType":"vxlan","BackendData":{"VNI":n,"VtepMAC":"<mac>"}}
// The agent watches the prefix /coreos.com/network/<lab>/subnets/ (trailing slash: lab "a" never sees
// lab "ab"); teardown deletes exact keys only, never a prefix.
//
// Files on the etcd host: /run/cnlab/<lab>/etcd/{etcd.conf.yml, etcd.pid, etcd.log, version, data/};
// on every host: /run/cnlab/<lab>/{agent.sh, agent.pid, agent.log, agent-leases/}.
import { quoteShellArg, sh, shellCommand } from '../../shell/quote';
import { BLOCK_PREFIX, formatCidr, formatIpv4, maskOf, type Cidr } from '../ipam';
import type { ControlPlaneDaemon, ControlPlanePlan, LedgerEntry, PlanStep } from '../plan';
import { blockOf, hostInfo, type PlanInputs } from './common';
import { DAEMON_ANSWER_SECONDS, processEntry, startDetachedCommand, stepScript, waitForRoutesBody, writeFileCommand } from './daemons';
import { networkRange } from './dynamic-routes';
import type { VxlanNetwork } from './overlay';

export const ETCD_CLIENT_PORT = 23790;
export const ETCD_PEER_PORT = 23800;
export const FLANNEL_ROOT = '/coreos.com/network';
/** How long a host waits for its agent to program every other host's lease. */
export const ETCD_CONVERGE_SECONDS = 30;
/** etcd preallocates its write-ahead log (64,000,000 bytes) in the data dir, which is on /run (tmpfs). */
export const ETCD_MIN_FREE_KIB = 65_536;

export interface EtcdLayout {
  network: string;
  /** The host that runs etcd: the network's first host in topology order. */
  host: string;
  address: string;
  clientPort: number;
  peerPort: number;
  endpoint: string;
  memberName: string;
  dir: string;
  configFile: string;
  dataDir: string;
  pidFile: string;
  logFile: string;
  versionFile: string;
  /** /coreos.com/network/<lab>/ */
  prefix: string;
  subnetsPrefix: string;
  configKey: string;
  agent: { script: string; pidFile: string; logFile: string; leasesDir: string };
}

export function etcdLayout(inputs: PlanInputs, network: VxlanNetwork): EtcdLayout {
  const host = (inputs.model.hostsOf.get(network.name) ?? [])[0];
  if (host === undefined) throw new Error(`internal: network ${network.name} has no hosts`);
  const address = hostInfo(inputs, host).address;
  if (address === null) throw new Error(`internal: host ${host} has no management address for etcd`);
  const { labId, ledgerDir } = inputs.model.names;
  const clientPort = network.options.etcdClientPort ?? ETCD_CLIENT_PORT;
  const dir = `${ledgerDir}/etcd`;
  const prefix = `${FLANNEL_ROOT}/${labId}/`;
  return {
    network: network.name,
    host,
    address,
    clientPort,
    peerPort: network.options.etcdPeerPort ?? ETCD_PEER_PORT,
    endpoint: `http://${address}:${clientPort}`,
    memberName: `cnlab-${labId}`,
    dir,
    configFile: `${dir}/etcd.conf.yml`,
    dataDir: `${dir}/data`,
    pidFile: `${dir}/etcd.pid`,
    logFile: `${dir}/etcd.log`,
    versionFile: `${dir}/version`,
    prefix,
    subnetsPrefix: `${prefix}subnets/`,
    configKey: `${prefix}config`,
    agent: { script: `${ledgerDir}/agent.sh`, pidFile: `${ledgerDir}/agent.pid`, logFile: `${ledgerDir}/agent.log`, leasesDir: `${ledgerDir}/agent-leases` },
  };
}

/** etcd's and the watch agent's command lines, the same at apply and at a restart (restartDetachedCommand). */
export function etcdArgv(configFile: string): string[] {
  return ['etcd', '--config-file', configFile];
}

export function agentArgv(script: string): string[] {
  return ['sh', script];
}

/** Flannel's lease key of a /24 block: <prefix>subnets/198.19.1.0-24. */
export function leaseKey(layout: EtcdLayout, block: Cidr): string {
  return `${layout.subnetsPrefix}${formatIpv4(block.base)}-${block.prefix}`;
}

export function leaseValue(address: string, vni: number, mac: string): string {
  return JSON.stringify({ PublicIP: address, BackendType: 'vxlan', BackendData: { VNI: vni, VtepMAC: mac } });
}

export function networkConfigValue(range: Cidr, network: VxlanNetwork): string {
  return JSON.stringify({ Network: formatCidr(range), SubnetLen: BLOCK_PREFIX, Backend: { Type: 'vxlan', VNI: network.options.vni, Port: network.options.port } });
}

export function etcdConfig(inputs: PlanInputs, layout: EtcdLayout): string {
  const peer = `http://127.0.0.1:${layout.peerPort}`;
  const client = layout.endpoint;
  // JSON strings are valid YAML scalars: every value is written as one.
  const entries: [string, string][] = [
    ['name', layout.memberName],
    ['data-dir', layout.dataDir],
    ['listen-client-urls', client],
    ['advertise-client-urls', client],
    ['listen-peer-urls', peer],
    ['initial-advertise-peer-urls', peer],
    ['initial-cluster', `${layout.memberName}=${peer}`],
    ['initial-cluster-state', 'new'],
    ['initial-cluster-token', layout.memberName],
    // The watch agents replay the history from revision 1 when they (re)connect: never compact it.
    ['auto-compaction-retention', '0'],
  ];
  return [
    `# cnlab: the etcd of lab ${inputs.model.names.labId} (network ${layout.network}, Flannel's design), on host ${layout.host}.`,
    `# Clients on ${client}; the peer port only on loopback (one member). Keys under ${layout.prefix}.`,
    ...entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
    '',
  ].join('\n');
}

/** sh: succeeds when the etcd at the endpoint answers and is this lab's (not another etcd on that port). */
function etcdOursFunction(layout: EtcdLayout): string {
  const etcdctl = shellCommand(['etcdctl', `--endpoints=${layout.endpoint}`, '--dial-timeout=1s', '--command-timeout=2s']);
  return `cnlab_etcd_ours() { ${etcdctl} endpoint health >/dev/null 2>&1 && ${etcdctl} member list 2>/dev/null | grep -qF -e ${quoteShellArg(`, ${layout.memberName}, `)}; }`;
}

function etcdctlWords(layout: EtcdLayout): string[] {
  return ['etcdctl', `--endpoints=${layout.endpoint}`, '--dial-timeout=1s', '--command-timeout=2s'];
}

/** An exact key cnlab wrote; its undo deletes that key alone (no --prefix), quickly when etcd is gone. */
export function etcdKeyEntry(layout: EtcdLayout, key: string): LedgerEntry {
  return { kind: 'etcd-key', name: key, undo: `ETCDCTL_API=3 ${shellCommand([...etcdctlWords(layout), 'del', key])} </dev/null >/dev/null 2>&1; true` };
}

/** On the etcd host: check, configure and start etcd, wait until it answers as this lab's, write the network config. */
export function etcdServerStep(inputs: PlanInputs, network: VxlanNetwork, layout: EtcdLayout): PlanStep {
  const labId = inputs.model.names.labId;
  const body = [
    sh`cnlab_need etcd etcd-server; cnlab_need etcdctl etcd-client; cnlab_need setsid util-linux; cnlab_need ss iproute2`,
    sh`cnlab_port_free ${layout.clientPort} ${`etcd client port of lab ${labId}`} ${`set options.etcdClientPort of network ${network.name} to a free port`}`,
    sh`cnlab_port_free ${layout.peerPort} ${`etcd peer port of lab ${labId}`} ${`set options.etcdPeerPort of network ${network.name} to a free port`}`,
    sh`mkdir -p ${layout.dir}`,
    sh`cnlab_free=$(df -Pk ${layout.dir} | awk 'NR == 2 { print $4 }')`,
    `if [ "\${cnlab_free:-0}" -lt ${ETCD_MIN_FREE_KIB} ]; then`,
    sh`  printf 'etcd preallocates a 61 MiB write-ahead log in %s, but only %s MiB are free there (/run is usually a RAM-backed tmpfs): free some space in /run or enlarge it\\n' ${layout.dir} "$((cnlab_free / 1024))" >&2; exit 1`,
    'fi',
    sh`etcd --version > ${layout.versionFile} 2>&1 || true`,
    writeFileCommand(layout.configFile, etcdConfig(inputs, layout)),
    startDetachedCommand(etcdArgv(layout.configFile), layout.pidFile, layout.logFile),
    etcdOursFunction(layout),
    sh`cnlab_wait ${DAEMON_ANSWER_SECONDS} ${`etcd of lab ${labId} at ${layout.endpoint}`} ${layout.pidFile} ${layout.logFile} cnlab_etcd_ours`,
    `${shellCommand([...etcdctlWords(layout), 'put', layout.configKey, networkConfigValue(networkRange(inputs, network.name), network)])} </dev/null >/dev/null`,
  ];
  return {
    id: `net/${network.name}/etcd`,
    phase: 'control-plane',
    description: `etcd of lab ${labId} on ${layout.endpoint} (config ${layout.configFile}), network config ${layout.configKey}`,
    // Reverse order on teardown: the config key is deleted while etcd still runs, then etcd stops.
    creates: [processEntry('etcd', layout.pidFile, layout.configFile), etcdKeyEntry(layout, layout.configKey)],
    run: [{ kind: 'shell', text: stepScript(body) }],
  };
}

/** The watch agent of one host: a POSIX sh script driven by `etcdctl watch --prefix` (exec mode). */
export function agentScript(inputs: PlanInputs, network: VxlanNetwork, layout: EtcdLayout, host: string, vtep: string): string {
  const range = networkRange(inputs, network.name);
  const own = leaseKey(layout, blockOf(inputs, network.name, host).subnet);
  const assign = (name: string, value: string | number): string => `${name}=${quoteShellArg(value)}`;
  return [
    '#!/bin/sh',
    `# cnlab watch agent: lab ${inputs.model.names.labId}, network ${network.name}, host ${host} (Flannel's vxlan design, driven by etcd).`,
    '# Watches the subnet leases of the lab in etcd and, for every other host\'s lease, programs the',
    '# neighbour, FDB and route entries on this host\'s VTEP; removes them when the lease is deleted.',
    '# Only /24 leases inside the network\'s range are accepted, and a route is written only where no',
    '# route of someone else exists. Started by cnlab in its own session; teardown stops the session.',
    'set -u',
    'export ETCDCTL_API=3',
    assign('endpoints', layout.endpoint),
    assign('prefix', layout.subnetsPrefix),
    assign('own', own),
    assign('vtep', vtep),
    assign('range_base', (range.base & maskOf(range.prefix)) >>> 0),
    assign('range_mask', maskOf(range.prefix)),
    assign('leases', layout.agent.leasesDir),
    assign('self', layout.agent.script),
    "octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'",
    'say() { printf \'%s %s\\n\' "$(date +%s.%N)" "$*"; }',
    '',
    'put_lease() {',
    `  value=$(printf '%s' "\${ETCD_WATCH_VALUE:-}" | tr -d '\\\\\\n')`,
    `  ip=$(printf '%s' "$value" | sed -n 's/.*"PublicIP": *"\\([0-9.]*\\)".*/\\1/p')`,
    `  mac=$(printf '%s' "$value" | sed -n 's/.*"VtepMAC": *"\\([0-9a-fA-F:]*\\)".*/\\1/p' | tr 'A-F' 'a-f')`,
    '  printf \'%s\\n\' "$ip" | grep -Eqx "$octet(\\.$octet){3}" || { say "ignored $key: no valid PublicIP"; return 0; }',
    "  printf '%s\\n' \"$mac\" | grep -Eqx '[0-9a-f]{2}(:[0-9a-f]{2}){5}' || { say \"ignored $key: no valid VtepMAC\"; return 0; }",
    '  existing=$(ip -4 -o route show exact "$subnet/24" 2>/dev/null)',
    '  case " $existing " in "  "|*" dev $vtep "*) ;; *) say "refused $key: $subnet/24 is routed by someone else: $existing"; return 0;; esac',
    '  if [ -f "$leases/$name" ]; then',
    '    read -r old_mac old_ip < "$leases/$name" || true',
    '    [ "$old_mac $old_ip" = "$mac $ip" ] || bridge fdb del "$old_mac" dev "$vtep" dst "$old_ip" 2>/dev/null || true',
    '  fi',
    '  if ip neigh replace "$subnet" lladdr "$mac" dev "$vtep" nud permanent &&',
    '    bridge fdb replace "$mac" dev "$vtep" dst "$ip" &&',
    '    ip route replace "$subnet/24" via "$subnet" dev "$vtep" onlink; then',
    '    printf \'%s %s\\n\' "$mac" "$ip" > "$leases/$name"',
    '    say "lease $name: programmed $subnet/24 via $ip ($mac)"',
    '  else',
    '    say "lease $name: programming failed"',
    '  fi',
    '}',
    '',
    'delete_lease() {',
    '  [ -f "$leases/$name" ] || return 0',
    '  read -r old_mac old_ip < "$leases/$name" || true',
    '  ip route del "$subnet/24" dev "$vtep" 2>/dev/null || true',
    '  ip neigh del "$subnet" dev "$vtep" 2>/dev/null || true',
    '  bridge fdb del "$old_mac" dev "$vtep" dst "$old_ip" 2>/dev/null || true',
    '  rm -f "$leases/$name"',
    '  say "lease $name: deleted, its entries removed"',
    '}',
    '',
    '# One watch event (etcdctl exec mode: Go-quoted values in ETCD_WATCH_*).',
    'event() {',
    '  type=${ETCD_WATCH_EVENT_TYPE:-}; type=${type#\\"}; type=${type%\\"}',
    '  key=${ETCD_WATCH_KEY:-}; key=${key#\\"}; key=${key%\\"}',
    '  case $key in "$prefix"*) ;; *) return 0;; esac',
    '  [ "$key" = "$own" ] && return 0',
    '  name=${key#"$prefix"}',
    '  printf \'%s\\n\' "$name" | grep -Eqx "$octet(\\.$octet){3}-24" || { say "ignored $key: not a /24 subnet lease"; return 0; }',
    '  subnet=${name%-24}',
    '  old_ifs=$IFS; IFS=.; set -- $subnet; IFS=$old_ifs',
    '  n=$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))',
    '  if [ $(( n & range_mask )) -ne "$range_base" ] || [ $(( n & 255 )) -ne 0 ]; then say "ignored $key: $subnet/24 is outside the network"; return 0; fi',
    '  case $type in',
    '    PUT) put_lease ;;',
    '    DELETE) delete_lease ;;',
    '  esac',
    '}',
    '',
    'if [ "${1:-}" = event ]; then event; exit 0; fi',
    'mkdir -p "$leases"',
    'say "agent started: watching $prefix at $endpoints"',
    '# From revision 1: the whole (small, never compacted) history, so nothing is missed across reconnects.',
    'while :; do',
    '  etcdctl --endpoints="$endpoints" watch --prefix --rev=1 "$prefix" -- sh "$self" event </dev/null',
    '  say "watch ended ($?); again in 1 s"',
    '  sleep 1',
    'done',
    '',
  ].join('\n');
}

/** On every host: write the agent, wait for the lab's etcd, write this host's lease, start the agent. */
export function etcdAgentStep(inputs: PlanInputs, network: VxlanNetwork, layout: EtcdLayout, host: string, vtep: string, mac: string): PlanStep {
  const info = hostInfo(inputs, host);
  if (info.address === null) throw new Error(`internal: host ${host} has no management address`);
  const labId = inputs.model.names.labId;
  const key = leaseKey(layout, blockOf(inputs, network.name, host).subnet);
  const body = [
    sh`cnlab_need etcdctl etcd-client; cnlab_need setsid util-linux; cnlab_need bridge iproute2`,
    sh`mkdir -p ${layout.agent.leasesDir}`,
    writeFileCommand(layout.agent.script, agentScript(inputs, network, layout, host, vtep)),
    etcdOursFunction(layout),
    sh`cnlab_wait ${DAEMON_ANSWER_SECONDS} ${`the etcd of lab ${labId} at ${layout.endpoint} (on host ${layout.host})`} '' '' cnlab_etcd_ours`,
    `${shellCommand([...etcdctlWords(layout), 'put', key, leaseValue(info.address, network.options.vni, mac)])} </dev/null >/dev/null`,
    startDetachedCommand(agentArgv(layout.agent.script), layout.agent.pidFile, layout.agent.logFile),
  ];
  return {
    id: `net/${network.name}/agent`,
    phase: 'control-plane',
    description: `lease ${key} in the lab's etcd and the watch agent ${layout.agent.script} of network ${network.name}`,
    // Reverse order on teardown: the agent stops, then the lease goes (if etcd still runs; else with its data).
    creates: [etcdKeyEntry(layout, key), processEntry('watch-agent', layout.agent.pidFile, layout.agent.script)],
    run: [{ kind: 'shell', text: stepScript(body) }],
  };
}

/** Last on every host: wait until the agent has programmed a route for each other host's block. */
export function etcdConvergeStep(inputs: PlanInputs, network: VxlanNetwork, layout: EtcdLayout, host: string, vtep: string): PlanStep | null {
  const peers = (inputs.model.hostsOf.get(network.name) ?? []).filter((other) => other !== host);
  if (peers.length === 0) return null;
  const wanted = peers.map((peer) => formatCidr(blockOf(inputs, network.name, peer).subnet));
  const body = waitForRoutesBody(wanted, sh`ip -4 -o route show dev ${vtep}`, ETCD_CONVERGE_SECONDS, [
    sh`printf 'the watch agent has not programmed the routes to %swithin %s s: do the other hosts run their agents and hold their leases?\n' "$(cnlab_missing)" ${ETCD_CONVERGE_SECONDS} >&2; cnlab_tail ${layout.agent.logFile}; exit 1`,
  ]);
  return {
    id: `net/${network.name}/converge`,
    phase: 'control-plane',
    description: `wait until etcd has brought the routes of network ${network.name} to ${wanted.join(', ')}`,
    creates: [],
    run: [{ kind: 'shell', text: stepScript(body) }],
  };
}

/** The VTEP's name is the same on every host (naming.ts: lab and network only). */
export function etcdPlanInfo(inputs: PlanInputs, network: VxlanNetwork, layout: EtcdLayout, vtep: string): ControlPlanePlan {
  const hosts = inputs.model.hostsOf.get(network.name) ?? [];
  const daemons: ControlPlaneDaemon[] = [
    { host: layout.host, program: 'etcd', version: hostInfo(inputs, layout.host).facts.tools.etcd, configFile: layout.configFile, pidFile: layout.pidFile, logFile: layout.logFile },
    ...hosts.map((host): ControlPlaneDaemon => ({ host, program: 'watch-agent', version: null, configFile: layout.agent.script, pidFile: layout.agent.pidFile, logFile: layout.agent.logFile })),
  ];
  const configs: Record<string, Record<string, string>> = {};
  for (const host of hosts) configs[host] = { [layout.agent.script]: agentScript(inputs, network, layout, host, vtep) };
  (configs[layout.host] ??= {})[layout.configFile] = etcdConfig(inputs, layout);
  return {
    network: network.name,
    kind: 'etcd',
    daemons,
    settings: { endpoint: layout.endpoint, etcdHost: layout.host, clientPort: layout.clientPort, peerPort: layout.peerPort, keyPrefix: layout.prefix, subnetsPrefix: layout.subnetsPrefix },
    configs,
  };
}
