// The preflight check of one host: one POSIX sh script (one round trip) and a pure parser of what it
// prints. It uses the facts probe's marker protocol with its own marker, and only reads: it changes nothing.
import { CnlabError } from '../errors';
import { keyValues, splitSections, type Sections } from '../hosts/facts-probe';
import { quoteShellArg } from '../shell/quote';
import { PACKAGE_MANAGERS, PACKAGE_MANAGER_PROGRAMS, TOOL_NAME, type PackageManager } from './package-install';

/** Every section starts with this at the start of a line. */
export const PREFLIGHT_MARKER = '@@cnlab-preflight:';

/** The script reports processes at or above this share of one core; the caller applies its own threshold. */
export const BUSY_REPORT_PERCENT = 5;

export const OFFLOAD_FEATURES = {
  'tcp-segmentation-offload': 'tso',
  'generic-segmentation-offload': 'gso',
  'generic-receive-offload': 'gro',
} as const;
export type OffloadName = (typeof OFFLOAD_FEATURES)[keyof typeof OFFLOAD_FEATURES];

export interface PreflightScriptOptions {
  /** Programs to look up with `command -v`. */
  tools: readonly string[];
  /** Listening sockets in this range get their owning process looked up. */
  ports?: { from: number; to: number };
}

// Plain POSIX sh + awk (mawk, gawk or busybox): lab hosts range from Debian to Alpine.
// No `set -e`: a failing read only leaves its own section empty.
const PRELUDE = `# cnlab experiment preflight, protocol 1. Reads only.
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"; export PATH
cnlab_has() { command -v "$1" >/dev/null 2>&1; }
cnlab_t() { _cnlab_secs=$1; shift; if cnlab_has timeout; then timeout "$_cnlab_secs" "$@"; else "$@"; fi; }
cnlab_sec() { printf '\\n${PREFLIGHT_MARKER}%s\\n' "$1"; }
cnlab_line() { tr '\\n\\r\\t' '   ' | cut -c1-300; }
printf '${PREFLIGHT_MARKER}begin 1\\n'

cnlab_sec identity
printf 'uid=%s\\n' "$(id -u 2>/dev/null)"
printf 'user=%s\\n' "$(id -un 2>/dev/null || whoami 2>/dev/null)"
`;

function toolsSection(tools: readonly string[]): string {
  const lines = tools.map((tool) => `cnlab_tool ${quoteShellArg(tool)}`).join('\n');
  return `
cnlab_sec tools
cnlab_tool() { if _cnlab_p=$(command -v "$1" 2>/dev/null); then printf 'tool %s %s\\n' "$1" "$_cnlab_p"; else printf 'tool %s -\\n' "$1"; fi; }
${lines}
`;
}

function packageManagerSection(): string {
  const programs = PACKAGE_MANAGERS.map((manager) => quoteShellArg(PACKAGE_MANAGER_PROGRAMS[manager])).join(' ');
  return `
cnlab_sec package-manager
for cnlab_pm in ${programs}; do if cnlab_has "$cnlab_pm"; then echo "program=$cnlab_pm"; break; fi; done
`;
}

const CPU_SECTION = `
cnlab_sec cpu
printf 'online=%s\\n' "$(cat /sys/devices/system/cpu/online 2>/dev/null)"
printf 'loadavg=%s\\n' "$(cat /proc/loadavg 2>/dev/null)"
# VMs and containers usually have no cpufreq directory at all: the section is then empty.
for cnlab_f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
  [ -r "$cnlab_f" ] || continue
  cnlab_c=\${cnlab_f#/sys/devices/system/cpu/}
  printf 'governor %s %s\\n' "\${cnlab_c%%/*}" "$(cat "$cnlab_f" 2>/dev/null)"
done
`;

// CPU use per process: utime + stime from /proc/PID/stat, read twice ~0.5 s apart, over the elapsed
// /proc/uptime. comm may hold spaces and parentheses, so the fields are taken after the last ") ".
const BUSY_SECTION = `
cnlab_sec busy
cnlab_hz=$(getconf CLK_TCK 2>/dev/null)
case "$cnlab_hz" in ''|*[!0-9]*) cnlab_hz=100 ;; esac
printf 'self=%s\\n' "$$"
cnlab_p=$$
cnlab_n=0
while [ "$cnlab_n" -lt 16 ] && [ -n "$cnlab_p" ] && [ "$cnlab_p" -gt 1 ] 2>/dev/null; do
  cnlab_p=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$cnlab_p/status" 2>/dev/null)
  [ -n "$cnlab_p" ] && printf 'ancestor=%s\\n' "$cnlab_p"
  cnlab_n=$((cnlab_n + 1))
done
cnlab_u1=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)
cnlab_s1=$(cat /proc/[0-9]*/stat 2>/dev/null)
sleep 0.5 2>/dev/null || sleep 1
cnlab_u2=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)
cnlab_s2=$(cat /proc/[0-9]*/stat 2>/dev/null)
printf 'hz=%s\\nwindow=%s %s\\n' "$cnlab_hz" "$cnlab_u1" "$cnlab_u2"
cnlab_busy=$(printf '%s\\n@@second\\n%s\\n' "$cnlab_s1" "$cnlab_s2" | awk -v hz="$cnlab_hz" -v u1="$cnlab_u1" -v u2="$cnlab_u2" -v min=${BUSY_REPORT_PERCENT} '
  $0 == "@@second" { second = 1; next }
  $1 ~ /^[0-9]+$/ {
    rest = $0; if (!sub(/.*\\) /, "", rest)) next
    comm = $0; sub(/^[0-9]+ \\(/, "", comm); sub(/\\) [^)]*$/, "", comm)
    if (split(rest, f, " ") < 13) next
    t = f[12] + f[13]
    if (!second) { before[$1] = t; next }
    if (!($1 in before)) next
    dt = u2 - u1; if (dt <= 0) dt = 0.5
    pct = 100 * (t - before[$1]) / (hz * dt)
    if (pct >= min) { gsub(/[^A-Za-z0-9._:\\/+@-]/, "_", comm); printf "proc %s %s %.1f %s\\n", $1, f[2], pct, comm }
  }')
[ -n "$cnlab_busy" ] && printf '%s\\n' "$cnlab_busy"
printf '%s\\n' "$cnlab_busy" | while read -r cnlab_k cnlab_pid cnlab_rest; do
  [ "$cnlab_k" = proc ] || continue
  printf 'cmdline %s %s\\n' "$cnlab_pid" "$(cat "/proc/$cnlab_pid/cmdline" 2>/dev/null | tr '\\000' ' ' | cnlab_line)"
done
`;

// The management NIC carries the address sshd answered on (SSH_CONNECTION's third field). sudo drops
// SSH_CONNECTION, so it is read from the login shell above us, as the facts probe does.
const NICS_SECTION = `
cnlab_sec mgmt
cnlab_conn=\${SSH_CONNECTION:-}
cnlab_p=$$
cnlab_n=0
while [ -z "$cnlab_conn" ] && [ "$cnlab_n" -lt 8 ] && [ -n "$cnlab_p" ] && [ "$cnlab_p" -gt 1 ] 2>/dev/null; do
  cnlab_conn=$(cat "/proc/$cnlab_p/environ" 2>/dev/null | tr '\\000' '\\n' | sed -n 's/^SSH_CONNECTION=//p' | head -n 1)
  cnlab_p=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$cnlab_p/status" 2>/dev/null)
  cnlab_n=$((cnlab_n + 1))
done
printf 'ssh_connection=%s\\n' "$cnlab_conn"
cnlab_mgmt=
cnlab_defdev=
if cnlab_has ip; then
  cnlab_srv=$(printf '%s\\n' "$cnlab_conn" | awk '{ a = $3; sub(/^::ffff:/, "", a); print a }')
  [ -n "$cnlab_srv" ] && cnlab_mgmt=$(ip -o addr show 2>/dev/null | awk -v a="$cnlab_srv" '{ split($4, p, "/"); if (p[1] == a) { sub(/@.*/, "", $2); print $2; exit } }')
  cnlab_defdev=$(ip -o route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
fi
printf 'management_dev=%s\\ndefault_dev=%s\\n' "$cnlab_mgmt" "$cnlab_defdev"

cnlab_sec nics
if cnlab_has ethtool; then echo ethtool=yes; else echo ethtool=no; fi
# Physical NICs, the management NIC and the default-route NIC; not the veths and bridges of labs.
for cnlab_d in /sys/class/net/*; do
  [ -e "$cnlab_d" ] || continue
  cnlab_nic=\${cnlab_d##*/}
  [ "$cnlab_nic" = lo ] && continue
  cnlab_role=-
  [ "$cnlab_nic" = "$cnlab_defdev" ] && cnlab_role=default
  [ "$cnlab_nic" = "$cnlab_mgmt" ] && cnlab_role=management
  cnlab_phys=no
  [ -e "$cnlab_d/device" ] && cnlab_phys=yes
  [ "$cnlab_phys" = yes ] || [ "$cnlab_role" != - ] || continue
  printf 'nic %s %s %s %s %s\\n' "$cnlab_nic" "$(cat "$cnlab_d/mtu" 2>/dev/null)" "$(cat "$cnlab_d/operstate" 2>/dev/null)" "$cnlab_phys" "$cnlab_role"
  if cnlab_has ethtool; then
    cnlab_t 5 ethtool -k "$cnlab_nic" 2>/dev/null | grep -E '^(${Object.keys(OFFLOAD_FEATURES).join('|')}):' | awk -v n="$cnlab_nic" '{ print "offload", n, $1, $2 }'
  fi
done
`;

// Listening TCP (state 0A) and unconnected UDP (07) sockets; ports are hex in /proc/net/*.
function portsSection(ports: PreflightScriptOptions['ports']): string {
  const owners = ports
    ? `
cnlab_inodes=$(printf '%s\\n' "$cnlab_listen" | while read -r cnlab_k cnlab_proto cnlab_hex cnlab_inode; do
  [ "$cnlab_k" = listen ] || continue
  cnlab_port=$((0x$cnlab_hex))
  if [ "$cnlab_port" -ge ${ports.from} ] && [ "$cnlab_port" -le ${ports.to} ] && [ "$cnlab_inode" != 0 ]; then echo "$cnlab_inode"; fi
done | sort -u | tr '\\n' ' ')
if [ -n "$cnlab_inodes" ]; then
  ls -l /proc/[0-9]*/fd/ 2>/dev/null | awk -v inodes="$cnlab_inodes" '
    BEGIN { n = split(inodes, a, " "); for (i = 1; i <= n; i++) want["socket:[" a[i] "]"] = a[i] }
    /^\\/proc\\/[0-9]+\\/fd\\/?:$/ { pid = $0; sub(/^\\/proc\\//, "", pid); sub(/\\/fd\\/?:$/, "", pid); next }
    ($NF in want) && !seen[want[$NF] " " pid]++ { print want[$NF], pid }' | while read -r cnlab_inode cnlab_pid; do
    printf 'owner %s %s %s\\n' "$cnlab_inode" "$cnlab_pid" "$(cat "/proc/$cnlab_pid/comm" 2>/dev/null | cnlab_line)"
  done
fi
`
    : '';
  return `
cnlab_sec ports
cnlab_listen=$(for cnlab_f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
  [ -r "$cnlab_f" ] || continue
  awk -v f="\${cnlab_f##*/}" 'NR > 1 { n = split($2, a, ":"); if ((f ~ /^tcp/ && $4 == "0A") || (f ~ /^udp/ && $4 == "07")) print "listen", f, a[n], $10 }' "$cnlab_f"
done)
[ -n "$cnlab_listen" ] && printf '%s\\n' "$cnlab_listen"
${owners}`;
}

const END = `
cnlab_sec end
exit 0
`;

function checkOptions(options: PreflightScriptOptions): void {
  for (const tool of options.tools) {
    if (!TOOL_NAME.test(tool)) {
      throw new CnlabError('invalid-input', `tool name ${JSON.stringify(tool)} is not a program name: use letters, digits, ".", "_", "+" or "-"`);
    }
  }
  const ports = options.ports;
  if (ports && !(Number.isInteger(ports.from) && Number.isInteger(ports.to) && ports.from >= 1 && ports.to <= 65535 && ports.from <= ports.to)) {
    throw new CnlabError('invalid-input', `port range ${ports.from}–${ports.to} is not a range of ports: use integers 1–65535 with from ≤ to`);
  }
}

/** The whole preflight script for one host. Runs unprivileged too (process and socket owners may then be hidden). */
export function buildPreflightScript(options: PreflightScriptOptions): string {
  checkOptions(options);
  return PRELUDE + toolsSection(options.tools) + packageManagerSection() + CPU_SECTION + BUSY_SECTION + NICS_SECTION + portsSection(options.ports) + END;
}

// ---------------------------------------------------------------------------------------------
// Parser: pure, total on any output that carries at least one marker.

export interface SampledProcess {
  pid: number;
  ppid: number;
  /** Share of one core over the sampling window, in percent (200 = two cores busy). */
  cpuPercent: number;
  /** The command line, or the kernel's comm name when the command line is unreadable (kernel threads). */
  command: string;
}

export interface ParsedNic {
  name: string;
  mtu: number | null;
  operstate: string;
  physical: boolean;
  role: 'management' | 'default' | null;
  offloads: Partial<Record<OffloadName, 'on' | 'off'>>;
}

export interface ListeningSocket {
  protocol: 'tcp' | 'udp';
  port: number;
  owners: { pid: number; command: string }[];
}

export interface ParsedPreflight {
  /** The script reached its end marker. */
  complete: boolean;
  uid: number | null;
  user: string | null;
  tools: Record<string, string | null>;
  packageManager: PackageManager | null;
  cpuCount: number | null;
  loadAverage: number[];
  /** cpu name → governor, e.g. cpu0 → powersave; empty when the host exposes no cpufreq. */
  governors: Record<string, string>;
  busy: { self: number | null; ancestors: number[]; processes: SampledProcess[] };
  ethtool: boolean;
  nics: ParsedNic[];
  listening: ListeningSocket[];
}

function toInt(text: string | undefined | null): number | null {
  if (text == null || !/^\s*\d+\s*$/.test(text)) return null;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : null;
}

function words(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/** Counts the CPUs of a kernel list such as "0-3,6". */
function countCpus(list: string | null): number | null {
  if (!list || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list.trim())) return null;
  let count = 0;
  for (const part of list.trim().split(',')) {
    const [from = 0, to = from] = part.split('-').map(Number);
    if (to < from) return null;
    count += to - from + 1;
  }
  return count || null;
}

function parseTools(lines: readonly string[] | undefined): Record<string, string | null> {
  const tools: Record<string, string | null> = {};
  for (const line of lines ?? []) {
    const match = /^tool (\S+) (.+)$/.exec(line.trim());
    if (!match?.[1] || !match[2] || !TOOL_NAME.test(match[1])) continue;
    tools[match[1]] = match[2] === '-' ? null : match[2];
  }
  return tools;
}

function parsePackageManager(lines: readonly string[] | undefined): PackageManager | null {
  const program = keyValues(lines).get('program')?.[0]?.trim();
  return PACKAGE_MANAGERS.find((manager) => PACKAGE_MANAGER_PROGRAMS[manager] === program) ?? null;
}

function parseCpu(lines: readonly string[] | undefined): Pick<ParsedPreflight, 'cpuCount' | 'loadAverage' | 'governors'> {
  const kv = keyValues(lines);
  const load = words(kv.get('loadavg')?.[0] ?? '').slice(0, 3).map(Number);
  const governors: Record<string, string> = {};
  for (const line of lines ?? []) {
    const match = /^governor (cpu\d+) (\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) governors[match[1]] = match[2];
  }
  return {
    cpuCount: countCpus(kv.get('online')?.[0] ?? null),
    loadAverage: load.length === 3 && load.every(Number.isFinite) ? load : [],
    governors,
  };
}

function parseBusy(lines: readonly string[] | undefined): ParsedPreflight['busy'] {
  const kv = keyValues(lines);
  const ancestors = (kv.get('ancestor') ?? []).map(toInt).filter((pid): pid is number => pid !== null);
  const commandLines = new Map<number, string>();
  const processes: SampledProcess[] = [];
  for (const line of lines ?? []) {
    const cmd = /^cmdline (\d+) ?(.*)$/.exec(line);
    if (cmd?.[1] && cmd[2]?.trim()) commandLines.set(Number(cmd[1]), cmd[2].trim());
    const proc = /^proc (\d+) (\d+) (\d+(?:\.\d+)?) (.*)$/.exec(line.trim());
    if (proc?.[1] && proc[2] && proc[3]) {
      processes.push({ pid: Number(proc[1]), ppid: Number(proc[2]), cpuPercent: Number(proc[3]), command: `[${proc[4] ?? '?'}]` });
    }
  }
  for (const process of processes) process.command = commandLines.get(process.pid) ?? process.command;
  return { self: toInt(kv.get('self')?.[0]), ancestors, processes };
}

function parseNics(lines: readonly string[] | undefined): Pick<ParsedPreflight, 'ethtool' | 'nics'> {
  const nics = new Map<string, ParsedNic>();
  for (const line of lines ?? []) {
    const parts = words(line);
    if (parts[0] === 'nic' && parts.length >= 6 && parts[1]) {
      const role = parts[5] === 'management' || parts[5] === 'default' ? parts[5] : null;
      nics.set(parts[1], { name: parts[1], mtu: toInt(parts[2]), operstate: parts[3] ?? 'unknown', physical: parts[4] === 'yes', role, offloads: {} });
    } else if (parts[0] === 'offload' && parts.length >= 4) {
      const feature = (parts[2] ?? '').replace(/:$/, '') as keyof typeof OFFLOAD_FEATURES;
      const nic = nics.get(parts[1] ?? '');
      const value = parts[3];
      if (nic && feature in OFFLOAD_FEATURES && (value === 'on' || value === 'off')) nic.offloads[OFFLOAD_FEATURES[feature]] = value;
    }
  }
  return { ethtool: keyValues(lines).get('ethtool')?.[0]?.trim() === 'yes', nics: [...nics.values()] };
}

function parsePorts(lines: readonly string[] | undefined): ListeningSocket[] {
  const byInode = new Map<string, { pid: number; command: string }[]>();
  for (const line of lines ?? []) {
    const owner = /^owner (\d+) (\d+) ?(.*)$/.exec(line.trim());
    if (!owner?.[1] || !owner[2]) continue;
    const list = byInode.get(owner[1]) ?? [];
    list.push({ pid: Number(owner[2]), command: owner[3]?.trim() || '?' });
    byInode.set(owner[1], list);
  }
  const sockets = new Map<string, ListeningSocket>();
  for (const line of lines ?? []) {
    const listen = /^listen (tcp|tcp6|udp|udp6) ([0-9A-Fa-f]{1,4}) (\d+)$/.exec(line.trim());
    if (!listen?.[1] || !listen[2] || !listen[3]) continue;
    const protocol = listen[1].startsWith('tcp') ? 'tcp' : 'udp';
    const port = parseInt(listen[2], 16);
    if (port === 0) continue;
    const key = `${protocol}/${port}`;
    const socket = sockets.get(key) ?? { protocol, port, owners: [] };
    for (const owner of byInode.get(listen[3]) ?? []) {
      if (!socket.owners.some((known) => known.pid === owner.pid)) socket.owners.push(owner);
    }
    sockets.set(key, socket);
  }
  return [...sockets.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/**
 * Turns the preflight script's output into facts. Throws CnlabError('command-failed') only when not
 * one marker is present (the script did not run); missing sections become empty values.
 */
export function parsePreflightOutput(output: string): ParsedPreflight {
  const sections: Sections | null = splitSections(output, PREFLIGHT_MARKER);
  if (!sections) {
    throw new CnlabError('command-failed', 'the preflight script printed nothing it knows: it did not run (is `sh` a POSIX shell there?)', {
      outputHead: output.slice(0, 500),
    });
  }
  const identity = keyValues(sections.get('identity'));
  return {
    complete: sections.has('end'),
    uid: toInt(identity.get('uid')?.[0]),
    user: identity.get('user')?.[0]?.trim() || null,
    tools: parseTools(sections.get('tools')),
    packageManager: parsePackageManager(sections.get('package-manager')),
    ...parseCpu(sections.get('cpu')),
    busy: parseBusy(sections.get('busy')),
    ...parseNics(sections.get('nics')),
    listening: parsePorts(sections.get('ports')),
  };
}
