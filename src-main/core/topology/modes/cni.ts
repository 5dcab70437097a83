// The `cni` backend: the same topology as iproute2, but every container network attachment is made by
// the host's CNI plugins, run the way a container runtime runs them (CNI spec: CNI_COMMAND, CNI_NETNS,
// CNI_IFNAME, CNI_PATH in the environment, the network config on stdin, the result on stdout).
//
// What stays cnlab's: the namespace (`ip netns add`, as runtimes do), and every host-level object of the
// iproute2 plan: bridges (created and tagged by cnlab, so sweep finds them and teardown removes them;
// the bridge plugin finds them and attaches to them), the VXLAN device with its neighbour/FDB/route
// entries, routed mode's routes, forwarding, and nat mode's nft table (masquerade and published ports).
// What the plugins do: loopback up (loopback), veth + address + routes + gratuitous ARP (bridge with
// host-local), macvlan/ipvlan devices with their address (macvlan, ipvlan with host-local).
//
// Files of a lab, all under its ledger folder so teardown's `rm -rf` removes them:
//   cni/config/<container>-<ifname>.json    the network config each plugin got (and gets again on DEL)
//   cni/results/<container>-<ifname>.json   the plugin's result (CHECK's prevResult)
//   cni/host-local/<network config name>/   host-local's state (dataDir), not /var/lib/cni/networks
//   cni/attachments                         one line per ADD, read by CHECK (cni-check-script.ts)
import { createHash } from 'node:crypto';
import { sh, shellCommand } from '../../shell/quote';
import { formatIpv4 } from '../ipam';
import type { LabNames } from '../naming';
import type { LedgerEntry, PlannedInterface, PlanStep, StepCommand } from '../plan';
import type { NetworkSpec } from '../topology-schema';
import { bridgeName } from './bridge';
import {
  allocationOf,
  blockOf,
  containerIfname,
  forwardingStep,
  ipBatch,
  type HostInfo,
  type LabContainer,
  type LabModel,
  type PlanInputs,
} from './common';
import {
  bridgeConfig,
  CNI_SPEC_VERSION,
  CNI_VERSIONS,
  ipamConfig,
  loopbackConfig,
  pluginsOf,
  renderCniConfig,
  stackedConfig,
  type CniConfig,
  type CniIpam,
  type CniPluginName,
  type CniRoute,
} from './cni-config';
import { parentOf } from './macvlan';
import { netnsStep } from './namespace';
import { peerRoutes, vxlanMtu } from './overlay';

/** Where the probe looks for plugins, for the message when it found none. */
const PROBED_PLUGIN_DIRS = '/opt/cni/bin, /usr/lib/cni or /usr/libexec/cni';
/** A plugin folder reaches shell lines and the attachments index: plain paths only. */
const SAFE_DIR = /^\/[A-Za-z0-9_./+-]*$/;
/** The shell variable the host step sets to the version every plugin of the host speaks. */
export const CNI_VERSION_VARIABLE = 'cnlab_cni_version';
/** The step id suffix of a container's CNI ADDs: `<container>/cni`. */
export const CNI_STEP_SUFFIX = 'cni';
/** The host step that checks the plugins and makes the folders. */
export const CNI_HOST_STEP = 'host/cni-plugins';

/** Modes whose containers hang on a host bridge through a veth (the bridge plugin). */
const BRIDGED_MODES: ReadonlySet<NetworkSpec['mode']> = new Set(['bridge', 'nat', 'vxlan', 'routed']);

export interface CniPaths {
  dir: string;
  config: string;
  results: string;
  hostLocal: string;
  /** One tab-separated line per ADD: container, ifname, plugin, CNI_PATH, container id, netns path, config, result. */
  index: string;
}

export function cniPaths(names: LabNames): CniPaths {
  const dir = `${names.ledgerDir}/cni`;
  return { dir, config: `${dir}/config`, results: `${dir}/results`, hostLocal: `${dir}/host-local`, index: `${dir}/attachments` };
}

/** One plugin run for one interface of one container. */
export interface CniAttachment {
  container: string;
  network: string | null;
  /** CNI_CONTAINERID: `<lab>-<container>`. */
  containerId: string;
  /** CNI_NETNS. */
  netnsPath: string;
  /** CNI_IFNAME: lo for the loopback plugin, eth<k> for the container's k-th network. */
  ifname: string;
  config: CniConfig;
  configFile: string;
  resultFile: string;
}

/** The network config name: host-local keeps its state in a folder of this name. */
export function cniNetworkName(names: LabNames, network: string | null): string {
  return `cnlab-${names.labId}-${network ?? 'lo'}`;
}

function isBackendCni(model: LabModel): boolean {
  return model.spec.backend === 'cni';
}

/** Containers with a namespace of their own (not shared, not host mode). */
function ownsNamespace(model: LabModel, container: LabContainer): boolean {
  if (container.shareNetnsWith !== null) return false;
  const first = container.networks[0];
  return !(first !== undefined && model.networks.get(first)?.mode === 'host');
}

/** What each container needs, from the model alone (when the addresses could not be allocated). */
function pluginsEstimated(model: LabModel, container: LabContainer): CniPluginName[] {
  const needed: CniPluginName[] = ['loopback'];
  for (const name of container.networks) {
    const mode = model.networks.get(name)?.mode;
    if (mode === undefined || mode === 'none' || mode === 'host') continue;
    needed.push(mode === 'macvlan' || mode === 'ipvlan' ? mode : 'bridge', 'host-local');
  }
  return needed;
}

/** The plugins a host's attachments exec, exactly (IPAM included), sorted. */
function pluginsOnHost(inputs: PlanInputs, host: string): CniPluginName[] {
  const plugins = new Set<CniPluginName>();
  for (const container of inputs.model.containers) {
    if (container.host !== host || !ownsNamespace(inputs.model, container)) continue;
    for (const attachment of cniAttachments(inputs, container)) for (const plugin of pluginsOf(attachment.config)) plugins.add(plugin);
  }
  return [...plugins].sort();
}

/**
 * Refusals for `backend: cni`: a host with namespace containers and no plugin folder, or without a
 * plugin the topology needs there. Decided from the probed facts (cniPluginsDir, cniPlugins). With
 * `inputs` (addresses allocated) the plugins are exact; without, IPAM is assumed to be host-local.
 */
export function cniProblems(model: LabModel, hosts: ReadonlyMap<string, HostInfo>, inputs: PlanInputs | null): string[] {
  if (!isBackendCni(model)) return [];
  const problems: string[] = [];
  for (const network of model.networks.values()) {
    // The plugins make the links only when the container step runs (after every tc batch of an
    // untimed apply) and the bridge plugin picks the host-side veth name then: shaping planned from
    // names known in advance would miss them. The CNI way is the bandwidth plugin (rate only).
    if (network.shaping !== undefined && (model.members.get(network.name) ?? []).length > 0) {
      problems.push(`network ${network.name}: shaping of container links is not supported with backend cni yet (the CNI plugins create the links, and name the host ends, only as they run): use backend iproute2 for shaped links, or shape the underlay with underlayShaping`);
    }
  }
  for (const [name, info] of hosts) {
    const needed = new Set<CniPluginName>();
    if (inputs) {
      for (const plugin of pluginsOnHost(inputs, name)) needed.add(plugin);
    } else {
      for (const container of model.containers) {
        if (container.host === name && ownsNamespace(model, container)) for (const plugin of pluginsEstimated(model, container)) needed.add(plugin);
      }
    }
    if (needed.size === 0) continue;
    const dir = info.facts.cniPluginsDir;
    if (dir === null) {
      problems.push(`cni backend needs the CNI plugins on host ${name}: none found in ${PROBED_PLUGIN_DIRS}: install containernetworking-plugins or use backend: iproute2`);
      continue;
    }
    if (!SAFE_DIR.test(dir)) {
      problems.push(`cni backend: the CNI plugin folder ${JSON.stringify(dir)} on host ${name} has characters cnlab does not pass to a shell: install the plugins under a plain path such as /opt/cni/bin`);
      continue;
    }
    for (const plugin of [...needed].sort()) {
      if (!info.facts.cniPlugins.includes(plugin)) {
        problems.push(`cni backend needs the ${plugin} plugin on host ${name}: it is not in ${dir}: install containernetworking-plugins`);
      }
    }
  }
  return problems;
}

function pluginDir(inputs: PlanInputs, host: string): string {
  const dir = inputs.hosts.get(host)?.facts.cniPluginsDir ?? null;
  if (dir === null || !SAFE_DIR.test(dir)) throw new Error(`internal: host ${host} has no usable CNI plugin folder`);
  return dir;
}

/** The IPAM of one container on one network: the planned address in the planned block. */
function ipamFor(inputs: PlanInputs, network: string, container: LabContainer, routes: readonly CniRoute[]): CniIpam {
  const block = blockOf(inputs, network, container.host);
  const address = allocationOf(inputs, network).addresses.get(container.name);
  if (address === undefined) throw new Error(`internal: container ${container.name} has no address on network ${network}`);
  return ipamConfig({
    subnet: `${formatIpv4(block.subnet.base)}/${block.subnet.prefix}`,
    address: formatIpv4(address),
    gateway: block.gateway === null ? null : formatIpv4(block.gateway),
    routes,
    dataDir: cniPaths(inputs.model.names).hostLocal,
  });
}

/** `ip route` words [prefix, 'via', gateway] as CNI routes. */
function asRoutes(words: readonly (readonly (string | number)[])[]): CniRoute[] {
  return words.map((route) => ({ dst: String(route[0]), gw: String(route[2]) }));
}

/** The config for one network of a container, mirroring the iproute2 mode planners. */
function networkConfig(inputs: PlanInputs, network: NetworkSpec, container: LabContainer, defaultRoute: boolean): CniConfig | null {
  const name = cniNetworkName(inputs.model.names, network.name);
  const bridged = (mtu: number | null, routes: CniRoute[]): CniConfig =>
    bridgeConfig(name, bridgeName(inputs, network.name), mtu, ipamFor(inputs, network.name, container, routes));
  switch (network.mode) {
    case 'none':
    case 'host':
      return null;
    case 'bridge':
      return bridged(network.options.mtu ?? null, []);
    case 'nat': {
      const gateway = blockOf(inputs, network.name, container.host).gateway;
      // One default route per namespace, as in the iproute2 plan: the first nat network gets it.
      const routes = defaultRoute && gateway !== null ? [{ dst: '0.0.0.0/0', gw: formatIpv4(gateway) }] : [];
      return bridged(network.options.mtu ?? null, routes);
    }
    case 'vxlan':
      return bridged(vxlanMtu(inputs, network), asRoutes(peerRoutes(inputs, network.name, container.host)));
    case 'routed':
      return bridged(network.options.mtu ?? null, asRoutes(peerRoutes(inputs, network.name, container.host)));
    case 'macvlan':
    case 'ipvlan': {
      const master = parentOf(inputs, network, container.host);
      if (master === null) throw new Error(`internal: network ${network.name} has no parent on host ${container.host}`);
      const mode = network.mode === 'macvlan' ? network.options.macvlanMode : network.options.ipvlanMode;
      return stackedConfig(name, network.mode, master, mode, network.options.mtu ?? null, ipamFor(inputs, network.name, container, []));
    }
  }
}

/** Every plugin run of a container, in ADD order: loopback first, then its networks as eth0, eth1, ... */
export function cniAttachments(inputs: PlanInputs, container: LabContainer): CniAttachment[] {
  const names = inputs.model.names;
  const paths = cniPaths(names);
  const attachment = (network: string | null, ifname: string, config: CniConfig): CniAttachment => ({
    container: container.name,
    network,
    containerId: `${names.labId}-${container.name}`,
    netnsPath: `/run/netns/${names.netns(container.name)}`,
    ifname,
    config,
    configFile: `${paths.config}/${container.name}-${ifname}.json`,
    resultFile: `${paths.results}/${container.name}-${ifname}.json`,
  });
  const list = [attachment(null, 'lo', loopbackConfig(cniNetworkName(names, null)))];
  let defaultRouteTaken = false;
  container.networks.forEach((name, index) => {
    const network = inputs.model.networks.get(name);
    if (!network) throw new Error(`internal: unknown network ${name}`);
    const config = networkConfig(inputs, network, container, !defaultRouteTaken);
    if (network.mode === 'nat') defaultRouteTaken = true;
    if (config) list.push(attachment(name, containerIfname(index), config));
  });
  return list;
}

/**
 * `CNI_COMMAND=... plugin`, the CNI spec's environment as assignments before the plugin (each value
 * quoted by sh``, which sh still reads as an assignment).
 */
function pluginCommand(command: 'ADD' | 'DEL', attachment: CniAttachment, dir: string): string {
  const { containerId, netnsPath, ifname } = attachment;
  return sh`CNI_COMMAND=${command} CNI_CONTAINERID=${containerId} CNI_NETNS=${netnsPath} CNI_IFNAME=${ifname} CNI_PATH=${dir} ${`${dir}/${attachment.config.type}`}`;
}

/**
 * The ledger entry of one ADD, written before it runs: DEL with the same config file. Harmless when
 * already gone: the plugins treat a missing interface or namespace as deleted, and without a config
 * file the ADD never ran.
 */
export function cniLedgerEntry(attachment: CniAttachment, dir: string): LedgerEntry {
  const file = attachment.configFile;
  return {
    kind: 'cni',
    name: `${attachment.container}/${attachment.ifname}/${attachment.config.type}`,
    undo: `${sh`[ ! -f ${file} ] ||`} ${pluginCommand('DEL', attachment, dir)} ${sh`< ${file} >/dev/null 2>&1`}`,
  };
}

/** printf of a config with the version variable spliced in: the JSON itself is one quoted word. */
export function configPrintf(config: CniConfig): string {
  const rest = renderCniConfig(config).slice(`{"cniVersion":"${CNI_SPEC_VERSION}`.length);
  // "$cnlab_cni_version" is CNI_VERSION_VARIABLE, set by the host step.
  return sh`printf '%s%s%s\\n' '{"cniVersion":"' "$cnlab_cni_version" ${rest}`;
}

/**
 * One ADD: write the config (the version the host step chose spliced in as a variable, the rest one
 * quoted word), run the plugin with it on stdin, keep the result (its error goes to the apply's
 * stderr), and index the attachment for CHECK.
 */
export function cniAddCommand(attachment: CniAttachment, dir: string, paths: CniPaths): StepCommand {
  const { configFile, resultFile } = attachment;
  const index = [attachment.container, attachment.ifname, attachment.config.type, dir, attachment.containerId, attachment.netnsPath, configFile, resultFile].join('\t');
  return {
    kind: 'shell',
    text: [
      [configPrintf(attachment.config), sh`> ${configFile}`].join(' '),
      `{ ${pluginCommand('ADD', attachment, dir)} ${sh`< ${configFile} > ${resultFile} || { cat ${resultFile} >&2; false; }; }`}`,
      sh`printf '%s\\n' ${index} >> ${paths.index}`,
    ].join(' &&\n'),
  };
}

/** A container's steps under cni: its namespace (loopback left to the plugin), then its ADDs. */
export function cniContainerSteps(inputs: PlanInputs, container: LabContainer): PlanStep[] {
  const dir = pluginDir(inputs, container.host);
  const paths = cniPaths(inputs.model.names);
  const netns = inputs.model.names.netns(container.name);
  const namespace = netnsStep(inputs.model, container.name);
  const attachments = cniAttachments(inputs, container);
  const described = attachments.map((attachment) => `${attachment.config.type} ${attachment.ifname}`).join(', ');
  return [
    { ...namespace, description: `create namespace ${netns} (the loopback plugin brings lo up)`, run: [ipBatch(null, [['netns', 'add', netns]])] },
    {
      id: `${container.name}/${CNI_STEP_SUFFIX}`,
      phase: 'cni',
      container: container.name,
      description: `CNI ADD ${described}`,
      creates: attachments.map((attachment) => cniLedgerEntry(attachment, dir)),
      run: attachments.map((attachment) => cniAddCommand(attachment, dir, paths)),
    },
  ];
}

/** Under cni, the host-side device of a veth is named by the bridge plugin (see the result file). */
export function cniInterfaces(model: LabModel, interfaces: readonly PlannedInterface[]): PlannedInterface[] {
  return interfaces.map((entry) => {
    const mode = model.networks.get(entry.network)?.mode;
    return mode !== undefined && BRIDGED_MODES.has(mode) ? { ...entry, hostDevice: null } : { ...entry };
  });
}

/**
 * The host step of a cni lab: make the folders, ask every plugin the lab uses on this host for its
 * versions (CNI_COMMAND=VERSION) and pick the first of CNI_VERSIONS that all of them speak, into
 * $cnlab_cni_version for the container steps; refuse with the plugins' replies when none fits.
 */
export function cniHostStep(inputs: PlanInputs, host: string, plugins: readonly CniPluginName[]): PlanStep {
  const dir = pluginDir(inputs, host);
  const paths = cniPaths(inputs.model.names);
  const version = CNI_VERSION_VARIABLE;
  const run: StepCommand[] = [
    {
      kind: 'shell',
      text: [
        sh`mkdir -p ${paths.config} ${paths.results}`,
        `${version}=`,
        `cnlab_cni_replies=$(for cnlab_p in ${shellCommand(plugins)}; do printf '%s: %s\\n' "$cnlab_p" "$(printf '{"cniVersion":"${CNI_SPEC_VERSION}"}' | CNI_COMMAND=VERSION ${shellCommand([dir])}/"$cnlab_p" 2>&1 | tr -d '\\n')"; done)`,
        `for cnlab_v in ${CNI_VERSIONS.join(' ')}; do printf '%s\\n' "$cnlab_cni_replies" | grep -vqF "\\"$cnlab_v\\"" || { ${version}=$cnlab_v; break; }; done`,
        `[ -n "$${version}" ] || { printf 'the CNI plugins in %s do not all speak CNI ${CNI_VERSIONS.join(' or ')}; their VERSION replies:\\n%s\\ninstall containernetworking-plugins 0.8 or later\\n' ${shellCommand([dir])} "$cnlab_cni_replies" >&2; false; }`,
      ].join(' &&\n'),
    },
  ];
  return {
    id: CNI_HOST_STEP,
    phase: 'host',
    description: `check the CNI plugins ${plugins.join(', ')} in ${dir} and choose the CNI version`,
    // The folders live in the lab's ledger folder, which teardown removes whole.
    creates: [],
    run,
  };
}

/** A locally administered unicast MAC derived from lab, network and host (like the VTEP's). */
export function bridgeMac(inputs: PlanInputs, network: string, host: string): string {
  const digest = createHash('sha256').update(`${inputs.model.names.labId}/bridge/${network}/${host}`).digest();
  return ['02', ...[...digest.subarray(0, 5)].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The bridge plugin records the bridge's MAC in its result and CHECK compares it; a bridge without a
 * MAC of its own takes the lowest of its ports', so every veth added later would fail the earlier
 * containers' CHECK (seen on the testbed). A MAC set once, before any port, stays.
 */
function withFixedBridgeMac(inputs: PlanInputs, network: string, host: string, step: PlanStep): PlanStep {
  const bridge = bridgeName(inputs, network);
  return {
    ...step,
    description: `${step.description}, MAC fixed for CNI CHECK`,
    run: [...step.run, ipBatch(null, [['link', 'set', 'dev', bridge, 'address', bridgeMac(inputs, network, host)]])],
  };
}

/**
 * Under cni, a host's host-level steps gain forwarding where the bridge plugin will be run (its
 * isGateway turns IPv4 forwarding on; the ledger restores the value found) and the plugin check.
 * The iproute2 backend's steps are returned unchanged.
 */
export function withCniHostSteps(inputs: PlanInputs, host: string, steps: readonly PlanStep[]): PlanStep[] {
  if (!isBackendCni(inputs.model)) return [...steps];
  const plugins = pluginsOnHost(inputs, host);
  if (plugins.length === 0) return [...steps];
  const bridged = [...inputs.model.networks.values()].filter((network) => BRIDGED_MODES.has(network.mode));
  const fixed = steps.map((step) => {
    const network = bridged.find((candidate) => step.id === `net/${candidate.name}`);
    return network ? withFixedBridgeMac(inputs, network.name, host, step) : step;
  });
  const forwarding = plugins.includes('bridge') && !steps.some((step) => step.id === 'host/forwarding') ? [forwardingStep()] : [];
  return [...forwarding, ...fixed, cniHostStep(inputs, host, plugins)];
}
