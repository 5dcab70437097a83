// What cnlab knows about one lab host after a facts probe: OS, CPU, NICs, kernel features, tools.
// Facts are saved and shown as they are, so "unknown" is a value of its own and nothing is guessed.

import { z } from 'zod';

/** Kernel objects cnlab builds topologies from; each one is checked separately on every host. */
export const KERNEL_FEATURES = [
  'bridge',
  'veth',
  'macvlan',
  'ipvlan',
  'vxlan',
  'ipip',
  'gre',
  'wireguard',
  'geneve',
  'netem',
  'dummy',
  'tbf',
  'htb',
] as const;

export const kernelFeatureSchema = z.enum(KERNEL_FEATURES);

export const featureSupportSchema = z.object({
  supported: z.union([z.boolean(), z.literal('unknown')]),
  /** 'trial': created for real in a scratch namespace; 'kernel-config': read from the kernel's build config. */
  source: z.enum(['trial', 'kernel-config', 'unknown']),
  /** Why: the failing command's stderr, or the config line that decided. */
  reason: z.string().max(500).optional(),
});

export const nicSchema = z.object({
  name: z.string().min(1),
  mtu: z.number().int().positive().nullable(),
  /** Kernel operstate as `ip` prints it: UP, DOWN, UNKNOWN, LOWERLAYERDOWN... */
  state: z.string().nullable(),
  mac: z.string().nullable(),
  speedMbps: z.number().int().positive().nullable(),
  driver: z.string().nullable(),
  /** The link kind of a virtual device (veth, bridge, vxlan...); null for a physical NIC. */
  kind: z.string().nullable(),
  /** Addresses in CIDR form, IPv4 and IPv6 alike. */
  addresses: z.array(z.string()),
  /** The NIC cnlab reaches the host through: lab traffic must never be put on it by mistake. */
  isManagement: z.boolean(),
});

export const virtualizationSchema = z.object({
  kind: z.enum(['bare-metal', 'vm', 'container', 'unknown']),
  /** systemd-detect-virt's names: kvm, vmware, microsoft, docker, lxc... */
  technology: z.string().optional(),
  /** For a container running inside a VM: the VM's technology. */
  hypervisor: z.string().optional(),
  source: z.enum(['systemd-detect-virt', 'dmi', 'cpuinfo', 'marker-file', 'none']),
});

const version = z.string().min(1).max(100).nullable();

export const toolVersionsSchema = z.object({
  iproute2: version,
  iperf3: version,
  sockperf: version,
  netperf: version,
  qperf: version,
  ping: version,
  nft: version,
  iptables: version,
  /** Which kernel API the `iptables` command drives; rules made through one are invisible to the other. */
  iptablesBackend: z.enum(['nf_tables', 'legacy', 'unknown']).nullable(),
  docker: version,
  /** Only when a daemon answered within 3 seconds. */
  dockerServer: version,
  bird: version,
  etcd: version,
});

const dockerName = z.string().min(1).max(100).nullable();

/** What the Docker daemon said about itself; saved only when a daemon answered. */
export const dockerFactsSchema = z.object({
  serverVersion: dockerName,
  /** The highest Engine API version the daemon speaks. */
  apiVersion: dockerName,
  storageDriver: dockerName,
  /** cgroupfs or systemd: containers' cgroups live where this driver puts them. */
  cgroupDriver: dockerName,
  cgroupVersion: dockerName,
  swarm: z.object({
    /** Docker's LocalNodeState: inactive, pending, active, error, locked; 'unknown' when unreadable. */
    state: z.string().min(1).max(32),
    nodeId: z.string().min(1).max(100).nullable(),
    /** True on a manager: only a manager can create overlay networks or count the cluster. */
    controlAvailable: z.boolean(),
    /** Counted by managers only; null elsewhere, where the daemon reports 0 without knowing. */
    managers: z.number().int().nonnegative().nullable(),
    nodes: z.number().int().nonnegative().nullable(),
  }),
  /** Network drivers the daemon offers, e.g. bridge, host, ipvlan, macvlan, null, overlay. */
  networkDrivers: z.array(z.string().min(1).max(100)),
  /** Where the daemon carves its bridge networks from: each base CIDR is split into subnets of `size` bits. */
  defaultAddressPools: z.array(z.object({ base: z.string().min(1).max(64), size: z.number().int().min(1).max(128) })),
});

export const hostFactsSchema = z.object({
  factsVersion: z.literal(1),
  probedAt: z.iso.datetime(),
  probeDurationMs: z.number().nonnegative(),
  /** Privileged probes decide kernel features by trial; unprivileged ones read the kernel config. */
  probeMode: z.enum(['privileged', 'unprivileged']),
  /** The scratch namespace of a privileged probe and whether the probe saw it removed. */
  scratchNamespace: z.object({ name: z.string(), removed: z.boolean().nullable() }).nullable(),
  hostname: z.string().nullable(),
  os: z.object({
    id: z.string().nullable(),
    name: z.string().nullable(),
    prettyName: z.string().nullable(),
    version: z.string().nullable(),
    versionId: z.string().nullable(),
  }),
  kernel: z.object({
    release: z.string().nullable(),
    configSource: z.string().nullable(),
  }),
  arch: z.string().nullable(),
  cpu: z.object({
    model: z.string().nullable(),
    count: z.number().int().positive().nullable(),
    /** The kernel's online list, e.g. "0-3,6". */
    online: z.string().nullable(),
  }),
  memoryBytes: z.number().int().positive().nullable(),
  virtualization: virtualizationSchema,
  nics: z.array(nicSchema),
  defaultRoute: z
    .object({ dev: z.string(), via: z.string().nullable(), family: z.enum(['inet', 'inet6']) })
    .nullable(),
  management: z.object({
    address: z.string().nullable(),
    nic: z.string().nullable(),
    /** How the management NIC was found; 'none' leaves every NIC unmarked. */
    source: z.enum(['context', 'ssh-connection', 'default-route', 'none']),
  }),
  kernelFeatures: z.record(kernelFeatureSchema, featureSupportSchema),
  tools: toolVersionsSchema,
  /** null: no docker, or no daemon answered. Absent in facts saved before the probe asked the daemon. */
  docker: dockerFactsSchema.nullable().optional(),
  cniPluginsDir: z.string().nullable(),
  cniPlugins: z.array(z.string()),
  privilege: z.object({
    user: z.string().nullable(),
    uid: z.number().int().nonnegative().nullable(),
    kind: z.enum(['root', 'sudo', 'none']),
  }),
  /** What the probe could not read, in words a user can act on. */
  warnings: z.array(z.string()),
});

export type KernelFeature = z.infer<typeof kernelFeatureSchema>;
export type FeatureSupport = z.infer<typeof featureSupportSchema>;
export type Nic = z.infer<typeof nicSchema>;
export type Virtualization = z.infer<typeof virtualizationSchema>;
export type ToolVersions = z.infer<typeof toolVersionsSchema>;
export type DockerFacts = z.infer<typeof dockerFactsSchema>;
export type HostFacts = z.infer<typeof hostFactsSchema>;
