// The host facts probe: one POSIX sh script run in one round trip, and a pure parser of what it prints.
// Script and parser share the marker protocol below, so they live together; probeHostFacts is the thin shell.

import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { CnlabError, isCnlabError } from '../errors';
import type { ExecResult, HostExecutor, Privilege } from '../exec/executor';
import { quoteShellArg, sh } from '../shell/quote';
import {
  KERNEL_FEATURES,
  hostFactsSchema,
  type DockerFacts,
  type FeatureSupport,
  type HostFacts,
  type KernelFeature,
  type Nic,
  type ToolVersions,
  type Virtualization,
} from './host-facts';

/** Every section starts with this at the start of a line; nothing a host tool prints begins with it. */
export const FACTS_MARKER = '@@cnlab-facts:';
export const SCRATCH_NAMESPACE_PREFIX = 'cnlab-probe-';

const DOC_NET_REMOTE = '198.18.0.2';
const DOC_NET_LOCAL = '198.18.0.1';

interface FeatureSpec {
  /** Kconfig symbol without the CONFIG_ prefix. */
  symbol: string;
  module: string;
  /** Symbols it depends on: Kconfig omits a symbol entirely when one of these is off. */
  requires?: readonly string[];
}

const FEATURE_SPECS: Record<KernelFeature, FeatureSpec> = {
  bridge: { symbol: 'BRIDGE', module: 'bridge' },
  veth: { symbol: 'VETH', module: 'veth' },
  macvlan: { symbol: 'MACVLAN', module: 'macvlan' },
  ipvlan: { symbol: 'IPVLAN', module: 'ipvlan' },
  vxlan: { symbol: 'VXLAN', module: 'vxlan' },
  ipip: { symbol: 'NET_IPIP', module: 'ipip' },
  gre: { symbol: 'NET_IPGRE', module: 'ip_gre', requires: ['NET_IPGRE_DEMUX'] },
  wireguard: { symbol: 'WIREGUARD', module: 'wireguard' },
  geneve: { symbol: 'GENEVE', module: 'geneve' },
  netem: { symbol: 'NET_SCH_NETEM', module: 'sch_netem', requires: ['NET_SCHED'] },
  dummy: { symbol: 'DUMMY', module: 'dummy' },
  tbf: { symbol: 'NET_SCH_TBF', module: 'sch_tbf', requires: ['NET_SCHED'] },
  htb: { symbol: 'NET_SCH_HTB', module: 'sch_htb', requires: ['NET_SCHED'] },
};

export interface FactsScriptOptions {
  /** Include the trial-create section; the script must then run as root. */
  privileged: boolean;
  /** Name of the scratch namespace for the trial; generated when omitted. */
  scratchNamespace?: string;
}

/** A fresh scratch namespace name: random so concurrent probes never share (or delete) one. */
export function newScratchNamespaceName(): string {
  return `${SCRATCH_NAMESPACE_PREFIX}${randomBytes(6).toString('hex')}`;
}

// Kept to plain POSIX sh + coreutils-or-busybox: lab hosts range from Debian to Alpine.
// No `set -e`: a missing tool or a failing read must only leave its own section empty.
const SCRIPT_PRELUDE = `# cnlab host facts probe, protocol 1. Reads only, except the scratch namespace of the trial section.
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"; export PATH
cnlab_has() { command -v "$1" >/dev/null 2>&1; }
cnlab_t() { _cnlab_secs=$1; shift; if cnlab_has timeout; then timeout "$_cnlab_secs" "$@"; else "$@"; fi; }
cnlab_sec() { printf '\\n${FACTS_MARKER}%s\\n' "$1"; }
cnlab_line() { tr '\\n\\r\\t' '   ' | cut -c1-300; }
cnlab_rel=$(uname -r 2>/dev/null)
printf '${FACTS_MARKER}begin 1\\n'

cnlab_sec identity
printf 'uid=%s\\n' "$(id -u 2>/dev/null)"
printf 'user=%s\\n' "$(id -un 2>/dev/null || whoami 2>/dev/null)"
printf 'sudo_user=%s\\nsudo_uid=%s\\n' "\${SUDO_USER:-}" "\${SUDO_UID:-}"
printf 'hostname=%s\\n' "$(cat /proc/sys/kernel/hostname 2>/dev/null || uname -n 2>/dev/null)"
printf 'kernel_release=%s\\n' "$cnlab_rel"
printf 'arch=%s\\n' "$(uname -m 2>/dev/null)"

cnlab_sec os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null

cnlab_sec cpu
printf 'online=%s\\n' "$(cat /sys/devices/system/cpu/online 2>/dev/null)"
printf 'processors=%s\\n' "$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
grep -m1 -E '^(model name|Hardware|cpu model|cpu)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*:[[:space:]]*/cpuinfo_model=/'
cnlab_has lscpu && cnlab_t 5 lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*/lscpu_model=/p' | head -n 1
# The hypervisor CPUID flag exists only on x86; elsewhere its absence proves nothing.
if grep -q -E '^flags[[:space:]]*:' /proc/cpuinfo 2>/dev/null; then
  if grep -q -E '^flags[[:space:]]*:.*[[:space:]]hypervisor([[:space:]]|$)' /proc/cpuinfo; then echo hypervisor_flag=yes; else echo hypervisor_flag=no; fi
fi

cnlab_sec memory
grep -m1 '^MemTotal:' /proc/meminfo 2>/dev/null

cnlab_sec virt
if cnlab_has systemd-detect-virt; then
  printf 'sdv_vm=%s\\n' "$(cnlab_t 5 systemd-detect-virt --vm 2>/dev/null)"
  printf 'sdv_container=%s\\n' "$(cnlab_t 5 systemd-detect-virt --container 2>/dev/null)"
fi
printf 'dmi_vendor=%s\\n' "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)"
printf 'dmi_product=%s\\n' "$(cat /sys/class/dmi/id/product_name 2>/dev/null)"
[ -e /.dockerenv ] && echo marker=docker
[ -e /run/.containerenv ] && echo marker=podman

cnlab_sec mgmt
# sudo drops SSH_CONNECTION from the environment; the login shell above us still has it.
cnlab_conn=\${SSH_CONNECTION:-}
cnlab_pid=$$
cnlab_depth=0
while [ -z "$cnlab_conn" ] && [ "$cnlab_depth" -lt 8 ] && [ -n "$cnlab_pid" ] && [ "$cnlab_pid" -gt 1 ] 2>/dev/null; do
  cnlab_conn=$(cat "/proc/$cnlab_pid/environ" 2>/dev/null | tr '\\000' '\\n' | sed -n 's/^SSH_CONNECTION=//p' | head -n 1)
  cnlab_pid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$cnlab_pid/status" 2>/dev/null)
  cnlab_depth=$((cnlab_depth + 1))
done
printf 'ssh_connection=%s\\n' "$cnlab_conn"

cnlab_sec ip-addr
if cnlab_has ip; then
  cnlab_t 10 ip -d -j addr show 2>/dev/null || cnlab_t 10 ip -j addr show 2>/dev/null || echo 'error=this ip (iproute2) has no JSON output (-j)'
else
  echo 'error=ip (iproute2) not found'
fi

cnlab_sec nic-sys
for cnlab_d in /sys/class/net/*; do
  [ -e "$cnlab_d" ] || continue
  cnlab_n=\${cnlab_d##*/}
  cnlab_speed=$(cat "$cnlab_d/speed" 2>/dev/null)
  cnlab_drv=$(readlink "$cnlab_d/device/driver" 2>/dev/null)
  printf 'nic %s %s %s\\n' "$cnlab_n" "\${cnlab_speed:--}" "\${cnlab_drv##*/}"
done

cnlab_sec route4
cnlab_has ip && cnlab_t 10 ip -j -4 route show default 2>/dev/null
cnlab_sec route6
cnlab_has ip && cnlab_t 10 ip -j -6 route show default 2>/dev/null

cnlab_sec kconfig
cnlab_pat='^(# )?CONFIG_(NET_SCHED|NET_IPGRE_DEMUX|BRIDGE|VETH|MACVLAN|IPVLAN|VXLAN|NET_IPIP|NET_IPGRE|WIREGUARD|GENEVE|NET_SCH_NETEM|DUMMY|NET_SCH_TBF|NET_SCH_HTB)[= ]'
if [ -r /proc/config.gz ] && { cnlab_has zcat || cnlab_has gzip; }; then
  echo source=/proc/config.gz
  if cnlab_has zcat; then zcat /proc/config.gz 2>/dev/null; else gzip -dc /proc/config.gz 2>/dev/null; fi | grep -E "$cnlab_pat"
elif [ -n "$cnlab_rel" ] && [ -r "/boot/config-$cnlab_rel" ]; then
  echo "source=/boot/config-$cnlab_rel"
  grep -E "$cnlab_pat" "/boot/config-$cnlab_rel"
else
  echo source=none
fi

cnlab_sec modules
cnlab_mods='bridge|veth|macvlan|ipvlan|vxlan|ipip|ip_gre|wireguard|geneve|sch_netem|dummy|sch_tbf|sch_htb'
cnlab_moddir=/lib/modules/$cnlab_rel
if [ -n "$cnlab_rel" ] && [ -d "$cnlab_moddir" ]; then
  printf 'dir=%s\\n' "$cnlab_moddir"
  if [ -r "$cnlab_moddir/modules.dep" ]; then cut -d: -f1 "$cnlab_moddir/modules.dep"; else find "$cnlab_moddir" -name '*.ko*' 2>/dev/null; fi \\
    | sed 's|.*/||; s|\\.ko.*$||' | grep -x -E "$cnlab_mods" | sed 's/^/file=/'
  [ -r "$cnlab_moddir/modules.builtin" ] && sed 's|.*/||; s|\\.ko.*$||' "$cnlab_moddir/modules.builtin" | grep -x -E "$cnlab_mods" | sed 's/^/builtin=/'
else
  echo dir=none
fi
for cnlab_m in $(echo "$cnlab_mods" | tr '|' ' '); do [ -d "/sys/module/$cnlab_m" ] && echo "loaded=$cnlab_m"; done
`;

/**
 * `docker info --format` template of the docker-info section: one key=value line per fact. The template
 * runs against the client's own copy of the info struct, so a field an older client lacks stops it there
 * (partial output stays printed): long-standing fields come first, the newest ones (CgroupVersion is
 * 20.10's) last, and `complete=yes` tells a finished run from a cut one.
 * A pool's base is already a CIDR, hence the space before its size.
 */
export const DOCKER_INFO_TEMPLATE = [
  'server_version={{.ServerVersion}}',
  'storage_driver={{.Driver}}',
  'cgroup_driver={{.CgroupDriver}}',
  'swarm_state={{.Swarm.LocalNodeState}}',
  'swarm_node_id={{.Swarm.NodeID}}',
  'swarm_control_available={{.Swarm.ControlAvailable}}',
  'swarm_managers={{.Swarm.Managers}}',
  'swarm_nodes={{.Swarm.Nodes}}',
  'network_drivers={{join .Plugins.Network ","}}',
  'cgroup_version={{.CgroupVersion}}',
  '{{range .DefaultAddressPools}}pool={{.Base}} {{.Size}}',
  '{{end}}complete=yes',
].join('\n');

const DOCKER_INFO_ARG = quoteShellArg(DOCKER_INFO_TEMPLATE);

// Versions only: every tool is asked for its version and nothing else, each under a timeout.
const SCRIPT_TOOLS = `
cnlab_tool() { _cnlab_name=$1; shift; cnlab_sec "tool:$_cnlab_name"; if cnlab_has "$1"; then cnlab_t 5 "$@" 2>&1 | head -n 5; else echo '@missing'; fi; }
cnlab_tool iproute2 ip -V
cnlab_tool iperf3 iperf3 --version
cnlab_tool sockperf sockperf --version
cnlab_tool netperf netperf -V
cnlab_tool qperf qperf --version
cnlab_tool ping ping -V
cnlab_tool nft nft --version
cnlab_tool iptables iptables --version
cnlab_tool docker docker --version
# The server part needs a daemon; one that does not answer in 3 s counts as absent.
cnlab_sec tool:docker-server
cnlab_dockerd=
# One call for the server's version (this section) and its API version (the next).
cnlab_has docker && cnlab_dockerd=$(cnlab_t 3 docker version --format '{{.Server.Version}}{{"\\n"}}api_version={{.Server.APIVersion}}' 2>/dev/null | head -n 2)
[ -n "$cnlab_dockerd" ] && printf '%s\\n' "$cnlab_dockerd" | head -n 1
# Engine facts are asked only of a daemon that just answered, so a hung one costs 3 s once, not twice.
cnlab_sec docker-info
case $cnlab_dockerd in
  [0-9]*)
    printf '%s\\n' "$cnlab_dockerd" | sed -n 2p
    cnlab_t 3 docker info --format ${DOCKER_INFO_ARG} 2>/dev/null | head -n 64
    ;;
esac
if cnlab_has bird; then cnlab_tool bird bird --version; else cnlab_tool bird birdc --version; fi
cnlab_tool etcd etcd --version

cnlab_sec cni
for cnlab_d in /opt/cni/bin /usr/lib/cni /usr/libexec/cni; do
  if [ -d "$cnlab_d" ]; then
    printf 'dir=%s\\n' "$cnlab_d"
    for cnlab_f in "$cnlab_d"/*; do [ -f "$cnlab_f" ] && [ -x "$cnlab_f" ] && printf 'plugin=%s\\n' "\${cnlab_f##*/}"; done
    break
  fi
done
`;

function trialSection(namespace: string): string {
  return (
    `
cnlab_sec trial
` +
    sh`cnlab_ns=${namespace}` +
    `
cnlab_ns_made=
# Only a namespace this run created is ever deleted, and on any exit path.
cnlab_cleanup() { if [ -n "$cnlab_ns_made" ]; then ip netns del "$cnlab_ns" >/dev/null 2>&1; cnlab_ns_made=; fi; }
trap 'cnlab_cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
cnlab_try() {
  _cnlab_f=$1; shift
  if _cnlab_out=$("$@" 2>&1); then echo "result $_cnlab_f ok"
  else _cnlab_rc=$?; printf 'result %s fail %s\\n' "$_cnlab_f" "$(printf '%s' "\${_cnlab_out:-exit status $_cnlab_rc}" | cnlab_line)"; fi
}
cnlab_tc() { if [ "$cnlab_tcn" = 1 ]; then tc -n "$cnlab_ns" "$@"; else ip netns exec "$cnlab_ns" tc "$@"; fi; }
if [ "$(id -u 2>/dev/null)" != 0 ]; then
  echo 'error=the trial needs root and this shell is not root'
elif ! cnlab_has ip; then
  echo 'error=ip (iproute2) not found'
elif cnlab_err=$(ip netns add "$cnlab_ns" 2>&1); then
  cnlab_ns_made=1
  echo "netns=$cnlab_ns"
  cnlab_try veth ip -n "$cnlab_ns" link add cnlab-v0 type veth peer name cnlab-v1
  cnlab_try bridge ip -n "$cnlab_ns" link add cnlab-br0 type bridge
  cnlab_try dummy ip -n "$cnlab_ns" link add cnlab-dum0 type dummy
  cnlab_lower=
  ip -n "$cnlab_ns" link show cnlab-v0 >/dev/null 2>&1 && cnlab_lower=cnlab-v0
  [ -z "$cnlab_lower" ] && ip -n "$cnlab_ns" link show cnlab-dum0 >/dev/null 2>&1 && cnlab_lower=cnlab-dum0
  if [ -n "$cnlab_lower" ]; then
    cnlab_try macvlan ip -n "$cnlab_ns" link add cnlab-mv0 link "$cnlab_lower" type macvlan mode bridge
    cnlab_try ipvlan ip -n "$cnlab_ns" link add cnlab-ipv0 link "$cnlab_lower" type ipvlan mode l2
    cnlab_try vxlan ip -n "$cnlab_ns" link add cnlab-vx0 type vxlan id 4242 dev "$cnlab_lower" dstport 4789 remote ${quoteShellArg(DOC_NET_REMOTE)}
  else
    echo 'result macvlan skip no veth or dummy device to stack it on'
    echo 'result ipvlan skip no veth or dummy device to stack it on'
    cnlab_try vxlan ip -n "$cnlab_ns" link add cnlab-vx0 type vxlan id 4242 dstport 4789 remote ${quoteShellArg(DOC_NET_REMOTE)}
  fi
  cnlab_try ipip ip -n "$cnlab_ns" link add cnlab-ipip0 type ipip remote ${quoteShellArg(DOC_NET_REMOTE)} local ${quoteShellArg(DOC_NET_LOCAL)}
  cnlab_try gre ip -n "$cnlab_ns" link add cnlab-gre0 type gre remote ${quoteShellArg(DOC_NET_REMOTE)} local ${quoteShellArg(DOC_NET_LOCAL)}
  cnlab_try geneve ip -n "$cnlab_ns" link add cnlab-gnv0 type geneve id 4242 remote ${quoteShellArg(DOC_NET_REMOTE)}
  cnlab_try wireguard ip -n "$cnlab_ns" link add cnlab-wg0 type wireguard
  if cnlab_has tc; then
    cnlab_tcn=0
    tc -n "$cnlab_ns" qdisc show dev lo >/dev/null 2>&1 && cnlab_tcn=1
    cnlab_try netem cnlab_tc qdisc replace dev lo root netem delay 1ms
    cnlab_try tbf cnlab_tc qdisc replace dev lo root tbf rate 1mbit burst 32kbit latency 400ms
    cnlab_try htb cnlab_tc qdisc replace dev lo root handle 1: htb default 10
  else
    for cnlab_q in netem tbf htb; do echo "result $cnlab_q skip tc (iproute2) not found"; done
  fi
  cnlab_cleanup
else
  printf 'error=cannot create a scratch network namespace: %s\\n' "$(printf '%s' "$cnlab_err" | cnlab_line)"
fi
if ip netns list 2>/dev/null | cut -d' ' -f1 | grep -q -x -F "$cnlab_ns" || [ -e "/run/netns/$cnlab_ns" ] || [ -e "/var/run/netns/$cnlab_ns" ]; then
  echo removed=no
else
  echo removed=yes
fi
`
  );
}

const SCRIPT_END = `
cnlab_sec end
exit 0
`;

/** The whole probe script. Safe to run unprivileged; the trial section is added only when privileged. */
export function buildFactsScript(options: FactsScriptOptions): string {
  const namespace = options.scratchNamespace ?? newScratchNamespaceName();
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) {
    throw new CnlabError('invalid-input', `scratch namespace name ${JSON.stringify(namespace)} is not a plain name: use letters, digits, ".", "_" or "-"`);
  }
  return SCRIPT_PRELUDE + SCRIPT_TOOLS + (options.privileged ? trialSection(namespace) : '') + SCRIPT_END;
}

// ---------------------------------------------------------------------------------------------
// Parser: pure, total on any input that carries at least one marker.

export interface ParseFactsContext {
  probedAt: string;
  durationMs: number;
  mode: 'privileged' | 'unprivileged';
  /** The address cnlab connected to; marks the management NIC when a NIC carries it. */
  managementAddress?: string;
  /** What the executor reported, used only when the script's identity section is missing. */
  privilege?: Privilege;
}

export type Sections = Map<string, string[]>;

/** Splits marker-protocol output into sections (also used by the experiment preflight, with its own marker). */
export function splitSections(output: string, marker: string = FACTS_MARKER): Sections | null {
  const sections: Sections = new Map();
  let current: string[] | null = null;
  let sawMarker = false;
  for (const rawLine of output.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith(marker)) {
      sawMarker = true;
      const name = line.slice(marker.length).trim().split(/\s+/)[0] ?? '';
      // A repeated section keeps its first copy: later ones can only come from a confused host.
      if (sections.has(name)) {
        current = null;
      } else {
        current = [];
        sections.set(name, current);
      }
      continue;
    }
    current?.push(line);
  }
  return sawMarker ? sections : null;
}

/** key=value lines; every value of a repeated key is kept in order. */
export function keyValues(lines: readonly string[] | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of lines ?? []) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_]+$/.test(key)) continue;
    const list = map.get(key) ?? [];
    list.push(line.slice(eq + 1));
    map.set(key, list);
  }
  return map;
}

function first(map: Map<string, string[]>, key: string): string | null {
  const value = map.get(key)?.[0]?.trim();
  return value ? clip(value) : null;
}

function clip(text: string, max = 200): string {
  return text.length > max ? text.slice(0, max) : text;
}

function toInt(text: string | null | undefined): number | null {
  if (text == null || !/^\s*\d+\s*$/.test(text)) return null;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : null;
}

function parseOsRelease(lines: readonly string[] | undefined): HostFacts['os'] {
  const values = new Map<string, string>();
  for (const line of lines ?? []) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    if (!values.has(match[1])) values.set(match[1], clip(value));
  }
  const get = (key: string): string | null => values.get(key) || null;
  return {
    id: get('ID'),
    name: get('NAME'),
    prettyName: get('PRETTY_NAME'),
    version: get('VERSION') ?? get('VERSION_ID'),
    versionId: get('VERSION_ID'),
  };
}

/** Counts the CPUs of a kernel list such as "0-3,6"; null when it is not one. */
export function countCpuList(list: string): number | null {
  const text = list.trim();
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) return null;
  let count = 0;
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined) return null;
    const end = to ?? from;
    if (end < from) return null;
    count += end - from + 1;
  }
  return count > 0 ? count : null;
}

function parseCpu(lines: readonly string[] | undefined): HostFacts['cpu'] & { hypervisorFlag: boolean | null } {
  const kv = keyValues(lines);
  const online = first(kv, 'online');
  const onlineCount = online ? countCpuList(online) : null;
  const processors = toInt(first(kv, 'processors'));
  // lscpu prints "-" where the CPU does not name itself (some ARM boards).
  const named = (value: string | null): string | null => (value && value !== '-' ? value : null);
  const model = named(first(kv, 'lscpu_model')) ?? named(first(kv, 'cpuinfo_model'));
  const flag = first(kv, 'hypervisor_flag');
  return {
    model: model ? model.replace(/\s+/g, ' ') : null,
    count: onlineCount ?? (processors && processors > 0 ? processors : null),
    online: onlineCount ? online : null,
    hypervisorFlag: flag === 'yes' ? true : flag === 'no' ? false : null,
  };
}

function parseMemory(lines: readonly string[] | undefined): number | null {
  for (const line of lines ?? []) {
    const match = /^MemTotal:\s*(\d+)\s*kB/i.exec(line);
    if (match?.[1]) {
      const bytes = Number(match[1]) * 1024;
      return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
    }
  }
  return null;
}

const TECHNOLOGY = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** DMI strings of well-known hypervisors, mapped to systemd-detect-virt's names. */
function dmiTechnology(vendor: string | null, product: string | null): string | undefined {
  const v = vendor ?? '';
  const p = product ?? '';
  if (/^KVM\b/.test(p) || /\bKVM\b/.test(v)) return 'kvm';
  if (/^QEMU\b/.test(v)) return 'qemu';
  if (/^VMware/i.test(v) || /^VMware/i.test(p)) return 'vmware';
  if (/^innotek GmbH/.test(v) || /^VirtualBox/.test(p)) return 'oracle';
  if (/^Xen\b/.test(v)) return 'xen';
  if (/^Bochs\b/.test(v)) return 'bochs';
  if (/^Parallels\b/.test(v)) return 'parallels';
  if (/^BHYVE\b/i.test(v)) return 'bhyve';
  if (/^Microsoft Corporation/.test(v) && /^Virtual Machine/.test(p)) return 'microsoft';
  if (/^Amazon EC2/.test(v)) return 'amazon';
  if (/^Google/.test(v) && /^Google Compute Engine/.test(p)) return 'google';
  if (/^Apple Virtualization/.test(p)) return 'apple';
  return undefined;
}

function parseVirtualization(lines: readonly string[] | undefined, hypervisorFlag: boolean | null): Virtualization {
  const kv = keyValues(lines);
  const sdvVm = first(kv, 'sdv_vm');
  const sdvContainer = first(kv, 'sdv_container');
  const known = (value: string | null): string | null => (value && value !== 'none' && TECHNOLOGY.test(value) ? value : null);
  const answered = (value: string | null): boolean => value === 'none' || known(value) !== null;

  if (answered(sdvVm) || answered(sdvContainer)) {
    const vm = known(sdvVm);
    const container = known(sdvContainer);
    if (container) {
      return { kind: 'container', technology: container, ...(vm ? { hypervisor: vm } : {}), source: 'systemd-detect-virt' };
    }
    if (vm) return { kind: 'vm', technology: vm, source: 'systemd-detect-virt' };
    // Bare metal only when both questions were answered "none".
    if (sdvVm === 'none' && sdvContainer === 'none') return { kind: 'bare-metal', source: 'systemd-detect-virt' };
  }

  const dmi = dmiTechnology(first(kv, 'dmi_vendor'), first(kv, 'dmi_product'));
  const vmTech = dmi ?? undefined;
  const markers = kv.get('marker') ?? [];
  const marker = markers.find((value) => value === 'docker' || value === 'podman');
  if (marker) {
    return { kind: 'container', technology: marker, ...(vmTech ? { hypervisor: vmTech } : {}), source: 'marker-file' };
  }
  if (dmi) return { kind: 'vm', technology: dmi, source: 'dmi' };
  if (hypervisorFlag === true) return { kind: 'vm', source: 'cpuinfo' };
  return { kind: 'unknown', source: 'none' };
}

/** Canonical text of an IP address (zone and IPv4-mapped prefix removed); null if it is not one. */
export function normalizeIp(text: string): string | null {
  let value = text.trim().replace(/^\[|\]$/g, '');
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  if (mapped?.[1]) value = mapped[1];
  const family = isIP(value);
  if (family === 4) return value;
  if (family === 6) {
    try {
      return new URL(`http://[${value}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

interface IpLink {
  ifname?: unknown;
  mtu?: unknown;
  operstate?: unknown;
  address?: unknown;
  link_type?: unknown;
  linkinfo?: { info_kind?: unknown } | null;
  addr_info?: unknown;
}

function parseJsonArray(lines: readonly string[] | undefined): unknown[] | null {
  const text = (lines ?? []).join('\n').trim();
  if (!text.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5,19}$/i;
const IFNAME = /^[^\s/:]{1,64}$/;

function parseNicSys(lines: readonly string[] | undefined): Map<string, { speedMbps: number | null; driver: string | null }> {
  const map = new Map<string, { speedMbps: number | null; driver: string | null }>();
  for (const line of lines ?? []) {
    const [tag, name, speed, driver] = line.trim().split(/\s+/);
    if (tag !== 'nic' || !name || !IFNAME.test(name)) continue;
    const mbps = toInt(speed);
    map.set(name, {
      // Virtual NICs report -1 or nothing; 0 is no link rather than a speed.
      speedMbps: mbps !== null && mbps > 0 ? mbps : null,
      driver: driver && /^[\w.-]{1,64}$/.test(driver) ? driver : null,
    });
  }
  return map;
}

function parseNics(ipLines: readonly string[] | undefined, sysLines: readonly string[] | undefined, warnings: string[]): Omit<Nic, 'isManagement'>[] {
  const sys = parseNicSys(sysLines);
  const entries = parseJsonArray(ipLines);
  const nics: Omit<Nic, 'isManagement'>[] = [];
  if (entries === null) {
    const error = keyValues(ipLines).get('error')?.[0];
    warnings.push(`could not read the NICs' addresses${error ? ` (${clip(error)})` : ' (no JSON from `ip -j addr`)'}; NIC list comes from /sys only`);
    for (const [name, info] of sys) {
      if (name === 'lo') continue;
      nics.push({ name, mtu: null, state: null, mac: null, kind: null, addresses: [], ...info });
    }
    return nics;
  }
  const seen = new Set<string>();
  for (const raw of entries) {
    if (typeof raw !== 'object' || raw === null) continue;
    const link = raw as IpLink;
    const name = typeof link.ifname === 'string' ? link.ifname : '';
    if (!IFNAME.test(name) || name === 'lo' || link.link_type === 'loopback' || seen.has(name)) continue;
    seen.add(name);
    const addresses: string[] = [];
    if (Array.isArray(link.addr_info)) {
      for (const info of link.addr_info as unknown[]) {
        if (typeof info !== 'object' || info === null) continue;
        const { local, prefixlen } = info as { local?: unknown; prefixlen?: unknown };
        if (typeof local === 'string' && isIP(local) && typeof prefixlen === 'number' && Number.isInteger(prefixlen)) {
          addresses.push(`${local}/${prefixlen}`);
        }
      }
    }
    const mtu = typeof link.mtu === 'number' && Number.isInteger(link.mtu) && link.mtu > 0 ? link.mtu : null;
    const kind = link.linkinfo && typeof link.linkinfo.info_kind === 'string' ? clip(link.linkinfo.info_kind, 32) : null;
    nics.push({
      name,
      mtu,
      state: typeof link.operstate === 'string' ? clip(link.operstate, 32) : null,
      mac: typeof link.address === 'string' && MAC.test(link.address) ? link.address.toLowerCase() : null,
      speedMbps: sys.get(name)?.speedMbps ?? null,
      driver: sys.get(name)?.driver ?? null,
      kind,
      addresses,
    });
  }
  return nics;
}

function parseDefaultRoute(route4: readonly string[] | undefined, route6: readonly string[] | undefined): HostFacts['defaultRoute'] {
  for (const [lines, family] of [
    [route4, 'inet'],
    [route6, 'inet6'],
  ] as const) {
    const entries = parseJsonArray(lines) ?? [];
    let best: { dev: string; via: string | null; metric: number } | null = null;
    for (const raw of entries) {
      if (typeof raw !== 'object' || raw === null) continue;
      const route = raw as { dev?: unknown; gateway?: unknown; metric?: unknown; type?: unknown };
      if (typeof route.dev !== 'string' || !IFNAME.test(route.dev)) continue;
      if (route.type !== undefined && route.type !== 'unicast') continue;
      const metric = typeof route.metric === 'number' ? route.metric : 0;
      const via = typeof route.gateway === 'string' && isIP(route.gateway) ? route.gateway : null;
      if (!best || metric < best.metric) best = { dev: route.dev, via, metric };
    }
    if (best) return { dev: best.dev, via: best.via, family };
  }
  return null;
}

function findManagement(
  nics: readonly Omit<Nic, 'isManagement'>[],
  sshConnection: string | null,
  contextAddress: string | undefined,
  defaultRoute: HostFacts['defaultRoute'],
): HostFacts['management'] {
  const owner = (address: string | null): string | null => {
    if (!address) return null;
    for (const nic of nics) {
      if (nic.addresses.some((cidr) => normalizeIp(cidr.split('/')[0] ?? '') === address)) return nic.name;
    }
    return null;
  };
  const fromContext = contextAddress ? normalizeIp(contextAddress) : null;
  const contextNic = owner(fromContext);
  if (fromContext && contextNic) return { address: fromContext, nic: contextNic, source: 'context' };
  // SSH_CONNECTION is "client-ip client-port server-ip server-port": the server side is what we dialled.
  const serverSide = sshConnection?.trim().split(/\s+/)[2];
  const fromSsh = serverSide ? normalizeIp(serverSide) : null;
  const sshNic = owner(fromSsh);
  if (fromSsh && sshNic) return { address: fromSsh, nic: sshNic, source: 'ssh-connection' };
  if (defaultRoute && nics.some((nic) => nic.name === defaultRoute.dev)) {
    return { address: null, nic: defaultRoute.dev, source: 'default-route' };
  }
  return { address: null, nic: null, source: 'none' };
}

type ConfigValue = 'y' | 'm' | 'n' | 'other';

function parseKernelConfig(lines: readonly string[] | undefined): { source: string | null; symbols: Map<string, ConfigValue> } {
  const kv = keyValues(lines);
  const sourceValue = first(kv, 'source');
  const source = sourceValue && sourceValue !== 'none' && sourceValue.startsWith('/') ? sourceValue : null;
  const symbols = new Map<string, ConfigValue>();
  for (const line of lines ?? []) {
    const notSet = /^# CONFIG_([A-Z0-9_]+) is not set\s*$/.exec(line);
    if (notSet?.[1]) {
      symbols.set(notSet[1], 'n');
      continue;
    }
    const set = /^CONFIG_([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (set?.[1]) symbols.set(set[1], set[2] === 'y' ? 'y' : set[2] === 'm' ? 'm' : set[2] === 'n' ? 'n' : 'other');
  }
  return { source, symbols };
}

interface ModuleInfo {
  dir: string | null;
  files: Set<string>;
  builtin: Set<string>;
  loaded: Set<string>;
}

function parseModules(lines: readonly string[] | undefined): ModuleInfo {
  const kv = keyValues(lines);
  const dir = first(kv, 'dir');
  const set = (key: string): Set<string> => new Set((kv.get(key) ?? []).map((value) => value.trim()));
  return { dir: dir && dir !== 'none' ? dir : null, files: set('file'), builtin: set('builtin'), loaded: set('loaded') };
}

function decideFromConfig(
  spec: FeatureSpec,
  config: { source: string | null; symbols: Map<string, ConfigValue> },
  modules: ModuleInfo,
  release: string | null,
): FeatureSupport {
  if (!config.source) {
    return { supported: 'unknown', source: 'unknown', reason: 'kernel config not readable (no /proc/config.gz, no /boot/config-<release>)' };
  }
  const symbol = `CONFIG_${spec.symbol}`;
  const value = config.symbols.get(spec.symbol);
  const missingParent = (spec.requires ?? []).find((parent) => config.symbols.get(parent) === 'n');
  if (missingParent && (value === undefined || value === 'n')) {
    return { supported: false, source: 'kernel-config', reason: `CONFIG_${missingParent} is not set (${symbol} depends on it)` };
  }
  switch (value) {
    case 'y':
      return { supported: true, source: 'kernel-config', reason: `${symbol}=y` };
    case 'm': {
      const present = modules.files.has(spec.module) || modules.builtin.has(spec.module) || modules.loaded.has(spec.module);
      if (present) {
        return { supported: true, source: 'kernel-config', reason: `${symbol}=m, module ${spec.module} is installed` };
      }
      const where = modules.dir ?? `/lib/modules/${release ?? '<release>'}`;
      return { supported: false, source: 'kernel-config', reason: `${symbol}=m but module ${spec.module} is not installed under ${where}` };
    }
    case 'n':
      return { supported: false, source: 'kernel-config', reason: `${symbol} is not set` };
    case 'other':
      return { supported: 'unknown', source: 'unknown', reason: `${symbol} has an unexpected value in ${config.source}` };
    default:
      return { supported: 'unknown', source: 'unknown', reason: `${symbol} does not appear in ${config.source}` };
  }
}

/** Failures that say "not allowed here" rather than "not in this kernel". */
const NOT_PERMITTED = /operation not permitted|permission denied|read-only file system/i;

interface TrialInfo {
  error: string | null;
  results: Map<KernelFeature, { status: 'ok' | 'fail' | 'skip'; text: string }>;
  removed: boolean | null;
}

function parseTrial(lines: readonly string[] | undefined): TrialInfo {
  const kv = keyValues(lines);
  const results: TrialInfo['results'] = new Map();
  for (const line of lines ?? []) {
    const match = /^result ([a-z0-9]+) (ok|fail|skip)(?: (.*))?$/.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    const feature = KERNEL_FEATURES.find((name) => name === match[1]);
    if (!feature || results.has(feature)) continue;
    results.set(feature, { status: match[2] as 'ok' | 'fail' | 'skip', text: clip((match[3] ?? '').trim(), 300) });
  }
  const removed = first(kv, 'removed');
  return { error: first(kv, 'error'), results, removed: removed === 'yes' ? true : removed === 'no' ? false : null };
}

function decideFeatures(
  trial: TrialInfo | null,
  config: { source: string | null; symbols: Map<string, ConfigValue> },
  modules: ModuleInfo,
  release: string | null,
): Record<KernelFeature, FeatureSupport> {
  const out = {} as Record<KernelFeature, FeatureSupport>;
  for (const feature of KERNEL_FEATURES) {
    const fromConfig = decideFromConfig(FEATURE_SPECS[feature], config, modules, release);
    const result = trial?.results.get(feature);
    if (result?.status === 'ok') {
      out[feature] = { supported: true, source: 'trial' };
    } else if (result?.status === 'fail' && !NOT_PERMITTED.test(result.text)) {
      out[feature] = { supported: false, source: 'trial', reason: result.text || 'the trial create failed' };
    } else if (result) {
      // Not allowed or not attempted: the trial says nothing about the kernel, the config still may.
      const why = result.status === 'skip' ? `trial skipped: ${result.text}` : `trial not permitted: ${result.text}`;
      out[feature] = fromConfig.supported === 'unknown' ? { ...fromConfig, reason: clip(why, 500) } : fromConfig;
    } else {
      out[feature] = fromConfig;
    }
  }
  return out;
}

function toolText(lines: readonly string[] | undefined): string | null | undefined {
  if (lines === undefined) return undefined;
  const text = lines.join('\n').trim();
  if (text === '@missing') return null;
  return text;
}

/** Applies a version pattern to a tool's output: null when missing, 'unknown' when present but unreadable. */
function versionOf(lines: readonly string[] | undefined, patterns: readonly RegExp[]): string | null {
  const text = toolText(lines);
  if (text === null || text === undefined) return null;
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match?.[1]) return clip(match[1], 100);
  }
  return 'unknown';
}

const VERSION = String.raw`(\d[\w.+~-]*)`;

export const TOOL_VERSION_PATTERNS = {
  iproute2: [/iproute2-([^\s,]+)/],
  iperf3: [new RegExp(String.raw`^iperf\s+v?${VERSION}`, 'm')],
  sockperf: [new RegExp(String.raw`version\s*#?\s*${VERSION}`, 'i')],
  netperf: [new RegExp(String.raw`netperf\s+version\s+${VERSION}`, 'i')],
  qperf: [new RegExp(String.raw`qperf\s+v?${VERSION}`, 'i')],
  ping: [/iputils[-\s]s?(\d[\w.]*)/i, /BusyBox\s+v(\d[\w.]*)/],
  nft: [new RegExp(String.raw`nftables\s+v${VERSION}`, 'i')],
  iptables: [new RegExp(String.raw`iptables\s+v${VERSION}`, 'i')],
  docker: [new RegExp(String.raw`version\s+v?${VERSION}`, 'i')],
  bird: [new RegExp(String.raw`BIRD\s+version\s+v?${VERSION}`, 'i')],
  etcd: [new RegExp(String.raw`etcd\s+Version:\s*v?${VERSION}`, 'i')],
} satisfies Record<string, readonly RegExp[]>;

function parseTools(sections: Sections): ToolVersions {
  const get = (name: string): string[] | undefined => sections.get(`tool:${name}`);
  const iptablesText = toolText(get('iptables'));
  const iptables = versionOf(get('iptables'), TOOL_VERSION_PATTERNS.iptables);
  let iptablesBackend: ToolVersions['iptablesBackend'] = null;
  if (iptables !== null) {
    const backend = /\((nf_tables|legacy)\)/.exec(iptablesText ?? '')?.[1];
    const major = /^(\d+)\.(\d+)/.exec(iptables);
    // Before 1.8 there was only the legacy backend, and the version line named none.
    const old = major ? Number(major[1]) < 1 || (Number(major[1]) === 1 && Number(major[2]) < 8) : false;
    iptablesBackend = backend === 'nf_tables' || backend === 'legacy' ? backend : old ? 'legacy' : 'unknown';
  }
  const serverLine = (get('docker-server') ?? []).map((line) => line.trim()).find((line) => /^\d[\w.+~-]*$/.test(line));
  const ping = versionOf(get('ping'), TOOL_VERSION_PATTERNS.ping);
  return {
    iproute2: versionOf(get('iproute2'), TOOL_VERSION_PATTERNS.iproute2),
    iperf3: versionOf(get('iperf3'), TOOL_VERSION_PATTERNS.iperf3),
    sockperf: versionOf(get('sockperf'), TOOL_VERSION_PATTERNS.sockperf),
    netperf: versionOf(get('netperf'), TOOL_VERSION_PATTERNS.netperf),
    qperf: versionOf(get('qperf'), TOOL_VERSION_PATTERNS.qperf),
    ping: ping !== null && /BusyBox/.test(toolText(get('ping')) ?? '') && ping !== 'unknown' ? `busybox-${ping}` : ping,
    nft: versionOf(get('nft'), TOOL_VERSION_PATTERNS.nft),
    iptables,
    iptablesBackend,
    docker: versionOf(get('docker'), TOOL_VERSION_PATTERNS.docker),
    dockerServer: serverLine ? clip(serverLine, 100) : null,
    bird: versionOf(get('bird'), TOOL_VERSION_PATTERNS.bird),
    etcd: versionOf(get('etcd'), TOOL_VERSION_PATTERNS.etcd),
  };
}

/** Driver and plugin names as Docker prints them, e.g. overlay2, systemd, or a managed plugin's `vendor/name:tag`. */
const DOCKER_NAME = /^[\w.+:@/-]{1,100}$/;

/**
 * Reads the docker-info section. null when no daemon answered: the section is empty then, or (a client
 * that prints its template against an empty struct) carries no server version.
 */
function parseDockerInfo(lines: readonly string[] | undefined, warnings: string[]): DockerFacts | null {
  const kv = keyValues(lines);
  const serverVersion = first(kv, 'server_version');
  if (!serverVersion || !/^\d[\w.+~-]*$/.test(serverVersion)) return null;
  const name = (key: string): string | null => {
    const value = first(kv, key);
    return value && DOCKER_NAME.test(value) ? value : null;
  };
  const apiVersion = first(kv, 'api_version');
  const cgroupVersion = first(kv, 'cgroup_version');
  const state = first(kv, 'swarm_state');
  const nodeId = first(kv, 'swarm_node_id');
  const controlAvailable = first(kv, 'swarm_control_available') === 'true';

  const networkDrivers: string[] = [];
  for (const driver of (first(kv, 'network_drivers') ?? '').split(',')) {
    const trimmed = driver.trim();
    if (DOCKER_NAME.test(trimmed) && !networkDrivers.includes(trimmed)) networkDrivers.push(trimmed);
  }

  const defaultAddressPools: DockerFacts['defaultAddressPools'] = [];
  for (const line of kv.get('pool') ?? []) {
    const match = /^\s*(\S+)\/(\d{1,3})\s+(\d{1,3})\s*$/.exec(line);
    if (!match?.[1] || !match[2] || !match[3]) continue;
    const family = isIP(match[1]);
    const prefix = Number(match[2]);
    const size = Number(match[3]);
    const maxBits = family === 4 ? 32 : 128;
    if (family === 0 || prefix > maxBits || size < 1 || size > maxBits) continue;
    defaultAddressPools.push({ base: `${match[1]}/${prefix}`, size });
  }

  if (first(kv, 'complete') !== 'yes') {
    warnings.push('`docker info` stopped before the end of its template (an older docker client lacks a field it asks for, e.g. the cgroup version before 20.10): the Docker facts after that field are missing');
  }
  return {
    serverVersion: clip(serverVersion, 100),
    apiVersion: apiVersion && /^\d+\.\d+$/.test(apiVersion) ? apiVersion : null,
    storageDriver: name('storage_driver'),
    cgroupDriver: name('cgroup_driver'),
    cgroupVersion: cgroupVersion && /^\d{1,2}$/.test(cgroupVersion) ? cgroupVersion : null,
    swarm: {
      state: state && /^[a-z]{1,32}$/.test(state) ? state : 'unknown',
      nodeId: nodeId && /^[a-z0-9]{1,100}$/i.test(nodeId) ? nodeId : null,
      controlAvailable,
      // A worker or a node outside a swarm prints 0 for both counts without knowing them.
      managers: controlAvailable ? toInt(first(kv, 'swarm_managers')) : null,
      nodes: controlAvailable ? toInt(first(kv, 'swarm_nodes')) : null,
    },
    networkDrivers,
    defaultAddressPools,
  };
}

function parsePrivilege(lines: readonly string[] | undefined, context: ParseFactsContext): HostFacts['privilege'] {
  const kv = keyValues(lines);
  const uid = toInt(first(kv, 'uid'));
  const user = first(kv, 'user');
  const sudoUser = first(kv, 'sudo_user');
  if (uid === 0 && sudoUser && sudoUser !== 'root') {
    return { user: sudoUser, uid: toInt(first(kv, 'sudo_uid')), kind: 'sudo' };
  }
  if (uid === 0) return { user: user ?? 'root', uid, kind: 'root' };
  if (uid !== null) return { user, uid, kind: 'none' };
  const privilege = context.privilege;
  if (privilege) {
    return { user: privilege.kind === 'root' ? 'root' : privilege.user, uid: privilege.kind === 'root' ? 0 : null, kind: privilege.kind };
  }
  return { user, uid: null, kind: context.mode === 'privileged' ? 'root' : 'none' };
}

/**
 * Turns the probe script's output into HostFacts. Never throws on partial or garbled output (what is
 * missing becomes null/unknown and a warning); throws CnlabError('command-failed') only when not one
 * facts marker is present, i.e. the script did not run at all.
 */
export function parseHostFactsOutput(output: string, context: ParseFactsContext): HostFacts {
  const sections = splitSections(output);
  if (!sections) {
    throw new CnlabError('command-failed', 'the host facts probe printed no facts: the script did not run (is `sh` a POSIX shell there, and does sudo work?)', {
      outputHead: output.slice(0, 500),
    });
  }
  const warnings: string[] = [];
  if (!sections.has('end')) warnings.push('the probe output is cut short: facts after the last complete section are unknown');

  const identity = keyValues(sections.get('identity'));
  const release = first(identity, 'kernel_release');
  const cpu = parseCpu(sections.get('cpu'));
  const nicsNoMgmt = parseNics(sections.get('ip-addr'), sections.get('nic-sys'), warnings);
  const defaultRoute = parseDefaultRoute(sections.get('route4'), sections.get('route6'));
  const sshConnection = first(keyValues(sections.get('mgmt')), 'ssh_connection');
  const management = findManagement(nicsNoMgmt, sshConnection, context.managementAddress, defaultRoute);
  const nics: Nic[] = nicsNoMgmt.map((nic) => ({ ...nic, isManagement: nic.name === management.nic }));

  const config = parseKernelConfig(sections.get('kconfig'));
  const modules = parseModules(sections.get('modules'));
  const trialLines = sections.get('trial');
  const trial = context.mode === 'privileged' && trialLines ? parseTrial(trialLines) : null;
  if (context.mode === 'privileged' && !trial) warnings.push('the kernel-feature trial did not run; features come from the kernel config');
  if (trial?.error) warnings.push(`kernel-feature trial not possible: ${trial.error}`);
  const namespace = trial ? (first(keyValues(trialLines), 'netns') ?? null) : null;
  if (trial && trial.removed === false) warnings.push(`the scratch namespace ${namespace ?? ''} was still present after the probe`);

  let cniPluginsDir: string | null = null;
  const cniPlugins: string[] = [];
  const cni = keyValues(sections.get('cni'));
  const cniDir = first(cni, 'dir');
  if (cniDir?.startsWith('/')) {
    cniPluginsDir = cniDir;
    for (const plugin of cni.get('plugin') ?? []) {
      const name = plugin.trim();
      if (/^[\w.+-]{1,64}$/.test(name) && !cniPlugins.includes(name)) cniPlugins.push(name);
    }
    cniPlugins.sort();
  }

  const facts: HostFacts = {
    factsVersion: 1,
    probedAt: context.probedAt,
    probeDurationMs: Math.max(0, context.durationMs),
    probeMode: context.mode,
    scratchNamespace: namespace ? { name: namespace, removed: trial?.removed ?? null } : null,
    hostname: first(identity, 'hostname'),
    os: parseOsRelease(sections.get('os-release')),
    kernel: { release, configSource: config.source },
    arch: first(identity, 'arch'),
    cpu: { model: cpu.model, count: cpu.count, online: cpu.online },
    memoryBytes: parseMemory(sections.get('memory')),
    virtualization: parseVirtualization(sections.get('virt'), cpu.hypervisorFlag),
    nics,
    defaultRoute,
    management,
    kernelFeatures: decideFeatures(trial, config, modules, release),
    tools: parseTools(sections),
    docker: parseDockerInfo(sections.get('docker-info'), warnings),
    cniPluginsDir,
    cniPlugins,
    privilege: parsePrivilege(sections.get('identity'), context),
    warnings,
  };
  return hostFactsSchema.parse(facts);
}

// ---------------------------------------------------------------------------------------------
// The shell: the only part that does I/O.

export interface ProbeContext {
  /** The address cnlab connected to (the inventory address, or what the SSH client dialled). */
  managementAddress?: string;
  /** Whole-probe limit; the default covers slow hosts with many NICs. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_PROBE_TIMEOUT_MS = 60_000;

/**
 * Probes one host in one round trip: privileged (trial creates in a scratch namespace) when the
 * executor has root or passwordless sudo, else unprivileged (kernel config only).
 */
export async function probeHostFacts(executor: HostExecutor, context: ProbeContext = {}): Promise<HostFacts> {
  const privilege = await executor.privilege();
  const privileged = privilege.kind !== 'none';
  const namespace = newScratchNamespaceName();
  const script = buildFactsScript({ privileged, scratchNamespace: namespace });
  const probedAt = new Date().toISOString();
  const started = performance.now();
  let result: ExecResult;
  try {
    result = await executor.runScript(script, {
      privileged,
      timeoutMs: context.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
      ...(context.signal ? { signal: context.signal } : {}),
    });
  } catch (error) {
    // A killed script never ran its EXIT trap: remove the namespace it may have made.
    if (privileged) await removeScratchNamespace(executor, namespace);
    throw error;
  }
  const durationMs = Math.round(performance.now() - started);
  let facts: HostFacts;
  try {
    facts = parseHostFactsOutput(result.stdout, {
      probedAt,
      durationMs,
      mode: privileged ? 'privileged' : 'unprivileged',
      privilege,
      ...(context.managementAddress ? { managementAddress: context.managementAddress } : {}),
    });
  } catch (error) {
    if (isCnlabError(error) && error.code === 'command-failed') {
      throw new CnlabError(
        'command-failed',
        `the facts probe on ${executor.hostName} printed no facts (exit ${result.code ?? result.signal ?? '?'}): ${lastLine(result.stderr) || 'no error output'}`,
        { host: executor.hostName, code: result.code, stderrTail: result.stderr.slice(-2000) },
        { cause: error },
      );
    }
    throw error;
  }
  if (result.code !== 0) {
    facts.warnings.push(`the probe script exited with ${result.code ?? result.signal ?? '?'}: ${lastLine(result.stderr) || 'no error output'}`);
  }
  if (facts.scratchNamespace && facts.scratchNamespace.removed !== true) {
    const removed = await removeScratchNamespace(executor, facts.scratchNamespace.name);
    facts.scratchNamespace.removed = removed;
    facts.warnings.push(
      removed
        ? `the scratch namespace ${facts.scratchNamespace.name} outlived the probe script and was removed afterwards`
        : `the scratch namespace ${facts.scratchNamespace.name} could not be removed: delete it with \`ip netns del ${facts.scratchNamespace.name}\``,
    );
  }
  return facts;
}

/** Deletes a scratch namespace this probe named, if present; true when it is gone afterwards. */
async function removeScratchNamespace(executor: HostExecutor, namespace: string): Promise<boolean> {
  const command =
    sh`ip netns del ${namespace} >/dev/null 2>&1; ` +
    `if ip netns list 2>/dev/null | cut -d' ' -f1 | grep -q -x -F ${quoteShellArg(namespace)}; then echo present; else echo gone; fi`;
  try {
    const result = await executor.exec(command, { privileged: true, timeoutMs: 15_000 });
    return result.stdout.trim() === 'gone';
  } catch {
    return false;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return clip(lines[lines.length - 1]?.trim() ?? '', 300);
}
