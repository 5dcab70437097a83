// The topology file, format version 1: hosts, networks (one mode each) and containers, validated by
// one zod schema shared by main and renderer. Names are strict because they reach kernel objects.
import { yamlDataOf } from '../yaml-data';
import { z } from 'zod';
import { CnlabError } from '../errors';
import type { KernelFeature } from '../hosts/host-facts';
import { hostNameSchema } from '../hosts/host-model';

/** Names become parts of namespace and ledger names: letters, digits, "-" only, short. */
export const OBJECT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
const objectName = z.string().regex(OBJECT_NAME_PATTERN, 'a name has 1-31 lower-case letters, digits or "-" and starts with a letter');

const ipv4 = z.ipv4();
const cidr4 = z.cidrv4();
const nicName = z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'an interface name has 1-15 letters, digits, "_", ".", "@" or "-"');
const mtu = z.number().int().min(576).max(65535);
const tcpPort = z.number().int().min(1).max(65535);

export const MODES = ['none', 'bridge', 'host', 'macvlan', 'ipvlan', 'nat', 'vxlan', 'routed'] as const;
export type NetworkMode = (typeof MODES)[number];

/** What each mode needs from a host's kernel, decided per host from its facts (validate.ts, the console's mode picker). */
export const MODE_FEATURES: Readonly<Record<NetworkMode, readonly KernelFeature[]>> = {
  none: [],
  host: [],
  bridge: ['bridge', 'veth'],
  nat: ['bridge', 'veth'],
  routed: ['bridge', 'veth'],
  vxlan: ['bridge', 'veth', 'vxlan'],
  macvlan: ['macvlan'],
  ipvlan: ['ipvlan'],
};

/**
 * Where the console's diagram draws each node ("host:h1", "dev:h1:lan", "ctr:web", "underlay" → [x, y]).
 * Computed once and saved with the topology so status updates never re-run a layout; not part of the lab
 * (the planner's fingerprint ignores it: dragging a node never re-applies anything).
 */
export const diagramLayoutSchema = z.record(z.string().min(1).max(120), z.tuple([z.number().finite(), z.number().finite()]));

// Link shaping with tc: every value reaches a tc command line, so each follows tc's own syntax,
// narrowed to a strict pattern (no spaces, no shell characters, SI units only).
const TC_RATE = /^(\d{1,10}(?:\.\d{1,6})?)([kmgt]?)(bit|bps)$/;
const TC_SIZE = /^(\d{1,10})(b|k|kb|m|mb|kbit|mbit)?$/;
const TC_TIME = /^(\d{1,7}(?:\.\d{1,3})?)(s|ms|us)$/;
const SI: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** A tc rate in bits per second ("bps" is bytes per second in tc), or null when it is not one. */
export function tcRateBitsPerSecond(rate: string): number | null {
  const match = TC_RATE.exec(rate);
  if (!match) return null;
  return Number(match[1]) * (SI[match[2] ?? ''] ?? 1) * (match[3] === 'bps' ? 8 : 1);
}

/** A tc size in bytes (tc's binary units: k = 1024 bytes, kbit = 128 bytes), or null. */
export function tcSizeBytes(size: string): number | null {
  const match = TC_SIZE.exec(size);
  if (!match) return null;
  const unit: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, kbit: 128, mbit: 128 * 1024 };
  return Number(match[1]) * (unit[match[2] ?? ''] ?? 1);
}

/** A tc time in microseconds, or null. */
export function tcTimeMicros(time: string): number | null {
  const match = TC_TIME.exec(time);
  if (!match) return null;
  return Number(match[1]) * ({ s: 1e6, ms: 1e3, us: 1 } as const)[match[2] as 's' | 'ms' | 'us'];
}

export const MIN_SHAPING_RATE = 8_000;
export const MAX_SHAPING_RATE = 400e9;
/** A burst must hold at least one full frame of a 1500-byte MTU link. */
export const MIN_SHAPING_BURST = 1600;

const tcTime = (what: string) => z.string().regex(TC_TIME, `${what} is a tc time such as "10ms", "1.5ms", "500us" or "1s"`);

const shapingFields = {
  /** Rate limit (tbf, or htb with one class where the kernel lacks tbf), e.g. "1gbit", "100mbit". */
  rate: z
    .string()
    .regex(TC_RATE, 'rate is a tc rate such as "100mbit" or "1gbit" (bit, kbit, mbit, gbit, tbit; bps, kbps, … are bytes per second)')
    .refine((rate) => {
      const bits = tcRateBitsPerSecond(rate) ?? 0;
      return bits >= MIN_SHAPING_RATE && bits <= MAX_SHAPING_RATE;
    }, 'rate must be between 8kbit and 400gbit')
    .optional(),
  /** The token bucket's size (default: 4 ms worth of rate, at least 16 KiB). */
  burst: z
    .string()
    .regex(TC_SIZE, 'burst is a tc size in bytes such as "32k", "25000" or "1mb"')
    .refine((size) => (tcSizeBytes(size) ?? 0) >= MIN_SHAPING_BURST, `burst must hold at least one full frame: ${MIN_SHAPING_BURST} bytes or more`)
    .optional(),
  /** How long a packet may wait in the rate limiter before it is dropped (tbf; default 50ms). */
  latency: tcTime('latency').optional(),
  /** One-way delay added in each direction of the link (netem). */
  delay: tcTime('delay').optional(),
  /** Random variation of the delay (netem; needs delay). */
  jitter: tcTime('jitter').optional(),
  /** Random loss in percent of packets, as 0.5 or "0.5%" (netem). */
  loss: z
    .union([z.number().min(0).max(100), z.string().regex(/^\d{1,3}(?:\.\d{1,4})?%$/, 'loss is a percentage such as 0.5 or "0.5%"')])
    .refine((loss) => (typeof loss === 'number' ? loss : Number(loss.slice(0, -1))) <= 100, 'loss is at most 100%')
    .optional(),
};

type ShapingFields = { [K in keyof typeof shapingFields]?: z.infer<(typeof shapingFields)[K]> };

/** Combinations tc cannot make sense of, refused with the field to fix. */
function checkShaping(value: ShapingFields, ctx: z.RefinementCtx): void {
  if (value.rate === undefined && value.delay === undefined && value.loss === undefined) {
    ctx.addIssue({ code: 'custom', message: 'shaping needs at least one of rate, delay or loss' });
  }
  if (value.rate === undefined) {
    for (const field of ['burst', 'latency'] as const) {
      if (value[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} belongs to a rate limit: set rate too, or remove ${field}` });
    }
  }
  if (value.jitter !== undefined && value.delay === undefined) ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'jitter varies the delay: set delay too, or remove jitter' });
}

/** Shaping of a container link: applied to both ends of each link of the network (see modes/shaping.ts). */
export const shapingSchema = z.object(shapingFields).strict().superRefine(checkShaping);

/**
 * Shaping of a host's underlay NIC (egress). Never the management NIC: cnlab must not change it, so
 * `nic` must name another NIC of the host (validation refuses the management one).
 */
export const underlayShapingSchema = z
  .object({ host: hostNameSchema, nic: nicName.optional(), ...shapingFields })
  .strict()
  .superRefine(checkShaping);

const base = { name: objectName, subnet: cidr4.optional(), shaping: shapingSchema.optional() };

export const networkSchema = z.discriminatedUnion('mode', [
  z.object({ ...base, mode: z.literal('none'), options: z.object({}).strict().default({}) }),
  z.object({ ...base, mode: z.literal('host'), options: z.object({}).strict().default({}) }),
  z.object({ ...base, mode: z.literal('bridge'), options: z.object({ mtu: mtu.optional() }).strict().default({}) }),
  z.object({
    ...base,
    mode: z.literal('macvlan'),
    options: z
      .object({ macvlanMode: z.enum(['bridge', 'vepa', 'private', 'passthru']).default('bridge'), parent: nicName.optional(), mtu: mtu.optional() })
      .strict()
      .default({ macvlanMode: 'bridge' }),
  }),
  z.object({
    ...base,
    mode: z.literal('ipvlan'),
    options: z
      .object({ ipvlanMode: z.enum(['l2', 'l3', 'l3s']).default('l2'), parent: nicName.optional(), mtu: mtu.optional() })
      .strict()
      .default({ ipvlanMode: 'l2' }),
  }),
  z.object({
    ...base,
    mode: z.literal('nat'),
    options: z
      .object({
        /** Container ports published on the host address; each gets a host port from `hostPortBase`. */
        publish: z.array(z.number().int().min(1).max(65535)).max(64).default([]),
        hostPortBase: z.number().int().min(1024).max(65000).default(20000),
        mtu: mtu.optional(),
      })
      .strict()
      .default({ publish: [], hostPortBase: 20000 }),
  }),
  z.object({
    ...base,
    mode: z.literal('vxlan'),
    options: z
      .object({
        vni: z.number().int().min(1).max(16_777_215).default(42),
        port: z.number().int().min(1).max(65535).default(4789),
        mtu: z.union([z.literal('auto'), mtu]).default('auto'),
        controlPlane: z.enum(['static', 'etcd']).default('static'),
        /** controlPlane etcd: the lab's etcd client port on its host's management address (default 23790, see modes/etcd-plane.ts). */
        etcdClientPort: tcpPort.optional(),
        /** controlPlane etcd: its peer port, on the host's loopback only (default 23800). */
        etcdPeerPort: tcpPort.optional(),
      })
      .strict()
      .default({ vni: 42, port: 4789, mtu: 'auto', controlPlane: 'static' }),
  }),
  z.object({
    ...base,
    mode: z.literal('routed'),
    options: z
      .object({
        controlPlane: z.enum(['static', 'bgp']).default('static'),
        mtu: mtu.optional(),
        // controlPlane bgp only (BIRD, modes/bgp-plane.ts); unset ones take BIRD's defaults.
        /** The lab's private AS of its iBGP mesh (default 64512). */
        asn: z.number().int().min(1).max(4_294_967_295).optional(),
        /** BGP port of every host's BIRD, bound to its management address (default 179). */
        bgpPort: tcpPort.optional(),
        /** Seconds from BIRD's start to its first connection attempt (BIRD's connect delay time, default 5). */
        connectDelayTime: z.number().int().min(1).max(3600).optional(),
        /** Seconds between connection attempts to a peer that did not answer (connect retry time, default 120). */
        connectRetryTime: z.number().int().min(1).max(3600).optional(),
        /** BGP hold time in seconds (default 240); a peer silent this long is dropped. */
        holdTime: z.number().int().min(3).max(65535).optional(),
        /** Seconds between keepalives (default a third of holdTime); must be below holdTime. */
        keepaliveTime: z.number().int().min(1).max(65535).optional(),
        /** Metric of the routes BIRD installs; BIRD deletes every route of its own metric with proto bird, so each lab gets its own (default derived from the lab name). */
        kernelMetric: z.number().int().min(1).max(65535).optional(),
      })
      .strict()
      .default({ controlPlane: 'static' }),
  }),
]);

export const containerSchema = z
  .object({
    name: objectName,
    host: hostNameSchema,
    networks: z.array(objectName).max(8).default([]),
    /** Container mode: join another container's network namespace, like a Kubernetes pod. */
    shareNetnsWith: objectName.optional(),
    /** Explicit addresses per network name; the rest come from the pool. */
    addresses: z.record(objectName, ipv4).optional(),
    /** CPUs the container's processes are pinned to, e.g. "0-1,4". */
    cpuset: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a cpuset looks like "0-1,4"').optional(),
    /** Expand into `count` containers named name1..nameN. */
    count: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((c) => !(c.shareNetnsWith && c.networks.length > 0), { message: 'a container that shares a namespace has no networks of its own' })
  .refine((c) => !(c.shareNetnsWith && c.count), { message: 'a container that shares a namespace cannot have a count' });

/** runtime docker's options, shared with the experiment file. */
export const dockerOptionsSchema = z
  .object({
    /** The image lab containers run; it must be on each host (cnlab never pulls). Unset: cnlab builds one from each host's own tools. */
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:@-]{0,199}$/, 'an image is a reference such as "cnlab-lab:1" or "registry.local/tools@sha256:…" (lower case)')
      .optional(),
    /** Where a swarm cnlab initialises takes its overlay subnets from (docker swarm init --default-addr-pool); unset: Docker's default. */
    swarmAddressPool: cidr4.optional(),
  })
  .strict();

export const topologySchema = z
  .object({
    v: z.literal(1),
    name: objectName.max(20),
    /** netns: cnlab's own namespaces and links; docker: Docker containers and networks (docker/docker-plan.ts). */
    runtime: z.enum(['netns', 'docker']).default('netns'),
    /** runtime docker only. */
    docker: dockerOptionsSchema.optional(),
    backend: z.enum(['iproute2', 'cni']).default('iproute2'),
    hosts: z.array(hostNameSchema).min(1).max(64),
    addressPool: cidr4.default('198.19.0.0/16'),
    networks: z.array(networkSchema).max(32).default([]),
    containers: z.array(containerSchema).min(1).max(2000),
    /** Rate, delay and loss on hosts' underlay NICs (never the management NIC). */
    underlayShaping: z.array(underlayShapingSchema).max(64).optional(),
    layout: diagramLayoutSchema.optional(),
  })
  .strict();

export type NetworkSpec = z.infer<typeof networkSchema>;
export type ContainerSpec = z.infer<typeof containerSchema>;
export type TopologySpec = z.infer<typeof topologySchema>;
export type TopologyInput = z.input<typeof topologySchema>;
export type DiagramLayout = z.infer<typeof diagramLayoutSchema>;
export type ShapingSpec = z.infer<typeof shapingSchema>;
export type UnderlayShapingSpec = z.infer<typeof underlayShapingSchema>;

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${source}: ${issue.path.length > 0 ? issue.path.join('.') : '(top)'}: ${issue.message}`)
    .join('\n');
}

/** Parses YAML or JSON topology text (YAML 1.2 is a superset of JSON) and validates it. */
export function parseTopologyText(text: string, source = 'topology'): TopologySpec {
  const data = yamlDataOf(text, source);
  if (typeof data !== 'object' || data === null) throw new CnlabError('invalid-input', `${source}: a topology is a mapping with v, name, hosts, networks and containers`);
  const version = (data as { v?: unknown }).v;
  if (version !== 1) {
    throw new CnlabError('invalid-input', `${source}: format version ${JSON.stringify(version ?? null)} is not supported: this cnlab reads v: 1`);
  }
  const result = topologySchema.safeParse(data);
  if (!result.success) throw new CnlabError('invalid-input', describeIssues(result.error, source));
  return result.data;
}
