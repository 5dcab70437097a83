// The plan: what cnlab will do on each host, as ordered steps, each naming the kernel objects it
// creates and how to remove them. Planners produce it (pure); the host runtime executes it.

/**
 * Where a step's time goes in launch-time breakdowns (Table VI of Suo et al.). `first-reply` is a
 * measurement, not a change: the time from a container's link being up until it gets its first ping
 * reply (timed applies only).
 */
export type StepPhase = 'host' | 'netns' | 'links' | 'addresses' | 'link-up' | 'routes' | 'nat' | 'control-plane' | 'shaping' | 'first-reply'
  /** backend cni: a container's plugin runs (CNI ADD), which make its links, addresses and routes at once. */
  | 'cni'
  /** runtime docker: `docker create` (the container and its first network endpoint) and `docker start`. */
  | 'container-create'
  | 'container-start';

export type LedgerKind = 'netns' | 'link' | 'nft-table' | 'route' | 'neigh' | 'fdb' | 'sysctl' | 'process' | 'file' | 'qdisc'
  /** backend cni: one plugin ADD; its undo runs the same plugin with CNI_COMMAND=DEL and the same config. */
  | 'cni'
  /** controlPlane etcd: one exact key cnlab wrote into the lab's etcd (never a prefix). */
  | 'etcd-key'
  /** runtime docker: a container or network labelled with the lab id; its undo removes it only while it carries the label. */
  | 'docker-container'
  | 'docker-network'
  /** runtime docker: this host initialised or joined a swarm for the lab's overlay; undone by leaving it. */
  | 'docker-swarm'
  /** A host where Docker runs: an ACCEPT rule for a lab bridge in Docker's DOCKER-USER chain (modes/bridge.ts). */
  | 'iptables-rule';

/**
 * One object cnlab creates on a host. `undo` is one line of sh that removes it and is harmless when
 * the object is already gone. Entries are written to the host's ledger BEFORE the object is created,
 * so a crash at any point still leaves a complete record of what may exist.
 */
export interface LedgerEntry {
  kind: LedgerKind;
  name: string;
  undo: string;
}

/**
 * A step's commands: `ip-batch` lines run through one `ip -batch` (in a namespace, or the host's
 * when netns is null); `shell` is sh text run as is. All values in them are already quoted.
 */
export type StepCommand =
  | { kind: 'ip-batch'; netns: string | null; lines: string[] }
  /** Like ip-batch, through one `tc -batch` (in a namespace with `tc -n`): qdiscs and classes. */
  | { kind: 'tc-batch'; netns: string | null; lines: string[] }
  /**
   * A measurement, run by timed applies only (untimed ones skip it): ping `address` from inside
   * `netns` until the first reply, bounded in tries and time. It never fails the apply; when no
   * reply comes its timing says so.
   */
  | { kind: 'first-reply'; netns: string; address: string }
  /**
   * `background`: fire-and-forget work that nothing later depends on (a gratuitous ARP): it runs in
   * parallel with the rest, its failure does not fail the apply, and nothing waits for it.
   */
  | { kind: 'shell'; text: string; background?: boolean };

export interface PlanStep {
  /** Unique within the host plan, e.g. "c1/netns". */
  id: string;
  phase: StepPhase;
  /** The container this step belongs to, for per-container timings; absent for host-level steps. */
  container?: string;
  description: string;
  creates: LedgerEntry[];
  run: StepCommand[];
}

export interface HostPlan {
  host: string;
  steps: PlanStep[];
}

/** Where a container ended up: the applied state shown by `apply --json` and used by experiments. */
export interface PlannedInterface {
  network: string;
  /** Interface name inside the container's namespace (or on the host for host mode). */
  ifname: string;
  /** Address in CIDR form, or null for none mode. */
  address: string | null;
  /** The host-side peer or parent device, if any. */
  hostDevice: string | null;
  /** NAT mode: container ports reachable as <host management address>:<host port>, TCP and UDP. */
  publishedPorts?: { container: number; host: number }[];
}

export interface PlannedContainer {
  name: string;
  host: string;
  /** Namespace name; null for host mode (the host's own namespace). */
  netns: string | null;
  /** Set for container mode: the namespace owner. */
  sharesWith: string | null;
  cpuset: string | null;
  interfaces: PlannedInterface[];
}

/** A pair the verify step pings: should it answer or must it stay isolated? */
export interface ReachabilityExpectation {
  from: string;
  to: string;
  /** The address pinged. */
  address: string;
  network: string;
  reachable: boolean;
}

/** A daemon a control plane runs on one host, as planned: where its files live and what version the probe saw. */
export interface ControlPlaneDaemon {
  host: string;
  program: 'etcd' | 'bird' | 'watch-agent';
  /** From the host's probed facts; null when unknown. Each host also keeps what it ran in `version` beside the config. */
  version: string | null;
  configFile: string;
  pidFile: string;
  logFile: string;
}

/** A network's dynamic control plane (vxlan + etcd, routed + bgp): its daemons, settings and config files. */
export interface ControlPlanePlan {
  network: string;
  kind: 'etcd' | 'bgp';
  daemons: ControlPlaneDaemon[];
  /** As applied: ports, key prefix, AS, timers, kernel metric, range. */
  settings: Record<string, string | number>;
  /** Per host: path → content of each config file cnlab writes there (BIRD's, etcd's, the watch agent). */
  configs: Record<string, Record<string, string>>;
}

export interface LabPlan {
  labId: string;
  /** sha256 of the canonical topology and the facts that shaped the plan: unchanged ⇒ re-apply is a no-op. */
  fingerprint: string;
  hosts: HostPlan[];
  containers: PlannedContainer[];
  expectations: ReachabilityExpectation[];
  /** Only labs with a dynamic control plane (etcd, bgp) have it (optional field, added with them). */
  controlPlanes?: ControlPlanePlan[];
  /** runtime docker with an overlay: the swarm's manager and workers, and whether cnlab initialises it. */
  swarm?: { manager: string; workers: string[]; initialise: boolean; joinTokenFile: string };
}

/**
 * One `ip -batch` line from words. ip's batch reader splits on blanks and is not a shell, so instead
 * of quoting, every word must be plain: names and addresses only (cnlab validates them upstream).
 */
export function batchLine(words: readonly (string | number)[]): string {
  return words
    .map((word) => {
      const text = String(word);
      if (!/^[A-Za-z0-9_.:/@+=,-]+$/.test(text)) {
        throw new Error(`refusing an unsafe word in an ip batch line: ${JSON.stringify(text)}`);
      }
      return text;
    })
    .join(' ');
}
