// Bridge and NAT networks: a Linux bridge per host holding the gateway, a veth per container; NAT adds
// masquerading and published ports in the lab's nft table. The overlay and routed modes reuse both.
import { sh, shellCommand } from '../../shell/quote';
import { BLOCK_PREFIX, formatCidr, formatIpv4 } from '../ipam';
import { batchLine, type LedgerEntry, type PlannedInterface, type PlanStep, type StepCommand } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import {
  addressOf,
  aliasWords,
  blockOf,
  containerIfname,
  hostInfo,
  ipBatch,
  linkEntry,
  mtuWords,
  type InterfaceWork,
  type LabContainer,
  type PlanInputs,
} from './common';

export function bridgeName(inputs: PlanInputs, network: string): string {
  return inputs.model.names.link('b', network);
}

/** The host end of a container's veth; one per container and network. */
export function vethName(inputs: PlanInputs, container: string, network: string): string {
  return inputs.model.names.link('v', `${container}/${network}`);
}

/**
 * On a host where Docker runs, its FORWARD policy is DROP and, with br_netfilter loaded, even frames
 * bridged between two ports of one bridge pass that chain: the lab's bridge would carry nothing. Docker
 * keeps the DOCKER-USER chain for exactly this; where it exists, the bridge's traffic is accepted there,
 * one rule each way, removed by the ledger. Elsewhere this does nothing.
 */
function dockerForwardRules(bridge: string): { creates: LedgerEntry[]; run: StepCommand } {
  const rules = [['-i', bridge], ['-o', bridge]].map((match) => ['DOCKER-USER', ...match, '-j', 'ACCEPT']);
  return {
    creates: rules.map((rule) => ({ kind: 'iptables-rule', name: `${rule[0]} ${rule[1]} ${rule[2]}`, undo: `${shellCommand(['iptables', '-w', '-D', ...rule])} 2>/dev/null; true` })),
    run: {
      kind: 'shell',
      text: [
        `if command -v iptables >/dev/null 2>&1 && iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then`,
        `  ${rules.map((rule) => shellCommand(['iptables', '-w', '-I', ...rule])).join(' &&\n  ')}`,
        'fi',
      ].join('\n'),
    },
  };
}

export function bridgeStep(inputs: PlanInputs, network: string, host: string, mtu: number | null): PlanStep {
  const bridge = bridgeName(inputs, network);
  const block = blockOf(inputs, network, host);
  if (block.gateway === null) throw new Error(`internal: network ${network} has no gateway on host ${host}`);
  const docker = dockerForwardRules(bridge);
  return {
    id: `net/${network}`,
    phase: 'host',
    description: `bridge ${bridge} for network ${network}, gateway ${formatIpv4(block.gateway)}`,
    creates: [linkEntry(bridge), ...docker.creates],
    run: [
      ipBatch(null, [
        ['link', 'add', bridge, ...mtuWords(mtu), 'type', 'bridge'],
        aliasWords(inputs.model.names, bridge),
        ['addr', 'add', `${formatIpv4(block.gateway)}/${BLOCK_PREFIX}`, 'dev', bridge],
        ['link', 'set', bridge, 'up'],
      ]),
      docker.run,
    ],
  };
}

export interface VethOptions {
  network: string;
  container: LabContainer;
  /** Position of the network in the container's list: the interface is eth<index>. */
  index: number;
  mtu: number | null;
  /** Routes inside the container, as `ip route` words after "route add". */
  routes: (string | number)[][];
}

/** A veth from the host's bridge into the container's namespace, addressed from the host's block. */
export function vethInterface(inputs: PlanInputs, options: VethOptions): InterfaceWork {
  const { network, container, index, mtu } = options;
  const netns = inputs.model.names.netns(container.name);
  const veth = vethName(inputs, container.name, network);
  const ifname = containerIfname(index);
  const address = addressOf(inputs, network, container.name);
  const cidr = `${address}/${blockOf(inputs, network, container.host).subnet.prefix}`;
  const planned: PlannedInterface = { network, ifname, address: cidr, hostDevice: veth };
  return {
    planned,
    hostLines: [
      batchLine(['link', 'add', veth, ...mtuWords(mtu), 'type', 'veth', 'peer', 'name', ifname, 'netns', netns, ...mtuWords(mtu)]),
      batchLine(aliasWords(inputs.model.names, veth)),
      batchLine(['link', 'set', veth, 'master', bridgeName(inputs, network)]),
      batchLine(['link', 'set', veth, 'up']),
    ],
    creates: [linkEntry(veth)],
    addressLines: [batchLine(['addr', 'add', cidr, 'dev', ifname])],
    upLines: [batchLine(['link', 'set', ifname, 'up'])],
    routeLines: options.routes.map((words) => batchLine(['route', 'add', ...words])),
    announce: { ifname, address },
  };
}

type NatNetwork = Extract<NetworkSpec, { mode: 'nat' }>;

/** Host ports of one nat network on one host: per container in order, per published port in order. */
export function publishedPorts(network: NatNetwork, position: number): { container: number; host: number }[] {
  const { publish, hostPortBase } = network.options;
  return publish.map((port, index) => ({ container: port, host: hostPortBase + position * publish.length + index }));
}

export function natInterface(inputs: PlanInputs, network: NatNetwork, container: LabContainer, index: number, defaultRoute: boolean): InterfaceWork {
  const block = blockOf(inputs, network.name, container.host);
  const routes = defaultRoute && block.gateway !== null ? [['default', 'via', formatIpv4(block.gateway)]] : [];
  const work = vethInterface(inputs, { network: network.name, container, index, mtu: network.options.mtu ?? null, routes });
  if (network.options.publish.length > 0) {
    const onHost = (inputs.model.members.get(network.name) ?? []).filter((member) => member.host === container.host);
    work.planned.publishedPorts = publishedPorts(network, onHost.indexOf(container));
  }
  return work;
}

/**
 * The lab's nft table on one host: masquerade for each nat network leaving through anything but its
 * bridge, DNAT of published ports on the management address (prerouting for other hosts, output for
 * the host itself), and a forward filter keeping the lab's nat networks apart as Docker does.
 * Recreated whole in one nft transaction, so a re-run replaces rather than duplicates rules.
 */
export function natStep(inputs: PlanInputs, host: string, networks: readonly NatNetwork[]): PlanStep {
  const table = inputs.model.names.nftTable;
  const address = hostInfo(inputs, host).address;
  if (address === null) throw new Error(`internal: host ${host} has no management address for its nat rules`);
  const masquerade: string[] = [];
  const dnat: string[] = [];
  const bridges: string[] = [];
  for (const network of networks) {
    const bridge = bridgeName(inputs, network.name);
    bridges.push(bridge);
    masquerade.push(`ip saddr ${formatCidr(blockOf(inputs, network.name, host).subnet)} oifname != "${bridge}" masquerade`);
    const onHost = (inputs.model.members.get(network.name) ?? []).filter((member) => member.host === host);
    onHost.forEach((container, position) => {
      const target = addressOf(inputs, network.name, container.name);
      for (const port of publishedPorts(network, position)) {
        for (const protocol of ['tcp', 'udp']) {
          dnat.push(`ip daddr ${address} ${protocol} dport ${port.host} dnat to ${target}:${port.container}`);
        }
      }
    });
  }
  const isolation = bridges.flatMap((from) => bridges.filter((to) => to !== from).map((to) => `iifname "${from}" oifname "${to}" drop`));
  const chain = (name: string, header: string, rules: readonly string[]): string[] =>
    rules.length === 0 ? [] : [`  chain ${name} {`, `    ${header}`, ...rules.map((rule) => `    ${rule}`), '  }'];
  const ruleset = [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    ...chain('postrouting', 'type nat hook postrouting priority 100; policy accept;', masquerade),
    ...chain('prerouting', 'type nat hook prerouting priority -100; policy accept;', dnat),
    ...chain('output', 'type nat hook output priority -100; policy accept;', dnat),
    ...chain('forward', 'type filter hook forward priority 0; policy accept;', isolation),
    '}',
  ].join('\n');
  return {
    id: 'host/nat',
    phase: 'nat',
    description: `nft table ${table}: masquerade and published ports of ${networks.map((network) => network.name).join(', ')}`,
    creates: [{ kind: 'nft-table', name: table, undo: shellCommand(['nft', 'delete', 'table', 'ip', table]) }],
    // The ruleset is one quoted word: nothing in it reaches the shell as syntax.
    run: [{ kind: 'shell', text: sh`printf '%s\\n' ${ruleset} | nft -f -` }],
  };
}
