// Link shaping with tc: rate limits (tbf, or htb with one class where the kernel lacks tbf) and delay,
// jitter and loss (netem), each used only where the host's probed kernel has it.
//
// A network's `shaping` applies to every container link of the network, at both ends, as Mininet's
// links do: the host end of the veth shapes what goes towards the container, eth<k> in the namespace
// what the container sends. So `delay: 5ms` is 5 ms each way on each container link: two containers
// on one bridge see 10 ms one way, 20 ms round trip (each crosses two links). macvlan and ipvlan have
// no host end (shaping the parent would shape the host's NIC): only what the container sends is
// shaped there, which between two such containers is still each direction once. With backend cni the
// plugins name the host ends themselves, so container-link shaping is refused there for now.
//
// Ledger: a qdisc lives and dies with its device. Veths and namespace devices are deleted by the
// lab's teardown (their ledger entries), so their qdiscs need no entry of their own. Only a device
// that outlives the lab needs one: a host's underlay NIC (`underlayShaping`, never the management
// NIC). That entry's undo deletes the root qdisc by cnlab's own handle, so it never removes a qdisc
// someone set later, and the apply script's precheck refuses a NIC whose root qdisc is not the
// kernel's default (handle 0:), so it never replaces anyone's either.
import type { KernelFeature } from '../../hosts/host-facts';
import { shellCommand } from '../../shell/quote';
import { batchLine, type LedgerEntry, type PlannedContainer, type PlanStep, type StepCommand } from '../plan';
import { tcRateBitsPerSecond, tcTimeMicros, type NetworkMode, type ShapingSpec, type TopologySpec, type UnderlayShapingSpec } from '../topology-schema';
import { hostInfo, type HostInfo, type LabModel, type PlanInputs } from './common';

/** cnlab's root qdisc handle ("c1ab" for cnlab): undo deletes the root only while it is still this. */
export const ROOT_HANDLE = 'c1ab:';
/** The class of htb, and the parent of a child qdisc under netem or htb. */
const ROOT_CLASS = 'c1ab:1';
const CHILD_HANDLE = 'c1ac:';
/** tbf drops what waited longer than this in its queue (tc needs latency or limit). */
export const DEFAULT_LATENCY = '50ms';
/** Default burst: 4 ms at the rate (tc's usual rule of rate / HZ at HZ 250), at least 16 KiB. */
const BURST_MS = 4;
const MIN_DEFAULT_BURST = 16 * 1024;
/** netem's own default queue (packets); raised when a rate tells how much a delay keeps in flight. */
const NETEM_DEFAULT_LIMIT = 1000;

/** Modes whose links are veths: both ends are shaped. */
const VETH_MODES: ReadonlySet<NetworkMode> = new Set(['bridge', 'nat', 'vxlan', 'routed']);
/** Modes with a device stacked on a parent NIC: only the container's end is shaped. */
const STACKED_MODES: ReadonlySet<NetworkMode> = new Set(['macvlan', 'ipvlan']);

/** The fields of a shaping, for container links and underlays alike. */
export type Shaping = Omit<ShapingSpec, never>;

export type RateQdisc = 'tbf' | 'htb';

export function needsNetem(shaping: Shaping): boolean {
  return shaping.delay !== undefined || shaping.jitter !== undefined || shaping.loss !== undefined;
}

/** tbf where the kernel has it, else htb with one class; null when it has neither. */
export function rateQdiscOf(info: HostInfo): RateQdisc | null {
  if (info.facts.kernelFeatures.tbf?.supported === true) return 'tbf';
  if (info.facts.kernelFeatures.htb?.supported === true) return 'htb';
  return null;
}

export function defaultBurstBytes(rate: string): number {
  const bits = tcRateBitsPerSecond(rate) ?? 0;
  return Math.max(MIN_DEFAULT_BURST, Math.ceil((bits / 8) * (BURST_MS / 1000)));
}

/** Loss in percent as tc reads it: a plain number is a percentage there too ("0.5" = 0.5%). */
function lossWord(loss: number | string): string {
  return typeof loss === 'number' ? String(loss) : loss.slice(0, -1);
}

/** Enough netem queue for what the delay keeps in flight at the rate (1500-byte packets, twice over). */
function netemLimit(shaping: Shaping): number {
  const bits = shaping.rate === undefined ? null : tcRateBitsPerSecond(shaping.rate);
  const micros = (shaping.delay ? (tcTimeMicros(shaping.delay) ?? 0) : 0) + (shaping.jitter ? (tcTimeMicros(shaping.jitter) ?? 0) : 0);
  if (bits === null || micros === 0) return NETEM_DEFAULT_LIMIT;
  return Math.max(NETEM_DEFAULT_LIMIT, Math.ceil(((bits / 8) * (micros / 1e6) * 2) / 1500));
}

function netemWords(shaping: Shaping): (string | number)[] {
  const words: (string | number)[] = ['netem', 'limit', netemLimit(shaping)];
  if (shaping.delay !== undefined) words.push('delay', shaping.delay, ...(shaping.jitter !== undefined ? [shaping.jitter] : []));
  if (shaping.loss !== undefined) words.push('loss', lossWord(shaping.loss));
  return words;
}

/**
 * `tc -batch` lines that shape what leaves `dev`. With both a rate and netem, netem is the root and
 * the rate limiter its child (tc-netem(8)'s layout); htb, where tbf is missing, has one class that
 * holds netem as its child.
 */
export function shapingLines(dev: string, shaping: Shaping, rateQdisc: RateQdisc | null): string[] {
  const netem = needsNetem(shaping);
  const rate = shaping.rate;
  const lines: (string | number)[][] = [];
  const at = (where: 'root' | 'child'): (string | number)[] => (where === 'root' ? ['root', 'handle', ROOT_HANDLE] : ['parent', ROOT_CLASS, 'handle', CHILD_HANDLE]);
  if (rate === undefined) {
    lines.push(['qdisc', 'replace', 'dev', dev, ...at('root'), ...netemWords(shaping)]);
  } else {
    if (rateQdisc === null) throw new Error(`internal: a rate on ${dev} without tbf or htb reached the planner`);
    const burst = shaping.burst ?? defaultBurstBytes(rate);
    if (rateQdisc === 'tbf') {
      const tbf = ['tbf', 'rate', rate, 'burst', burst, 'latency', shaping.latency ?? DEFAULT_LATENCY];
      if (netem) lines.push(['qdisc', 'replace', 'dev', dev, ...at('root'), ...netemWords(shaping)], ['qdisc', 'replace', 'dev', dev, ...at('child'), ...tbf]);
      else lines.push(['qdisc', 'replace', 'dev', dev, ...at('root'), ...tbf]);
    } else {
      lines.push(['qdisc', 'replace', 'dev', dev, ...at('root'), 'htb', 'default', 1], ['class', 'replace', 'dev', dev, 'parent', ROOT_HANDLE, 'classid', ROOT_CLASS, 'htb', 'rate', rate, 'burst', burst]);
      if (netem) lines.push(['qdisc', 'replace', 'dev', dev, ...at('child'), ...netemWords(shaping)]);
    }
  }
  return lines.map((words) => batchLine(words));
}

/** Shaping as people write it, for step descriptions: "rate 50mbit, delay 5ms±1ms, loss 0.5%". */
export function describeShaping(shaping: Shaping): string {
  const parts: string[] = [];
  if (shaping.rate !== undefined) parts.push(`rate ${shaping.rate}`);
  if (shaping.delay !== undefined) parts.push(`delay ${shaping.delay}${shaping.jitter !== undefined ? `±${shaping.jitter}` : ''}`);
  if (shaping.loss !== undefined) parts.push(`loss ${lossWord(shaping.loss)}%`);
  return parts.join(', ');
}

function shapingOf(entry: UnderlayShapingSpec): Shaping {
  return { rate: entry.rate, burst: entry.burst, latency: entry.latency, delay: entry.delay, jitter: entry.jitter, loss: entry.loss };
}

/** The shaping step of one container: both ends of each shaped link, after its links are up. */
export function containerShapingStep(inputs: PlanInputs, container: PlannedContainer): PlanStep | null {
  if (container.netns === null) return null;
  const rateQdisc = rateQdiscOf(hostInfo(inputs, container.host));
  const hostLines: string[] = [];
  const netnsLines: string[] = [];
  const described: string[] = [];
  for (const entry of container.interfaces) {
    const network = inputs.model.networks.get(entry.network);
    const shaping = network?.shaping;
    if (!network || !shaping) continue;
    if (VETH_MODES.has(network.mode)) {
      if (entry.hostDevice === null) throw new Error(`internal: shaping of ${network.name} reached the planner without the host end of ${container.name}'s link`);
      hostLines.push(...shapingLines(entry.hostDevice, shaping, rateQdisc));
      netnsLines.push(...shapingLines(entry.ifname, shaping, rateQdisc));
      described.push(`${entry.ifname} and ${entry.hostDevice} (${network.name}: ${describeShaping(shaping)})`);
    } else if (STACKED_MODES.has(network.mode)) {
      netnsLines.push(...shapingLines(entry.ifname, shaping, rateQdisc));
      described.push(`${entry.ifname}, what it sends (${network.name}: ${describeShaping(shaping)})`);
    }
  }
  if (hostLines.length + netnsLines.length === 0) return null;
  const run: StepCommand[] = [];
  if (hostLines.length > 0) run.push({ kind: 'tc-batch', netns: null, lines: hostLines });
  if (netnsLines.length > 0) run.push({ kind: 'tc-batch', netns: container.netns, lines: netnsLines });
  return {
    id: `${container.name}/shaping`,
    phase: 'shaping',
    container: container.name,
    description: `shape ${described.join('; ')}`,
    // The qdiscs go with their devices: see the ledger note at the top of this file.
    creates: [],
    run,
  };
}

/** The NIC an underlay entry shapes: the one it names, else the host's underlay (its management NIC: refused). */
export function underlayNic(entry: UnderlayShapingSpec, info: HostInfo): string | null {
  return entry.nic ?? info.nic?.name ?? null;
}

/** Host-level steps shaping the host's underlay NICs (validated: never the management NIC). */
export function underlayShapingSteps(inputs: PlanInputs, host: string): PlanStep[] {
  const info = hostInfo(inputs, host);
  return (inputs.model.spec.underlayShaping ?? [])
    .filter((entry) => entry.host === host)
    .map((entry) => {
      const nic = underlayNic(entry, info);
      if (nic === null || nic === info.nic?.name) throw new Error(`internal: underlay shaping of host ${host} reached the planner without a non-management NIC`);
      const shaping = shapingOf(entry);
      const entryOfLedger: LedgerEntry = { kind: 'qdisc', name: nic, undo: shellCommand(['tc', 'qdisc', 'del', 'dev', nic, 'root', 'handle', ROOT_HANDLE]) };
      return {
        id: `host/underlay-shaping/${nic}`,
        phase: 'shaping' as const,
        description: `shape what leaves ${nic}, an underlay NIC of host ${host} (${describeShaping(shaping)})`,
        creates: [entryOfLedger],
        run: [{ kind: 'tc-batch' as const, netns: null, lines: shapingLines(nic, shaping, rateQdiscOf(info)) }],
      };
    });
}

/** The kernel features the shaping on a host depends on (part of the plan's fingerprint). */
export function shapingFeatures(model: LabModel, host: string): KernelFeature[] {
  const onNetworks = [...model.networks.values()].some((network) => network.shaping !== undefined && (model.hostsOf.get(network.name) ?? []).includes(host));
  const onUnderlay = (model.spec.underlayShaping ?? []).some((entry) => entry.host === host);
  return onNetworks || onUnderlay ? ['tbf', 'htb', 'netem'] : [];
}

/** Underlay entries naming hosts the topology does not list: a structural problem. */
export function underlayStructureProblems(spec: TopologySpec): string[] {
  return (spec.underlayShaping ?? [])
    .filter((entry) => !spec.hosts.includes(entry.host))
    .map((entry) => `underlayShaping names host ${entry.host}, which is not in the topology's hosts (${spec.hosts.join(', ')}): add it to hosts or fix the name`);
}

function unprobed(label: string, what: string, info: HostInfo, reason: string | undefined): string {
  return `${label}: ${what}, whose support on host ${info.name} could not be probed${reason ? ` (${reason})` : ''}: run \`cnlab hosts probe ${info.name}\` as root or with passwordless sudo so the probe can try it`;
}

/** Kernel support for one shaping on one host, decided from the host's probed facts only. */
function featureProblems(label: string, shaping: Shaping, info: HostInfo, where: string): string[] {
  const problems: string[] = [];
  const { tbf, htb, netem } = info.facts.kernelFeatures;
  if (shaping.rate !== undefined && rateQdiscOf(info) === null) {
    // tbf's reason is named: it is the one cnlab prefers.
    if (tbf?.supported === false && htb?.supported === false) {
      problems.push(
        `${label}: rate needs tbf or htb, which host ${info.name}'s kernel lacks${tbf.reason ? ` (${tbf.reason})` : ''}: remove rate from ${where}, or use a host whose kernel has sch_tbf or sch_htb`,
      );
    } else {
      problems.push(unprobed(label, 'rate needs tbf or htb', info, tbf?.reason ?? htb?.reason));
    }
  }
  if (needsNetem(shaping) && netem?.supported !== true) {
    if (netem?.supported === false) {
      problems.push(
        `${label}: delay/loss need netem, which host ${info.name}'s kernel lacks${netem.reason ? ` (${netem.reason})` : ''}: remove delay, jitter and loss from ${where}, or use a host whose kernel has sch_netem`,
      );
    } else {
      problems.push(unprobed(label, 'delay/loss need netem', info, netem?.reason));
    }
  }
  return problems;
}

function nicList(info: HostInfo): string {
  return info.facts.nics.map((nic) => nic.name).join(', ') || 'none found';
}

/** Refusals of shaping that a mode cannot carry or a host's kernel cannot do. */
export function shapingProblems(model: LabModel, hosts: ReadonlyMap<string, HostInfo>): string[] {
  const problems: string[] = [];
  for (const network of model.networks.values()) {
    const shaping = network.shaping;
    if (shaping === undefined) continue;
    const label = `network ${network.name}`;
    if (model.spec.backend === 'cni') {
      // The CNI plugins name the host end of each veth themselves, so cnlab cannot plan its qdisc.
      problems.push(`${label}: shaping is not available with backend cni yet (the CNI plugins name the host end of each link): use backend iproute2, or remove its shaping`);
      continue;
    }
    if (network.mode === 'none') {
      problems.push(`${label} (mode none) has no link to shape, only loopback: remove its shaping`);
      continue;
    }
    if (network.mode === 'host') {
      problems.push(
        `${label} (mode host) runs containers in the host's own namespace, whose NICs a network's shaping never touches: remove its shaping, or shape another NIC than the management one with underlayShaping`,
      );
      continue;
    }
    for (const hostName of model.hostsOf.get(network.name) ?? []) {
      const info = hosts.get(hostName);
      if (info) problems.push(...featureProblems(label, shaping, info, `the shaping of network ${network.name}`));
    }
  }
  const seen = new Set<string>();
  for (const entry of model.spec.underlayShaping ?? []) {
    const info = hosts.get(entry.host);
    if (!info) continue;
    const nicName = underlayNic(entry, info);
    const label = `underlayShaping of host ${entry.host}${nicName === null ? '' : ` (${nicName})`}`;
    if (nicName === null) {
      problems.push(`${label}: host ${entry.host} has no known underlay NIC: set nic to a NIC of the host that is not its management NIC`);
      continue;
    }
    const nic = info.facts.nics.find((candidate) => candidate.name === nicName);
    const carriesManagement = nic !== undefined && info.address !== null && nic.addresses.some((cidr) => cidr.split('/')[0] === info.address);
    if (nicName === info.nic?.name || nic?.isManagement === true || carriesManagement) {
      const others = info.facts.nics.filter((candidate) => candidate.name !== nicName && candidate.name !== 'lo' && !candidate.isManagement).map((candidate) => candidate.name);
      problems.push(
        `${label}: ${nicName} is host ${entry.host}'s management NIC${info.address ? ` (it carries ${info.address}, cnlab's connection to the host)` : ''}, and cnlab never changes the management NIC: ${
          others.length > 0 ? `set nic to another NIC of ${entry.host} (${others.join(', ')})` : `host ${entry.host} has no other NIC to shape`
        }, or shape the container links with the networks' shaping`,
      );
      continue;
    }
    if (nicName === 'lo' || nic?.kind === 'loopback') {
      problems.push(`${label}: ${nicName} is the loopback device, not an underlay: set nic to a NIC that carries lab traffic`);
      continue;
    }
    if (!nic) {
      problems.push(`${label}: nic ${nicName} does not exist on host ${entry.host} (its NICs: ${nicList(info)}): set nic to one of them`);
      continue;
    }
    const key = `${entry.host}\0${nicName}`;
    if (seen.has(key)) {
      problems.push(`${label}: ${nicName} of host ${entry.host} is shaped twice: merge the two entries`);
      continue;
    }
    seen.add(key);
    problems.push(...featureProblems(label, shapingOf(entry), info, `the underlayShaping entry of host ${entry.host}`));
  }
  return problems;
}
