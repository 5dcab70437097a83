// Which package brings a tool, per package manager, and the install that preflight offers for missing
// tools. The install runs only after the user said yes; what ran is returned so the run can record it.
import { CnlabError, isCnlabError } from '../errors';
import type { HostExecutor } from '../exec/executor';
import type { HostService } from '../hosts/host-service';
import { quoteShellArg, shellCommand } from '../shell/quote';

export type PackageManager = 'apt' | 'dnf' | 'zypper' | 'apk';
export const PACKAGE_MANAGERS: readonly PackageManager[] = ['apt', 'dnf', 'zypper', 'apk'];

/** The program that tells each manager apart on a host, in the order they are looked for. */
export const PACKAGE_MANAGER_PROGRAMS: Record<PackageManager, string> = { apt: 'apt-get', dnf: 'dnf', zypper: 'zypper', apk: 'apk' };

/** One tool under one manager: its package, or null with why it is not offered. */
export interface PackageChoice {
  package: string | null;
  /** Said to the user next to the install (a non-default repository) or instead of it (no package). */
  note?: string;
}

type PackageTable = Record<string, Partial<Record<PackageManager, PackageChoice>>>;

// Only names checked against the distributions' archives are listed: a wrong name would offer an
// install that fails, so an unlisted tool is reported as "no known package" instead.
const PACKAGES: PackageTable = {
  iperf3: { apt: { package: 'iperf3' }, dnf: { package: 'iperf3' }, zypper: { package: 'iperf', note: "openSUSE's iperf package is iperf3" }, apk: { package: 'iperf3' } },
  sockperf: {
    apt: { package: 'sockperf', note: 'sockperf is in Debian main and Ubuntu universe; older releases may lack it' },
    dnf: { package: 'sockperf', note: 'sockperf is in Fedora; RHEL-family hosts need EPEL' },
    zypper: { package: null, note: 'cnlab knows no openSUSE package for sockperf: build it from https://github.com/Mellanox/sockperf' },
    apk: { package: null, note: 'cnlab knows no Alpine package for sockperf: build it from https://github.com/Mellanox/sockperf' },
  },
  netperf: {
    apt: { package: 'netperf', note: "netperf is in Debian's non-free component (Ubuntu: multiverse): enable it in the apt sources first" },
    dnf: { package: null, note: 'cnlab knows no Fedora/RHEL package for netperf: build it from https://github.com/HewlettPackard/netperf or choose iperf3/sockperf' },
    zypper: { package: null, note: 'cnlab knows no openSUSE package for netperf in the main repositories: build it from source or choose iperf3' },
    apk: { package: null, note: 'cnlab knows no Alpine package for netperf: build it from source or choose iperf3' },
  },
  ping: { apt: { package: 'iputils-ping' }, dnf: { package: 'iputils' }, zypper: { package: 'iputils' }, apk: { package: 'iputils' } },
  ip: { apt: { package: 'iproute2' }, dnf: { package: 'iproute' }, zypper: { package: 'iproute2' }, apk: { package: 'iproute2' } },
  tc: { apt: { package: 'iproute2' }, dnf: { package: 'iproute-tc' }, zypper: { package: 'iproute2' }, apk: { package: 'iproute2' } },
  ethtool: { apt: { package: 'ethtool' }, dnf: { package: 'ethtool' }, zypper: { package: 'ethtool' }, apk: { package: 'ethtool' } },
  nft: { apt: { package: 'nftables' }, dnf: { package: 'nftables' }, zypper: { package: 'nftables' }, apk: { package: 'nftables' } },
  iptables: { apt: { package: 'iptables' }, dnf: { package: 'iptables' }, zypper: { package: 'iptables' }, apk: { package: 'iptables' } },
  tcpdump: { apt: { package: 'tcpdump' }, dnf: { package: 'tcpdump' }, zypper: { package: 'tcpdump' }, apk: { package: 'tcpdump' } },
  qperf: { apt: { package: 'qperf' }, dnf: { package: 'qperf' } },
  mpstat: { apt: { package: 'sysstat' }, dnf: { package: 'sysstat' }, zypper: { package: 'sysstat' }, apk: { package: 'sysstat' } },
  perf: { apt: { package: 'linux-perf' }, dnf: { package: 'perf' }, zypper: { package: 'perf' }, apk: { package: 'perf' } },
  bird: { apt: { package: 'bird2' }, dnf: { package: 'bird' }, zypper: { package: 'bird' }, apk: { package: 'bird' } },
  etcd: { apt: { package: 'etcd-server' } },
  etcdctl: { apt: { package: 'etcd-client' } },
};

export function packageFor(manager: PackageManager, tool: string): PackageChoice {
  return PACKAGES[tool]?.[manager] ?? { package: null, note: `cnlab knows no ${manager} package that provides ${tool}: install it by hand` };
}

export interface InstallPlan {
  packageManager: PackageManager | null;
  /** Distinct packages to install, in the order of the tools that need them. */
  packages: string[];
  /** tool → package, for the tools that have one. */
  byTool: Record<string, string>;
  /** Tools cnlab cannot offer to install, with why. */
  unavailable: { tool: string; reason: string }[];
  /** Notes about repositories the packages come from. */
  notes: string[];
}

/** Pure: which packages would bring `tools` on a host with `manager` (null: no known manager). */
export function planInstall(manager: PackageManager | null, tools: readonly string[]): InstallPlan {
  const plan: InstallPlan = { packageManager: manager, packages: [], byTool: {}, unavailable: [], notes: [] };
  for (const tool of tools) {
    if (!manager) {
      plan.unavailable.push({ tool, reason: 'the host has none of apt-get, dnf, zypper, apk' });
      continue;
    }
    const choice = packageFor(manager, tool);
    if (!choice.package) {
      plan.unavailable.push({ tool, reason: choice.note ?? `no known ${manager} package` });
      continue;
    }
    plan.byTool[tool] = choice.package;
    if (!plan.packages.includes(choice.package)) plan.packages.push(choice.package);
    if (choice.note && !plan.notes.includes(choice.note)) plan.notes.push(choice.note);
  }
  return plan;
}

export interface InstallCommands {
  install: string;
  /** Refreshes the package index; run once, then the install again, only when the first install failed. */
  refresh: string | null;
}

// DPkg::Lock::Timeout makes apt wait for another apt (unattended-upgrades) instead of failing at once.
/** Pure: the command lines for one manager; every package name goes through the quoting function. */
export function installCommands(manager: PackageManager, packages: readonly string[]): InstallCommands {
  if (packages.length === 0) throw new CnlabError('invalid-input', 'nothing to install: the package list is empty');
  const names = shellCommand(packages);
  switch (manager) {
    case 'apt':
      return {
        install: `DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 ${names}`,
        refresh: 'DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120',
      };
    case 'dnf':
      // dnf refreshes stale metadata by itself.
      return { install: `dnf install -y ${names}`, refresh: null };
    case 'zypper':
      return { install: `zypper --non-interactive install --no-recommends ${names}`, refresh: 'zypper --non-interactive refresh' };
    case 'apk':
      return { install: `apk add --no-progress ${names}`, refresh: 'apk update --no-progress' };
  }
}

/** The sh snippet that prints the first package manager found (its cnlab name), or nothing. */
export function detectManagerScript(): string {
  return PACKAGE_MANAGERS.map(
    (manager) => `if command -v ${quoteShellArg(PACKAGE_MANAGER_PROGRAMS[manager])} >/dev/null 2>&1; then echo ${manager}; exit 0; fi`,
  ).join('\n');
}

export function parseManager(text: string): PackageManager | null {
  const word = text.trim().split(/\s+/)[0] ?? '';
  return PACKAGE_MANAGERS.find((manager) => manager === word) ?? null;
}

export interface InstallRecord {
  host: string;
  packageManager: string;
  packages: string[];
  /** Every command that ran, in order, with its exit code (null: it did not finish) and the end of its output. */
  commands: { command: string; exitCode: number | null; outputTail?: string }[];
  /** Tools no package was offered for, with why: the install does not cover them. */
  unavailable: { tool: string; reason: string }[];
  /** Tools still missing after the install (checked with `command -v`). */
  stillMissing: string[];
  ok: boolean;
}

const INSTALL_TIMEOUT_MS = 10 * 60_000;
const CHECK_TIMEOUT_MS = 30_000;

export const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

function checkToolNames(tools: readonly string[]): void {
  for (const tool of tools) {
    if (!TOOL_NAME.test(tool)) {
      throw new CnlabError('invalid-input', `tool name ${JSON.stringify(tool)} is not a program name: use letters, digits, ".", "_", "+" or "-"`);
    }
  }
}

function tail(text: string, max = 2000): string {
  const trimmed = text.trim();
  return trimmed.length > max ? trimmed.slice(-max) : trimmed;
}

async function runRecorded(
  executor: HostExecutor,
  command: string,
  record: InstallRecord['commands'],
  signal: AbortSignal | undefined,
): Promise<number | null> {
  try {
    const result = await executor.exec(command, { privileged: true, timeoutMs: INSTALL_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    record.push({ command, exitCode: result.code, outputTail: tail(`${result.stdout}\n${result.stderr}`) });
    return result.code;
  } catch (error) {
    // Recorded before it propagates: the run keeps what was attempted even when it was cut off.
    record.push({ command, exitCode: null, outputTail: isCnlabError(error) ? error.message : String(error) });
    throw error;
  }
}

/** Which of `tools` `command -v` does not find on the host. */
async function missingTools(executor: HostExecutor, tools: readonly string[], signal: AbortSignal | undefined): Promise<string[]> {
  const checks = tools.map((tool) => `command -v ${quoteShellArg(tool)} >/dev/null 2>&1 || echo ${quoteShellArg(tool)}`).join('\n');
  const result = await executor.exec(checks, { privileged: true, timeoutMs: CHECK_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  return result.stdout.split('\n').map((line) => line.trim()).filter((line) => tools.includes(line));
}

/**
 * Installs missing tools with the host's package manager. Call it only after the user agreed: it changes
 * the host. Throws (CnlabError) when the host cannot be reached or is not privileged; an install that
 * ran and failed is returned with ok = false and its exit codes.
 */
export async function installTools(
  hosts: Pick<HostService, 'executor'>,
  host: string,
  tools: string[],
  options: { signal?: AbortSignal } = {},
): Promise<InstallRecord> {
  checkToolNames(tools);
  const executor = hosts.executor(host);
  const signal = options.signal;
  const detected = await executor.exec(detectManagerScript(), { timeoutMs: CHECK_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  const manager = parseManager(detected.stdout);
  const plan = planInstall(manager, tools);
  const record: InstallRecord = {
    host,
    packageManager: manager ?? 'none',
    packages: plan.packages,
    commands: [],
    unavailable: plan.unavailable,
    stillMissing: [],
    ok: false,
  };
  if (!manager || plan.packages.length === 0) {
    record.stillMissing = tools.length ? await missingTools(executor, tools, signal) : [];
    return record;
  }
  const commands = installCommands(manager, plan.packages);
  let code = await runRecorded(executor, commands.install, record.commands, signal);
  // A stale or empty package index is the usual reason a first install fails; refresh once and retry.
  if (code !== 0 && commands.refresh) {
    await runRecorded(executor, commands.refresh, record.commands, signal);
    code = await runRecorded(executor, commands.install, record.commands, signal);
  }
  record.stillMissing = await missingTools(executor, tools, signal);
  record.ok = code === 0 && record.stillMissing.length === 0 && plan.unavailable.length === 0;
  return record;
}
