// Experiment preflight: before any run, every host is checked in one round trip (reachable, privileged,
// has the tools) and what silently skews results is reported with its fix, so a result always carries
// the state it was measured in. Findings are pure functions of the parsed host states.
import { CnlabError, toCnlabError } from '../errors';
import type { Privilege } from '../exec/executor';
import type { HostService } from '../hosts/host-service';
import { formatPercent, summarize, tQuantile } from '../stats';
import { planInstall, type PackageManager } from './package-install';
import { buildPreflightScript, parsePreflightOutput, type ParsedPreflight } from './preflight-script';

export { installTools, planInstall, type InstallPlan, type InstallRecord, type PackageManager } from './package-install';

export interface PreflightRequest {
  /** Inventory host names the experiment measures on. */
  hosts: string[];
  /** Programs each host needs (e.g. { h1: ['iperf3'], h2: ['iperf3'] }). */
  tools: Record<string, string[]>;
  /** Ports the runner will allocate per host (a range), to check none is in use. */
  ports?: Record<string, { from: number; to: number }>;
}

export type PreflightSeverity = 'error' | 'warning' | 'info';

export interface PreflightFinding {
  severity: PreflightSeverity;
  /** 'unreachable', 'unknown-host', 'preflight-failed', 'not-privileged', 'tool-missing', 'governor', 'busy-host',
   *  'mtu-mismatch', 'offload-mismatch', 'offloads-unknown', 'port-in-use', 'noisy'. */
  code: string;
  host: string | null;
  /** Names the host and the thing. */
  message: string;
  /** What to do about it. */
  fix: string;
  details?: Record<string, unknown>;
}

export interface PreflightNic {
  name: string;
  mtu: number | null;
  /** gso/gro/tso; empty when ethtool is missing on the host. */
  offloads: Record<string, 'on' | 'off'>;
  /** Carries the address cnlab's SSH connection reached (else the default-route NIC). */
  management: boolean;
  physical: boolean;
}

export interface HostPreflightState {
  host: string;
  reachable: boolean;
  /** 'root', 'sudo', 'none', or 'unknown' when the host could not be reached. */
  privilege: string;
  /** The login user (for sudo: the user who sudoes). */
  user: string | null;
  /** tool → its path on the host, or null when `command -v` does not find it. */
  tools: Record<string, string | null>;
  packageManager: PackageManager | null;
  /** Distinct CPU frequency governors; empty when the host exposes none (VMs, containers). */
  governors: string[];
  busyProcesses: { pid: number; command: string; cpuPercent: number }[];
  loadAverage: number[];
  cpuCount: number | null;
  nics: PreflightNic[];
  /** Listening TCP/UDP ports on the host (all of them, not only the requested range). */
  portsInUse: number[];
}

export interface PreflightReport {
  checkedAt: string;
  /** No error findings. */
  ok: boolean;
  findings: PreflightFinding[];
  hosts: HostPreflightState[];
}

export interface PreflightOptions {
  signal?: AbortSignal;
  /** A process at or above this share of one core counts as heavy (default 20%). */
  busyThresholdPercent?: number;
  /** Whole-script limit per host. */
  timeoutMs?: number;
}

/** What runPreflight needs of the HostService (a test double provides just this). */
export type PreflightHosts = Pick<HostService, 'executor'>;

const DEFAULT_BUSY_PERCENT = 20;
const DEFAULT_TIMEOUT_MS = 60_000;
const SEVERITY_ORDER: Record<PreflightSeverity, number> = { error: 0, warning: 1, info: 2 };

// ---------------------------------------------------------------------------------------------
// The shell: one script per host, all hosts at once; a failing host never stops the others.

export async function runPreflight(hosts: PreflightHosts, request: PreflightRequest, options: PreflightOptions = {}): Promise<PreflightReport> {
  const names = checkedHosts(request);
  // Refuse a malformed request before touching any host.
  for (const name of names) buildPreflightScript(scriptOptions(request, name));
  const checkedAt = new Date().toISOString();
  const settled = await Promise.allSettled(names.map((name) => checkHost(hosts, name, request, options)));
  throwIfAborted(options.signal);
  const states: HostPreflightState[] = [];
  const findings: PreflightFinding[] = [];
  settled.forEach((outcome, index) => {
    const name = names[index] ?? '?';
    if (outcome.status === 'fulfilled') {
      states.push(outcome.value.state);
      findings.push(...outcome.value.findings);
      return;
    }
    const error = toCnlabError(outcome.reason, `preflight of ${name}`);
    if (error.code === 'cancelled') throw error;
    states.push(unreachableState(name));
    findings.push(unreachableFinding(name, error));
  });
  findings.push(...mtuFindings(states), ...hostOffloadFindings(states));
  return { checkedAt, ok: !findings.some((finding) => finding.severity === 'error'), findings: sortFindings(findings), hosts: states };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CnlabError('cancelled', 'the preflight was cancelled');
}

/** Every host the request names, in a stable order: the measured hosts first. */
export function checkedHosts(request: PreflightRequest): string[] {
  const names = [...request.hosts, ...Object.keys(request.tools), ...Object.keys(request.ports ?? {})];
  return [...new Set(names)];
}

function scriptOptions(request: PreflightRequest, host: string): Parameters<typeof buildPreflightScript>[0] {
  const ports = request.ports?.[host];
  return { tools: [...new Set(request.tools[host] ?? [])], ...(ports ? { ports } : {}) };
}

/** The SSH layer's codes for "could not talk to the host at all". */
const CONNECTION_ERRORS: ReadonlySet<CnlabError['code']> = new Set([
  'host-unreachable',
  'connection-refused',
  'dns-failure',
  'connect-timeout',
  'auth-failed',
  'key-encrypted',
  'key-unreadable',
  'host-key-unknown',
  'host-key-changed',
  'host-key-revoked',
  'connection-lost',
]);

/** Connection errors reject (→ 'unreachable'); errors of the script itself become 'preflight-failed'. */
async function checkHost(
  hosts: PreflightHosts,
  name: string,
  request: PreflightRequest,
  options: PreflightOptions,
): Promise<{ state: HostPreflightState; findings: PreflightFinding[] }> {
  const executor = hosts.executor(name);
  const privilege = await executor.privilege();
  const privileged = privilege.kind !== 'none';
  let parsed: ParsedPreflight;
  let exitCode: number | null;
  try {
    const result = await executor.runScript(buildPreflightScript(scriptOptions(request, name)), {
      privileged,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    exitCode = result.code;
    parsed = parsePreflightOutput(result.stdout);
  } catch (error) {
    const failure = toCnlabError(error);
    // A host that went down after an earlier connection fails here, not in privilege(): still unreachable.
    if (failure.code === 'cancelled' || CONNECTION_ERRORS.has(failure.code)) throw failure;
    return { state: { ...unreachableState(name), reachable: true, ...privilegeOf(privilege) }, findings: [scriptFailedFinding(name, failure)] };
  }
  const state = toHostState(name, privilege, parsed, options.busyThresholdPercent ?? DEFAULT_BUSY_PERCENT);
  const findings = hostFindings(state, parsed, request, options.busyThresholdPercent ?? DEFAULT_BUSY_PERCENT);
  if (!parsed.complete || exitCode !== 0) {
    findings.push({
      severity: 'warning',
      code: 'preflight-incomplete',
      host: name,
      message: `the preflight script on ${name} ${parsed.complete ? `exited with ${exitCode ?? 'a signal'}` : 'stopped before its end'}: some checks may be missing`,
      fix: `run it again; if it keeps failing, check that ${name} has a POSIX sh, awk and /proc`,
    });
  }
  return { state, findings };
}

function privilegeOf(privilege: Privilege): Pick<HostPreflightState, 'privilege' | 'user'> {
  return { privilege: privilege.kind, user: privilege.kind === 'root' ? 'root' : privilege.user };
}

function unreachableState(host: string): HostPreflightState {
  return {
    host,
    reachable: false,
    privilege: 'unknown',
    user: null,
    tools: {},
    packageManager: null,
    governors: [],
    busyProcesses: [],
    loadAverage: [],
    cpuCount: null,
    nics: [],
    portsInUse: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Pure: parsed output → state and findings.

/** Processes of the preflight itself (its shell, its children, the login chain above it) never count. */
function foreignProcesses(busy: ParsedPreflight['busy']): ParsedPreflight['busy']['processes'] {
  const own = new Set<number>([...(busy.self !== null ? [busy.self] : []), ...busy.ancestors]);
  return busy.processes.filter((process) => !own.has(process.pid) && (busy.self === null || process.ppid !== busy.self));
}

export function toHostState(host: string, privilege: Privilege, parsed: ParsedPreflight, busyThresholdPercent = DEFAULT_BUSY_PERCENT): HostPreflightState {
  const nics = parsed.nics
    .filter((nic) => nic.operstate !== 'down' && nic.operstate !== 'lowerlayerdown')
    .map((nic) => ({ name: nic.name, mtu: nic.mtu, offloads: { ...nic.offloads }, management: nic.role === 'management', physical: nic.physical }));
  // Without an SSH address (a local host) the default-route NIC is the underlay.
  if (!nics.some((nic) => nic.management)) {
    const fallback = parsed.nics.find((nic) => nic.role === 'default');
    const nic = nics.find((candidate) => candidate.name === fallback?.name);
    if (nic) nic.management = true;
  }
  return {
    host,
    reachable: true,
    ...privilegeOf(privilege),
    tools: parsed.tools,
    packageManager: parsed.packageManager,
    governors: [...new Set(Object.values(parsed.governors))].sort(),
    busyProcesses: foreignProcesses(parsed.busy)
      .filter((process) => process.cpuPercent >= busyThresholdPercent)
      .sort((a, b) => b.cpuPercent - a.cpuPercent)
      .map(({ pid, command, cpuPercent }) => ({ pid, command, cpuPercent })),
    loadAverage: parsed.loadAverage,
    cpuCount: parsed.cpuCount,
    nics,
    portsInUse: [...new Set(parsed.listening.map((socket) => socket.port))].sort((a, b) => a - b),
  };
}

/** Pure: the findings about one reachable host. */
export function hostFindings(state: HostPreflightState, parsed: ParsedPreflight, request: PreflightRequest, busyThresholdPercent = DEFAULT_BUSY_PERCENT): PreflightFinding[] {
  return [
    ...privilegeFindings(state),
    ...toolFindings(state),
    ...governorFindings(state, parsed),
    ...busyFindings(state, busyThresholdPercent),
    ...offloadsUnknownFindings(state, parsed),
    ...portFindings(state.host, parsed, request.ports?.[state.host]),
  ];
}

function privilegeFindings(state: HostPreflightState): PreflightFinding[] {
  if (state.privilege !== 'none') return [];
  const user = state.user ?? 'the login user';
  return [
    {
      severity: 'error',
      code: 'not-privileged',
      host: state.host,
      message: `${state.host}: user ${user} is neither root nor allowed passwordless sudo, and experiments create namespaces, links and qdiscs`,
      fix: `log in to ${state.host} as root, or allow ${user} passwordless sudo (a sudoers line \`${user} ALL=(ALL) NOPASSWD: ALL\`)`,
      details: { user },
    },
  ];
}

function toolFindings(state: HostPreflightState): PreflightFinding[] {
  const missing = Object.entries(state.tools)
    .filter(([, path]) => path === null)
    .map(([tool]) => tool);
  if (missing.length === 0) return [];
  const plan = planInstall(state.packageManager, missing);
  const asWho = state.privilege === 'none' ? ' once it can log in as root or with sudo' : '';
  const offer = plan.packages.length
    ? `cnlab can install ${plan.packages.join(', ')} with ${state.packageManager} on ${state.host}${asWho} if you agree (recorded in the run)`
    : '';
  const unavailable = plan.unavailable.map(({ tool, reason }) => `${tool}: ${reason}`);
  const fix = [offer, ...plan.notes, ...unavailable].filter(Boolean).join('; ');
  return [
    {
      severity: 'error',
      code: 'tool-missing',
      host: state.host,
      message: `${state.host} lacks ${missing.join(', ')} (not found by \`command -v\`)`,
      fix: fix || `install ${missing.join(', ')} on ${state.host}`,
      details: { missing, packageManager: state.packageManager, installable: plan.byTool, packages: plan.packages, unavailable: plan.unavailable, notes: plan.notes },
    },
  ];
}

function governorFindings(state: HostPreflightState, parsed: ParsedPreflight): PreflightFinding[] {
  const entries = Object.entries(parsed.governors);
  if (entries.length === 0) {
    return [
      {
        severity: 'info',
        code: 'governor',
        host: state.host,
        message: `${state.host} exposes no CPU frequency governor (usual in VMs and containers): the clock is set outside it`,
        fix: `if ${state.host} is a VM, set the physical host's governor to performance; otherwise nothing to do`,
      },
    ];
  }
  const slow = entries.filter(([, governor]) => governor !== 'performance');
  if (slow.length === 0) return [];
  const kinds = [...new Set(slow.map(([, governor]) => governor))].sort();
  return [
    {
      severity: 'warning',
      code: 'governor',
      host: state.host,
      message: `${state.host}: CPU frequency governor is ${kinds.join('/')} on ${slow.length} of ${entries.length} CPUs, not performance: the clock follows the load and skews throughput and latency`,
      fix: `on ${state.host}: \`cpupower frequency-set -g performance\` (or write performance to /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor) before measuring`,
      details: { governors: parsed.governors },
    },
  ];
}

function busyFindings(state: HostPreflightState, threshold: number): PreflightFinding[] {
  if (state.busyProcesses.length === 0) return [];
  const shown = state.busyProcesses.slice(0, 5).map((process) => `pid ${process.pid} (${clip(process.command, 80)}) at ${Math.round(process.cpuPercent)}% of a core`);
  const more = state.busyProcesses.length > 5 ? ` and ${state.busyProcesses.length - 5} more` : '';
  return [
    {
      severity: 'warning',
      code: 'busy-host',
      host: state.host,
      message: `${state.host} runs other heavy processes: ${shown.join(', ')}${more}; they compete with the load generators for CPU`,
      fix: `stop or pause them on ${state.host} while measuring (or measure on an idle host); only processes cnlab started itself are ever stopped by cnlab`,
      details: { thresholdPercent: threshold, processes: state.busyProcesses, loadAverage: state.loadAverage, cpuCount: state.cpuCount },
    },
  ];
}

function offloadsUnknownFindings(state: HostPreflightState, parsed: ParsedPreflight): PreflightFinding[] {
  if (parsed.ethtool || state.nics.length === 0) return [];
  return [
    {
      severity: 'info',
      code: 'offloads-unknown',
      host: state.host,
      message: `${state.host} has no ethtool: its NICs' offload settings (GSO/GRO/TSO) are unknown and not recorded`,
      fix: `install ethtool on ${state.host} (package ethtool) so the run records them`,
    },
  ];
}

function portFindings(host: string, parsed: ParsedPreflight, range: { from: number; to: number } | undefined): PreflightFinding[] {
  if (!range) return [];
  return parsed.listening
    .filter((socket) => socket.port >= range.from && socket.port <= range.to)
    .map((socket) => {
      const owners = socket.owners.map((owner) => `pid ${owner.pid} (${owner.command})`).join(', ');
      return {
        severity: 'warning' as const,
        code: 'port-in-use',
        host,
        message: `${host}: ${socket.protocol.toUpperCase()} port ${socket.port}, in the range ${range.from}–${range.to} the experiment uses, is already in use${owners ? ` by ${owners}` : ''}`,
        fix: `stop what listens on ${host} port ${socket.port}${owners ? ` (${owners})` : ''}, or give the experiment a port range without it`,
        details: { protocol: socket.protocol, port: socket.port, owners: socket.owners, range },
      };
    });
}

function unreachableFinding(host: string, error: CnlabError): PreflightFinding {
  if (error.code === 'not-found') {
    return { severity: 'error', code: 'unknown-host', host, message: error.message, fix: `add ${host} with \`cnlab hosts add ${host} --address …\`, or fix the host name in the experiment` };
  }
  const fixes: Partial<Record<CnlabError['code'], string>> = {
    'host-key-unknown': `check the fingerprint shown, then trust it with \`cnlab hosts check ${host} --trust-new-key\``,
    'host-key-changed': `find out why ${host}'s host key changed before trusting it (reinstall, or someone in between)`,
    'host-key-revoked': `${host}'s host key is revoked: use another host or a new key`,
    'auth-failed': `fix the user, key or password of ${host} in the inventory (\`cnlab hosts check ${host}\` tests it)`,
  };
  return {
    severity: 'error',
    code: 'unreachable',
    host,
    message: `${host} cannot be reached over SSH (${error.code}): ${error.message}`,
    fix: fixes[error.code] ?? `check that ${host} is up and its sshd answers (\`cnlab hosts check ${host}\`), or take it out of the experiment`,
    details: { errorCode: error.code },
  };
}

function scriptFailedFinding(host: string, error: CnlabError): PreflightFinding {
  return {
    severity: 'error',
    code: 'preflight-failed',
    host,
    message: `the preflight script on ${host} failed (${error.code}): ${error.message}`,
    fix: `check that ${host} answers (\`cnlab hosts check ${host}\`) and has a POSIX sh, awk and /proc, then run the preflight again`,
    details: { errorCode: error.code },
  };
}

/** The NIC whose MTU and offloads the path between hosts goes through. */
function underlayNic(state: HostPreflightState): PreflightNic | undefined {
  return state.nics.find((nic) => nic.management);
}

/** Pure: warns when the hosts' management/underlay NICs have different MTUs. */
export function mtuFindings(states: readonly HostPreflightState[]): PreflightFinding[] {
  const seen = states
    .filter((state) => state.reachable)
    .map((state) => ({ host: state.host, nic: underlayNic(state) }))
    .filter((entry): entry is { host: string; nic: PreflightNic & { mtu: number } } => entry.nic?.mtu != null);
  const mtus = [...new Set(seen.map((entry) => entry.nic.mtu))];
  if (mtus.length < 2) return [];
  const listed = seen.map((entry) => `${entry.host} ${entry.nic.name} ${entry.nic.mtu}`).join(', ');
  const smallest = Math.min(...mtus);
  return [
    {
      severity: 'warning',
      code: 'mtu-mismatch',
      host: null,
      message: `the hosts' underlay NICs have different MTUs (${listed}): packets above ${smallest} bytes are fragmented or dropped on the way, which skews throughput and overlay results`,
      fix: `set one MTU on all of them (\`ip link set dev NIC mtu ${smallest}\`, and in each host's network configuration), or give the topology's networks an MTU that fits ${smallest}`,
      details: { nics: seen.map((entry) => ({ host: entry.host, nic: entry.nic.name, mtu: entry.nic.mtu })) },
    },
  ];
}

/** Pure: warns when the hosts' underlay NICs differ in GSO/GRO/TSO (a path then mixes two regimes). */
export function hostOffloadFindings(states: readonly HostPreflightState[]): PreflightFinding[] {
  const byHost: Record<string, Record<string, 'on' | 'off'>> = {};
  for (const state of states) {
    const nic = state.reachable ? underlayNic(state) : undefined;
    if (nic && Object.keys(nic.offloads).length) byHost[`${state.host} ${nic.name}`] = nic.offloads;
  }
  return differingFeatures(byHost).map(({ feature, values }) => ({
    severity: 'warning',
    code: 'offload-mismatch',
    host: null,
    message: `${feature.toUpperCase()} differs between the hosts' underlay NICs (${describe(values)}): each direction of a measurement runs under different offloads`,
    fix: `set ${feature} the same on all of them (\`ethtool -K NIC ${feature} on\` or off) before measuring`,
    details: { feature, values },
  }));
}

/** Features whose value is not the same in every group that reports them. */
function differingFeatures(groups: Record<string, Record<string, 'on' | 'off'>>): { feature: string; values: Record<string, 'on' | 'off'> }[] {
  const features = [...new Set(Object.values(groups).flatMap((settings) => Object.keys(settings)))].sort();
  const out: { feature: string; values: Record<string, 'on' | 'off'> }[] = [];
  for (const feature of features) {
    const values: Record<string, 'on' | 'off'> = {};
    for (const [group, settings] of Object.entries(groups)) {
      const value = settings[feature];
      if (value) values[group] = value;
    }
    if (new Set(Object.values(values)).size > 1) out.push({ feature, values });
  }
  return out;
}

function describe(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([group, value]) => `${group} ${value}`)
    .join(', ');
}

/**
 * Pure: compares offload settings of the endpoints' interfaces between modes (the runner records them
 * per mode after apply). byMode: mode → setting → on/off, where a setting is a feature name such as
 * 'gro', or qualified by the runner (e.g. 'h1 eth0 gro'); the last word is taken as the ethtool feature.
 */
export function compareOffloads(byMode: Record<string, Record<string, 'on' | 'off'>>): PreflightFinding[] {
  return differingFeatures(byMode).map(({ feature, values }) => {
    const ethtoolName = feature.split(/[\s:/]+/).pop() ?? feature;
    return {
      severity: 'warning',
      code: 'offload-mismatch',
      host: null,
      message: `offload ${feature} differs between the compared modes (${describe(values)}): their throughput and CPU cost are not measured under the same offloads`,
      fix: `set ${ethtoolName} the same in every mode (\`ethtool -K DEV ${ethtoolName} on\` or off on the endpoints' interfaces), or read the comparison knowing the difference`,
      details: { setting: feature, byMode: values },
    };
  });
}

export interface NoiseOptions {
  /** Target 95% CI half-width as a fraction of the mean (default 0.05, ±5%). */
  targetRelativeHalfWidth?: number;
}

/** Repetition counts searched for one that reaches the target; beyond it the answer is "more than this". */
const MAX_SUGGESTED_REPETITIONS = 1000;

/** The expected 95% CI half-width, relative to the mean, of n samples with this coefficient of variation. */
function relativeHalfWidth(cv: number, n: number): number {
  return n < 2 ? Infinity : (tQuantile(0.975, n - 1) * cv) / Math.sqrt(n);
}

/**
 * Pure: from the warm-up samples of a cell and the planned repetitions, warns when the warm-up's CV says
 * the planned repetitions cannot reach the target interval. Null when they can, or when there is no
 * spread to judge (fewer than 2 warm-up samples, or a mean of 0).
 */
export function noiseFinding(cellLabel: string, warmupValues: number[], repetitions: number, options: NoiseOptions = {}): PreflightFinding | null {
  const target = options.targetRelativeHalfWidth ?? 0.05;
  if (warmupValues.length < 2) return null;
  const summary = summarize(warmupValues, { label: `warm-up of ${cellLabel}` });
  if (summary.cv === null || summary.cv === 0) return null;
  const expected = relativeHalfWidth(summary.cv, repetitions);
  if (expected <= target) return null;
  let needed: number | null = null;
  for (let n = Math.max(2, repetitions + 1); n <= MAX_SUGGESTED_REPETITIONS; n++) {
    if (relativeHalfWidth(summary.cv, n) <= target) {
      needed = n;
      break;
    }
  }
  const reach = Number.isFinite(expected) ? `about ±${formatPercent(expected)} of the mean` : 'no interval at all';
  return {
    severity: 'warning',
    code: 'noisy',
    host: null,
    message: `cell ${cellLabel}: the warm-up varied with CV ${formatPercent(summary.cv)} over ${summary.n} runs, so ${repetitions} repetition${repetitions === 1 ? '' : 's'} give ${reach} (target ±${formatPercent(target)})`,
    fix: needed
      ? `raise the repetitions to ${needed} (or use adaptive repetitions), or remove the source of the noise (busy host, governor, shared NIC)`
      : `remove the source of the noise first (busy host, governor, shared NIC): even ${MAX_SUGGESTED_REPETITIONS} repetitions would not reach ±${formatPercent(target)}`,
    details: { cv: summary.cv, warmupRuns: summary.n, repetitions, expectedRelativeHalfWidth: Number.isFinite(expected) ? expected : null, suggestedRepetitions: needed, target },
  };
}

function sortFindings(findings: PreflightFinding[]): PreflightFinding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.index - b.index)
    .map(({ finding }) => finding);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** For callers that show a finding as one line (CLI). */
export function formatFinding(finding: PreflightFinding): string {
  return `${finding.severity}: ${finding.message} — fix: ${finding.fix}`;
}
