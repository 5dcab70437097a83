// CNI network configurations (spec 1.0.0) for the reference plugins Debian ships in /usr/lib/cni,
// generated from the topology so that a `backend: cni` lab gets exactly the addresses, routes and MTUs
// the iproute2 backend gives it. Pure: objects in, compact JSON out.

/** The spec version configs are written for; the host's plugins may make it 0.4.0 (see cni.ts). */
export const CNI_SPEC_VERSION = '1.0.0';
/**
 * The versions cnlab speaks, preferred first. Configs and results have the same shape in both for
 * the fields cnlab uses, and both have CHECK (0.3.x has not, so it is not offered).
 */
export const CNI_VERSIONS = ['1.0.0', '0.4.0'] as const;

/** Plugins an attachment runs directly. */
export type CniMainPlugin = 'loopback' | 'bridge' | 'macvlan' | 'ipvlan';
/** IPAM plugins the main plugins run through CNI_PATH. */
export type CniIpamPlugin = 'host-local' | 'static';
export type CniPluginName = CniMainPlugin | CniIpamPlugin;

export interface CniRoute {
  dst: string;
  gw?: string;
}

/**
 * host-local limited to the one address the iproute2 planner allocated, with its state kept in the
 * lab's folder (dataDir) instead of /var/lib/cni/networks.
 */
export interface HostLocalIpam {
  type: 'host-local';
  ranges: [[{ subnet: string; rangeStart: string; rangeEnd: string; gateway?: string }]];
  routes?: CniRoute[];
  dataDir: string;
}

/** `static` IPAM: used only where host-local cannot hand out the address (see ipamConfig). */
export interface StaticIpam {
  type: 'static';
  addresses: [{ address: string; gateway?: string }];
  routes?: CniRoute[];
}

export type CniIpam = HostLocalIpam | StaticIpam;

interface ConfigBase {
  cniVersion: string;
  name: string;
}

export interface LoopbackConfig extends ConfigBase {
  type: 'loopback';
}

export interface BridgeConfig extends ConfigBase {
  type: 'bridge';
  bridge: string;
  /** The plugin ensures the gateway address on the bridge (cnlab put it there already) and turns IPv4 forwarding on. */
  isGateway: true;
  /** cnlab's nat mode masquerades in its own nft table; the plugin's iptables rules would outlive the lab. */
  ipMasq: false;
  hairpinMode: false;
  mtu?: number;
  ipam: CniIpam;
}

export interface StackedConfig extends ConfigBase {
  type: 'macvlan' | 'ipvlan';
  master: string;
  mode: string;
  mtu?: number;
  ipam: CniIpam;
}

export type CniConfig = LoopbackConfig | BridgeConfig | StackedConfig;

export interface AddressSpec {
  /** The network's subnet (a host's /24 block, or a macvlan/ipvlan network's one subnet), CIDR. */
  subnet: string;
  /** The container's address, plain. */
  address: string;
  /** The gateway on the host's bridge; null for macvlan/ipvlan, which have none. */
  gateway: string | null;
  routes: readonly CniRoute[];
  /** host-local's state folder. */
  dataDir: string;
}

/** The first usable address of a subnet: host-local's default gateway when none is given. */
function firstAddress(subnet: string): string {
  const [base = ''] = subnet.split('/');
  const octets = base.split('.').map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join('.');
}

/**
 * host-local with a range of exactly the planned address. host-local claims the subnet's first
 * address as gateway when given none and never hands a gateway out, so a gateway-less network whose
 * container holds that address (possible with explicit addresses on macvlan/ipvlan) gets `static`.
 */
export function ipamConfig(spec: AddressSpec): CniIpam {
  const prefix = spec.subnet.split('/')[1] ?? '';
  const routes = spec.routes.length > 0 ? { routes: spec.routes.map((route) => ({ ...route })) } : {};
  if (spec.gateway === null && spec.address === firstAddress(spec.subnet)) {
    return { type: 'static', addresses: [{ address: `${spec.address}/${prefix}` }], ...routes };
  }
  const gateway = spec.gateway === null ? {} : { gateway: spec.gateway };
  return {
    type: 'host-local',
    ranges: [[{ subnet: spec.subnet, rangeStart: spec.address, rangeEnd: spec.address, ...gateway }]],
    ...routes,
    dataDir: spec.dataDir,
  };
}

export function loopbackConfig(name: string): LoopbackConfig {
  return { cniVersion: CNI_SPEC_VERSION, name, type: 'loopback' };
}

export function bridgeConfig(name: string, bridge: string, mtu: number | null, ipam: CniIpam): BridgeConfig {
  return {
    cniVersion: CNI_SPEC_VERSION,
    name,
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: false,
    ...(mtu === null ? {} : { mtu }),
    ipam,
  };
}

export function stackedConfig(name: string, type: 'macvlan' | 'ipvlan', master: string, mode: string, mtu: number | null, ipam: CniIpam): StackedConfig {
  return { cniVersion: CNI_SPEC_VERSION, name, type, master, mode, ...(mtu === null ? {} : { mtu }), ipam };
}

/** Compact JSON, keys in the order built (cniVersion first: cni.ts relies on it). */
export function renderCniConfig(config: CniConfig): string {
  const text = JSON.stringify(config);
  if (!text.startsWith(`{"cniVersion":"${CNI_SPEC_VERSION}",`)) throw new Error('internal: a CNI config must start with its cniVersion');
  return text;
}

/** The plugins an attachment execs: its own and its IPAM's. */
export function pluginsOf(config: CniConfig): CniPluginName[] {
  return config.type === 'loopback' ? ['loopback'] : [config.type, config.ipam.type];
}
