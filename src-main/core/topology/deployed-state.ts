// The topology as deployed: what a lab's kernel objects actually are on each host while it is measured
// (links with their kind, peer, master, MTU, MAC, state and vxlan/macvlan settings; addresses; routes;
// qdiscs; ethtool offload flags), read by ONE sh script per host and parsed into plain JSON for result
// bundles. Only the lab's objects are read: its namespaces, the host links carrying its alias (and the
// untagged ones enslaved to them, e.g. CNI's host-side veths), the routes and qdiscs its ledger lists.
import { CnlabError, toCnlabError } from '../errors';
import type { HostExecutor } from '../exec/executor';
import { quoteShellArg } from '../shell/quote';
import { DOCKER_LAB_LABEL, labNames } from './naming';
import type { PlannedContainer } from './plan';

const MARK = '@@cnlab-ds';

/** An ethtool feature: on/off, or fixed (the driver cannot change it). */
export type OffloadState = boolean | 'fixed-on' | 'fixed-off';

export interface DeployedVxlan {
  /** The VNI. */
  id: number;
  port: number | null;
  /** The underlay device the VXLAN sends through. */
  dev: string | null;
  group?: string;
  remote?: string;
  local?: string;
  learning?: boolean;
}

export interface DeployedPeer {
  /** The peer's name, null when it is not among the captured links. */
  name: string | null;
  ifindex: number | null;
  /** The lab namespace holding the peer, or null for the host's own namespace (when found). */
  netns: string | null;
  found: boolean;
}

export interface DeployedLink {
  name: string;
  ifindex: number;
  /** The link kind (veth, bridge, vxlan, macvlan, ipvlan, …), else ip's link type (loopback, ether). */
  kind: string;
  mtu: number;
  mac: string | null;
  /** Operational state (UP, DOWN, UNKNOWN, LOWERLAYERDOWN). */
  state: string;
  flags: string[];
  master: string | null;
  /** What the link is enslaved as (bridge, …). */
  slaveKind?: string;
  alias: string | null;
  qdisc: string | null;
  txqlen: number | null;
  /** veth only: the other end. */
  peer?: DeployedPeer;
  /** macvlan/ipvlan: the parent device when ip names it (it is in the same namespace). */
  lowerDevice?: string;
  vxlan?: DeployedVxlan;
  macvlanMode?: string;
  ipvlanMode?: string;
  /** `ethtool -k`, every feature it lists (e.g. tcp-segmentation-offload); empty when ethtool is missing. */
  offloads: Record<string, OffloadState>;
}

export interface DeployedAddress {
  ifname: string;
  family: string;
  address: string;
  prefixLength: number;
  scope: string | null;
}

export interface DeployedRoute {
  family: 'inet' | 'inet6';
  /** `default` or a prefix. */
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  type?: string;
  flags?: string[];
}

export interface DeployedQdisc {
  dev: string;
  kind: string;
  handle: string;
  /** `root`, `ingress`, or the parent's handle. */
  parent: string;
  /** tc's options as JSON, or its text when tc has no JSON output. */
  options: Record<string, unknown> | string;
}

export interface DeployedNamespace {
  name: string;
  links: DeployedLink[];
  addresses: DeployedAddress[];
  routes: DeployedRoute[];
  qdiscs: DeployedQdisc[];
}

export interface DeployedState {
  /** The inventory name when the caller gave it, else the host's own hostname. */
  host: string;
  /** `uname -n` on the host. */
  hostname: string | null;
  /** The host's clock when the script started (UTC, seconds). */
  capturedAt: string | null;
  namespaces: DeployedNamespace[];
  /** The lab's links in the host's own namespace. */
  rootLinks: DeployedLink[];
  rootAddresses: DeployedAddress[];
  /** Routes through the lab's host links, and those the lab's ledger lists (e.g. routed mode). */
  rootRoutes: DeployedRoute[];
  /** Qdiscs of the lab's host links and of the NICs the lab shapes (ledger `qdisc` entries). */
  rootQdiscs: DeployedQdisc[];
  /** runtime docker: the lab's containers and the image each runs (its digest names the exact tools). */
  dockerContainers?: DeployedDockerContainer[];
  /** What could not be captured, and why. */
  notes: string[];
}

export interface DeployedDockerContainer {
  name: string;
  image: string;
  /** The image's content-addressed id (sha256:…). */
  imageId: string | null;
}

/** The distinct namespaces of a lab's containers on one host (host-mode containers have none). */
export function labNetnsOnHost(containers: readonly Pick<PlannedContainer, 'host' | 'netns'>[], host: string): string[] {
  return [...new Set(containers.filter((container) => container.host === host && container.netns !== null).map((container) => container.netns as string))];
}

/**
 * One sh script reading a lab's objects on one host. Only reads; its output is marker lines and, between
 * `begin` and `end` markers, each command's output as is. Every value from cnlab is quoted; names read
 * from the kernel or the ledger stay in double-quoted variables (globbing off).
 */
export function renderDeployedStateScript(labId: string, netnsNames: readonly string[]): string {
  const names = labNames(labId);
  const netnsWords = netnsNames.map(quoteShellArg).join(' ');
  return [
    'set -u',
    'set -f',
    `M=${quoteShellArg(MARK)}`,
    `alias=${quoteShellArg(names.linkAlias)}`,
    `ledger=${quoteShellArg(`${names.ledgerDir}/ledger`)}`,
    `note() { printf '%s note %s\\n' "$M" "$1"; }`,
    // cap WHAT NS DEV COMMAND…: the command's stdout between markers, its exit code in the end marker.
    // stdin is the script itself (sh -s): no command may read it.
    `cap() { printf '%s begin %s %s %s\\n' "$M" "$1" "$2" "$3"; shift 3; "$@" </dev/null 2>/dev/null; rc=$?; printf '\\n%s end %s\\n' "$M" "$rc"; }`,
    `printf '%s host %s\\n' "$M" "$(uname -n 2>/dev/null)"`,
    `printf '%s time %s\\n' "$M" "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"`,
    `ipj=0; ip -j link show dev lo </dev/null 2>/dev/null | grep -q '^\\[' && ipj=1`,
    'tc=0; command -v tc >/dev/null 2>&1 && tc=1',
    `tcj=0; [ $tc = 1 ] && tc -j qdisc show dev lo </dev/null 2>/dev/null | grep -q '^\\[' && tcj=1`,
    'eth=0; command -v ethtool >/dev/null 2>&1 && eth=1',
    `[ $ipj = 1 ] || note 'ip has no JSON output (ip -j, iproute2 4.14 or later): links, addresses and routes were not captured'`,
    `[ $tc = 1 ] || note 'tc is not installed: qdiscs were not captured'`,
    `[ $tc = 0 ] || [ $tcj = 1 ] || note 'tc has no JSON output (tc -j): qdiscs were captured as text'`,
    `[ $eth = 1 ] || note 'ethtool is not installed: offload flags were not captured'`,
    // qdiscs NS DEV [tc netns words…]
    'qdiscs() { [ $tc = 1 ] || return 0; qn=$1; qd=$2; shift 2; j=; k=qdisc-text; if [ $tcj = 1 ]; then j=-j; k=qdisc; fi',
    '  if [ "$qd" = - ]; then cap $k "$qn" - tc "$@" $j qdisc show; else cap $k "$qn" "$qd" tc "$@" $j qdisc show dev "$qd"; fi; }',
    // The host's links of the lab: tagged with its alias, then untagged ones enslaved to a tagged one.
    `tagged=$(ip -o link show </dev/null 2>/dev/null | awk -v a="$alias" '{n=$2; sub(":$","",n); sub("@.*","",n); for(i=1;i<NF;i++) if($i=="alias" && $(i+1)==a) print n}')`,
    // runtime docker: the lab's containers with their images, and its Docker bridges (cnlab names them; Docker's veths are enslaved to them).
    `label=${quoteShellArg(`${DOCKER_LAB_LABEL}=${labId}`)}`,
    'if command -v docker >/dev/null 2>&1; then',
    `  docker ps -a --filter "label=$label" --format '{{.Names}} {{.Image}}' </dev/null 2>/dev/null | while read -r dn di; do printf '%s docker %s %s %s\n' "$M" "$dn" "$di" "$(docker image inspect --format '{{.Id}}' "$di" </dev/null 2>/dev/null)"; done`,
    `  for dnet in $(docker network ls --filter "label=$label" --format '{{.Name}}' </dev/null 2>/dev/null); do`,
    `    b=$(docker network inspect --format '{{index .Options "com.docker.network.bridge.name"}}' "$dnet" </dev/null 2>/dev/null)`,
    '    case "$b" in ""|"<no value>") ;; *) tagged="$tagged $b";; esac',
    '  done',
    'fi',
    'links=$tagged',
    'for l in $tagged; do',
    `  for s in $(ip -o link show master "$l" </dev/null 2>/dev/null | awk '{n=$2; sub(":$","",n); sub("@.*","",n); print n}'); do`,
    '    case " $(echo $links) " in *" $s "*) ;; *) links="$links $s";; esac',
    '  done',
    'done',
    'if [ $ipj = 1 ]; then',
    '  for l in $links; do',
    '    cap link - "$l" ip -j -d link show dev "$l"',
    '    cap addr - "$l" ip -j addr show dev "$l"',
    '    cap route - "$l" ip -j route show dev "$l"',
    '  done',
    // Routes the lab's ledger lists ("<prefix> via <gw>", "<prefix> dev <link>"): exactly that prefix.
    `  [ -f "$ledger" ] && for p in $(awk -F'\\t' '$1=="route" {split($2, w, " "); print w[1]}' "$ledger"); do cap route - - ip -j route show exact "$p"; done`,
    'fi',
    'for l in $links; do qdiscs - "$l"; done',
    `[ -f "$ledger" ] && for nic in $(awk -F'\\t' '$1=="qdisc" {print $2}' "$ledger"); do qdiscs - "$nic"; done`,
    'if [ $eth = 1 ]; then for l in $links; do cap ethtool - "$l" ethtool -k "$l"; done; fi',
    `for ns in ${netnsWords}; do`,
    `  if ! ip -n "$ns" link show dev lo </dev/null >/dev/null 2>&1; then note "namespace $ns is missing"; continue; fi`,
    `  printf '%s netns %s\\n' "$M" "$ns"`,
    '  if [ $ipj = 1 ]; then',
    '    cap link "$ns" - ip -n "$ns" -j -d link show',
    '    cap addr "$ns" - ip -n "$ns" -j addr show',
    '    cap route "$ns" - ip -n "$ns" -j route show',
    '    cap route6 "$ns" - ip -n "$ns" -j -6 route show',
    '  fi',
    '  qdiscs "$ns" - -n "$ns"',
    '  if [ $eth = 1 ]; then',
    `    for l in $(ip -n "$ns" -o link show </dev/null 2>/dev/null | awk '{n=$2; sub(":$","",n); sub("@.*","",n); print n}'); do`,
    '      cap ethtool "$ns" "$l" ip netns exec "$ns" ethtool -k "$l"',
    '    done',
    '  fi',
    'done',
    'exit 0',
    '',
  ].join('\n');
}

interface Section {
  what: string;
  /** null: the host's own namespace. */
  netns: string | null;
  dev: string | null;
  code: number;
  body: string;
}

/** Splits the script's output into its marker lines and sections. */
function readSections(stdout: string): { hostname: string | null; capturedAt: string | null; netns: string[]; notes: string[]; sections: Section[]; docker: DeployedDockerContainer[] } {
  const result = { hostname: null as string | null, capturedAt: null as string | null, netns: [] as string[], notes: [] as string[], sections: [] as Section[], docker: [] as DeployedDockerContainer[] };
  let open: Omit<Section, 'code' | 'body'> & { lines: string[] } | null = null;
  for (const line of stdout.split('\n')) {
    if (open) {
      if (line.startsWith(`${MARK} end `)) {
        result.sections.push({ what: open.what, netns: open.netns, dev: open.dev, code: Number(line.slice(`${MARK} end `.length)), body: open.lines.join('\n').trim() });
        open = null;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    if (!line.startsWith(`${MARK} `)) continue;
    const rest = line.slice(MARK.length + 1);
    const space = rest.indexOf(' ');
    const word = space < 0 ? rest : rest.slice(0, space);
    const value = space < 0 ? '' : rest.slice(space + 1).trim();
    if (word === 'host') result.hostname = value || null;
    else if (word === 'time') result.capturedAt = value || null;
    else if (word === 'note') result.notes.push(value);
    else if (word === 'netns') result.netns.push(value);
    else if (word === 'docker') {
      const [name = '', image = '', imageId = ''] = value.split(' ');
      if (name) result.docker.push({ name, image, imageId: /^sha256:[0-9a-f]{64}$/.test(imageId) ? imageId : null });
    }
    else if (word === 'begin') {
      const [what = '', netns = '-', dev = '-'] = value.split(' ');
      open = { what, netns: netns === '-' ? null : netns, dev: dev === '-' ? null : dev, lines: [] };
    }
  }
  if (open) result.notes.push(`the output ended inside the ${open.what} section${open.netns ? ` of namespace ${open.netns}` : ''}: the capture was cut short`);
  return result;
}

type Json = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const obj = (value: unknown): Json | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);

/** Internal: a parsed link with ip's peer pointers, before peers are resolved across namespaces. */
interface RawLink {
  link: DeployedLink;
  linkIndex: number | null;
  linkNetnsId: number | null;
  /** The `link` name ip gives when the peer/parent is in the same namespace. */
  linkName: string | null;
}

function parseLink(entry: Json): RawLink | null {
  const name = str(entry.ifname);
  const ifindex = num(entry.ifindex);
  if (name === undefined || ifindex === undefined) return null;
  const info = obj(entry.linkinfo);
  const data = obj(info?.info_data);
  const kind = str(info?.info_kind) ?? str(entry.link_type) ?? 'unknown';
  const slaveKind = str(info?.info_slave_kind);
  const mode = str(data?.mode);
  const link: DeployedLink = {
    name,
    ifindex,
    kind,
    mtu: num(entry.mtu) ?? 0,
    mac: str(entry.address) ?? null,
    state: str(entry.operstate) ?? 'UNKNOWN',
    flags: Array.isArray(entry.flags) ? entry.flags.filter((flag): flag is string => typeof flag === 'string') : [],
    master: str(entry.master) ?? null,
    ...(slaveKind ? { slaveKind } : {}),
    alias: str(entry.ifalias) ?? null,
    qdisc: str(entry.qdisc) ?? null,
    txqlen: num(entry.txqlen) ?? null,
    offloads: {},
  };
  const linkName = str(entry.link) ?? null;
  if (kind === 'vxlan' && data) {
    const vxlan: DeployedVxlan = { id: num(data.id) ?? 0, port: num(data.port) ?? null, dev: str(data.link) ?? null };
    for (const key of ['group', 'remote', 'local'] as const) {
      const value = str(data[key]) ?? str(data[`${key}6`]);
      if (value !== undefined) vxlan[key] = value;
    }
    if (typeof data.learning === 'boolean') vxlan.learning = data.learning;
    link.vxlan = vxlan;
  }
  if (kind === 'macvlan' && mode) link.macvlanMode = mode;
  if (kind === 'ipvlan' && mode) link.ipvlanMode = mode;
  if ((kind === 'macvlan' || kind === 'ipvlan' || kind === 'vlan') && linkName) link.lowerDevice = linkName;
  return { link, linkIndex: num(entry.link_index) ?? null, linkNetnsId: num(entry.link_netnsid) ?? null, linkName };
}

function parseAddresses(entries: Json[]): DeployedAddress[] {
  return entries.flatMap((entry) => {
    const ifname = str(entry.ifname) ?? '';
    const infos = Array.isArray(entry.addr_info) ? entry.addr_info : [];
    return infos.flatMap((raw): DeployedAddress[] => {
      const info = obj(raw);
      const address = str(info?.local);
      if (!info || address === undefined) return [];
      return [{ ifname, family: str(info.family) ?? 'unknown', address, prefixLength: num(info.prefixlen) ?? 0, scope: str(info.scope) ?? null }];
    });
  });
}

/** `dev`: the device the routes were asked for (ip leaves it out of each route then). */
function parseRoutes(entries: Json[], family: 'inet' | 'inet6', dev: string | null): DeployedRoute[] {
  return entries.flatMap((entry): DeployedRoute[] => {
    const dst = str(entry.dst);
    if (dst === undefined) return [];
    const route: DeployedRoute = { family, dst };
    const gateway = str(entry.gateway);
    if (gateway !== undefined) route.gateway = gateway;
    if (dev !== null) route.dev = dev;
    for (const key of ['dev', 'protocol', 'scope', 'prefsrc', 'type'] as const) {
      const value = str(entry[key]);
      if (value !== undefined) route[key] = value;
    }
    const metric = num(entry.metric);
    if (metric !== undefined) route.metric = metric;
    if (Array.isArray(entry.flags) && entry.flags.length > 0) route.flags = entry.flags.filter((flag): flag is string => typeof flag === 'string');
    return [route];
  });
}

function parseQdiscsJson(entries: Json[], dev: string | null): DeployedQdisc[] {
  return entries.flatMap((entry): DeployedQdisc[] => {
    const kind = str(entry.kind);
    if (kind === undefined) return [];
    const parent = entry.root === true ? 'root' : kind === 'ingress' || kind === 'clsact' ? kind : (str(entry.parent) ?? 'unknown');
    return [{ dev: str(entry.dev) ?? dev ?? 'unknown', kind, handle: str(entry.handle) ?? '', parent, options: obj(entry.options) ?? {} }];
  });
}

/** `qdisc netem 8001: dev eth0 root refcnt 2 limit 1000 delay 10ms` (tc without -j). */
export function parseQdiscText(text: string, dev: string | null = null): DeployedQdisc[] {
  return text.split('\n').flatMap((line): DeployedQdisc[] => {
    const match = /^qdisc (\S+) (\S+)(?: dev (\S+))? (root|ingress|parent (\S+))\s*(.*)$/.exec(line.trim());
    if (!match) return [];
    const [, kind = '', handle = '', ondev, where = '', parent, options = ''] = match;
    return [{ dev: ondev ?? dev ?? 'unknown', kind, handle, parent: parent ?? where, options: options.trim() }];
  });
}

/** `ethtool -k` → every feature: on/off, or fixed-on/fixed-off when ethtool marks it [fixed]. */
export function parseEthtoolFeatures(text: string): Record<string, OffloadState> {
  const features: Record<string, OffloadState> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_-]+):\s+(on|off)(\s+\[fixed\])?/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    features[match[1]] = match[3] ? (match[2] === 'on' ? 'fixed-on' : 'fixed-off') : match[2] === 'on';
  }
  return features;
}

function jsonArray(section: Section, notes: string[]): Json[] {
  const where = `${section.what}${section.dev ? ` of ${section.dev}` : ''} in ${section.netns ? `namespace ${section.netns}` : 'the host namespace'}`;
  if (section.code !== 0) {
    notes.push(`${where}: the command failed (exit ${section.code})`);
    return [];
  }
  if (section.body === '') return [];
  try {
    const value: unknown = JSON.parse(section.body);
    if (Array.isArray(value)) return value.flatMap((item) => (obj(item) ? [item as Json] : []));
  } catch {
    // reported below
  }
  notes.push(`${where}: unreadable output (${JSON.stringify(section.body.slice(0, 80))})`);
  return [];
}

function dedupe<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The script's output → the deployed state of one host. `host` names it (the inventory name); without
 * it the host's own hostname is used. veth peers are resolved across the captured namespaces.
 */
export function parseDeployedState(stdout: string, host?: string): DeployedState {
  const read = readSections(stdout);
  const notes = [...read.notes];
  const spaces = new Map<string | null, { links: RawLink[]; addresses: DeployedAddress[]; routes: DeployedRoute[]; qdiscs: DeployedQdisc[]; offloads: Map<string, Record<string, OffloadState>> }>();
  const space = (netns: string | null) => {
    let found = spaces.get(netns);
    if (!found) {
      found = { links: [], addresses: [], routes: [], qdiscs: [], offloads: new Map() };
      spaces.set(netns, found);
    }
    return found;
  };
  space(null);
  for (const name of read.netns) space(name);
  for (const section of read.sections) {
    const target = space(section.netns);
    switch (section.what) {
      case 'link':
        for (const entry of jsonArray(section, notes)) {
          const link = parseLink(entry);
          if (link && !target.links.some((known) => known.link.name === link.link.name)) target.links.push(link);
        }
        break;
      case 'addr':
        target.addresses.push(...parseAddresses(jsonArray(section, notes)));
        break;
      case 'route':
      case 'route6':
        target.routes.push(...parseRoutes(jsonArray(section, notes), section.what === 'route6' ? 'inet6' : 'inet', section.dev));
        break;
      case 'qdisc':
        target.qdiscs.push(...parseQdiscsJson(jsonArray(section, notes), section.dev));
        break;
      case 'qdisc-text':
        if (section.code === 0) target.qdiscs.push(...parseQdiscText(section.body, section.dev));
        else notes.push(`qdisc in ${section.netns ? `namespace ${section.netns}` : 'the host namespace'}: the command failed (exit ${section.code})`);
        break;
      case 'ethtool':
        if (section.dev === null) break;
        if (section.code === 0) target.offloads.set(section.dev, parseEthtoolFeatures(section.body));
        else notes.push(`ethtool -k ${section.dev} in ${section.netns ? `namespace ${section.netns}` : 'the host namespace'}: failed (exit ${section.code})`);
        break;
      default:
        break;
    }
  }
  // veth peers: ip names the peer when it is in the same namespace; otherwise it gives the peer's ifindex
  // in another namespace, and the pair is the link there whose ifindex and peer ifindex mirror this one.
  const all = [...spaces].flatMap(([netns, found]) => found.links.map((raw) => ({ netns, raw })));
  for (const { netns, raw } of all) {
    raw.link.offloads = spaces.get(netns)?.offloads.get(raw.link.name) ?? {};
    if (raw.link.kind !== 'veth') continue;
    if (raw.linkName !== null && raw.linkNetnsId === null) {
      const same = spaces.get(netns)?.links.find((other) => other.link.name === raw.linkName);
      raw.link.peer = { name: raw.linkName, ifindex: same?.link.ifindex ?? raw.linkIndex, netns, found: same !== undefined };
      continue;
    }
    const mirror = all.find((other) => other.netns !== netns && other.raw.link.kind === 'veth' && other.raw.link.ifindex === raw.linkIndex && other.raw.linkIndex === raw.link.ifindex);
    raw.link.peer = mirror
      ? { name: mirror.raw.link.name, ifindex: mirror.raw.link.ifindex, netns: mirror.netns, found: true }
      : { name: null, ifindex: raw.linkIndex, netns: null, found: false };
  }
  const root = space(null);
  return {
    host: host ?? read.hostname ?? 'unknown',
    hostname: read.hostname,
    capturedAt: read.capturedAt,
    namespaces: read.netns.map((name) => {
      const found = space(name);
      return { name, links: found.links.map((raw) => raw.link), addresses: found.addresses, routes: dedupe(found.routes), qdiscs: dedupe(found.qdiscs) };
    }),
    rootLinks: root.links.map((raw) => raw.link),
    rootAddresses: dedupe(root.addresses),
    rootRoutes: dedupe(root.routes),
    rootQdiscs: dedupe(root.qdiscs),
    ...(read.docker.length > 0 ? { dockerContainers: read.docker } : {}),
    notes,
  };
}

export interface DeployedLabState {
  labId: string;
  hosts: DeployedState[];
  /** Hosts whose capture failed (unreachable, timed out): the lab's other hosts are still recorded. */
  failures: { host: string; error: string }[];
}

export interface CaptureOptions {
  signal?: AbortSignal;
  /** Per-host script time limit (default 60 s). */
  timeoutMs?: number;
}

/**
 * Captures an applied lab on each of its hosts: one privileged script per host, hosts in parallel. Pass
 * the lab's record (LabService.store / AppliedLab.record) and the executors (HostService.executor).
 * A host that fails is listed in `failures`; a cancel rejects with the cancel.
 */
export async function captureDeployedState(
  lab: { labId: string; hosts: readonly string[]; containers: readonly Pick<PlannedContainer, 'host' | 'netns'>[] },
  executorFor: (host: string) => HostExecutor,
  options: CaptureOptions = {},
): Promise<DeployedLabState> {
  const outcomes = await Promise.all(
    lab.hosts.map(async (host): Promise<DeployedState | { host: string; error: string }> => {
      try {
        const script = renderDeployedStateScript(lab.labId, labNetnsOnHost(lab.containers, host));
        const result = await executorFor(host).runScript(script, { privileged: true, timeoutMs: options.timeoutMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
        if (result.code !== 0) {
          throw new CnlabError('command-failed', `host ${host}: reading the deployed state of lab ${lab.labId} failed (exit ${String(result.code)}): ${result.stderr.trim().slice(0, 300)}`);
        }
        return parseDeployedState(result.stdout, host);
      } catch (error) {
        const failure = toCnlabError(error, `host ${host}`);
        if (failure.code === 'cancelled') throw failure;
        return { host, error: failure.message };
      }
    }),
  );
  return {
    labId: lab.labId,
    hosts: outcomes.filter((outcome): outcome is DeployedState => 'namespaces' in outcome),
    failures: outcomes.filter((outcome): outcome is { host: string; error: string } => 'error' in outcome),
  };
}
