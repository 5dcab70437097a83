// The topology file, format version 1: hosts, networks (one mode each) and containers, validated by
// one zod schema shared by main and renderer. Names are strict because they reach kernel objects.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { CnlabError } from '../errors';
import { hostNameSchema } from '../hosts/host-model';

/** Names become parts of namespace and ledger names: letters, digits, "-" only, short. */
export const OBJECT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
const objectName = z.string().regex(OBJECT_NAME_PATTERN, 'a name has 1-31 lower-case letters, digits or "-" and starts with a letter');

const ipv4 = z.ipv4();
const cidr4 = z.cidrv4();
const nicName = z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'an interface name has 1-15 letters, digits, "_", ".", "@" or "-"');
const mtu = z.number().int().min(576).max(65535);

export const MODES = ['none', 'bridge', 'host', 'macvlan', 'ipvlan', 'nat', 'vxlan', 'routed'] as const;
export type NetworkMode = (typeof MODES)[number];

const base = { name: objectName, subnet: cidr4.optional() };

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
      })
      .strict()
      .default({ vni: 42, port: 4789, mtu: 'auto', controlPlane: 'static' }),
  }),
  z.object({
    ...base,
    mode: z.literal('routed'),
    options: z
      .object({ controlPlane: z.enum(['static', 'bgp']).default('static'), mtu: mtu.optional() })
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

export const topologySchema = z
  .object({
    v: z.literal(1),
    name: objectName.max(20),
    runtime: z.enum(['netns']).default('netns'),
    backend: z.enum(['iproute2', 'cni']).default('iproute2'),
    hosts: z.array(hostNameSchema).min(1).max(64),
    addressPool: cidr4.default('198.19.0.0/16'),
    networks: z.array(networkSchema).max(32).default([]),
    containers: z.array(containerSchema).min(1).max(2000),
  })
  .strict();

export type NetworkSpec = z.infer<typeof networkSchema>;
export type ContainerSpec = z.infer<typeof containerSchema>;
export type TopologySpec = z.infer<typeof topologySchema>;
export type TopologyInput = z.input<typeof topologySchema>;

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${source}: ${issue.path.length > 0 ? issue.path.join('.') : '(top)'}: ${issue.message}`)
    .join('\n');
}

/** Parses YAML or JSON topology text (YAML 1.2 is a superset of JSON) and validates it. */
export function parseTopologyText(text: string, source = 'topology'): TopologySpec {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new CnlabError('invalid-input', `${source}: not valid YAML or JSON: ${first?.message.split('\n')[0] ?? 'parse error'}`);
  }
  const data: unknown = document.toJS();
  if (typeof data !== 'object' || data === null) throw new CnlabError('invalid-input', `${source}: a topology is a mapping with v, name, hosts, networks and containers`);
  const version = (data as { v?: unknown }).v;
  if (version !== 1) {
    throw new CnlabError('invalid-input', `${source}: format version ${JSON.stringify(version ?? null)} is not supported: this cnlab reads v: 1`);
  }
  const result = topologySchema.safeParse(data);
  if (!result.success) throw new CnlabError('invalid-input', describeIssues(result.error, source));
  return result.data;
}
