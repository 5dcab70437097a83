// Test support for the planner: host facts parsed from the real probe fixtures, varied per host (its
// address, its kernel's features), and topology specs through the real schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHostFactsOutput } from '../hosts/facts-probe';
import type { FeatureSupport, HostFacts, KernelFeature, Nic } from '../hosts/host-facts';
import type { HostPlan, LabPlan, PlanStep } from './plan';
import type { PlanContext } from './planner';
import { topologySchema, type TopologyInput, type TopologySpec } from './topology-schema';

const FIXTURES = fileURLToPath(new URL('../hosts/fixtures/', import.meta.url));

/** The development VM as root probed it: eth0 192.0.2.2/24 MTU 1400, ipvlan missing. */
export function fixtureFacts(file = 'root-privileged.out', mode: 'privileged' | 'unprivileged' = 'privileged'): HostFacts {
  return parseHostFactsOutput(readFileSync(join(FIXTURES, file), 'utf8'), {
    probedAt: '2026-11-01T00:00:00.000Z',
    durationMs: 300,
    mode,
    managementAddress: mode === 'privileged' ? '192.0.2.2' : undefined,
  });
}

export interface HostVariant {
  /** The host's eth0 address (the /24 stays 192.0.2.0/24: all hosts share the underlay). */
  address?: string;
  features?: Partial<Record<KernelFeature, FeatureSupport>>;
  mtu?: number;
  extraNics?: Nic[];
}

/** The fixture's facts, moved to another address and with features overridden. */
export function variantFacts(variant: HostVariant = {}): HostFacts {
  const facts = structuredClone(fixtureFacts());
  const address = variant.address ?? '192.0.2.2';
  facts.management.address = address;
  facts.nics = facts.nics.map((nic) =>
    nic.name === 'eth0' ? { ...nic, mtu: variant.mtu ?? nic.mtu, addresses: nic.addresses.map((cidr) => (cidr === '192.0.2.2/24' ? `${address}/24` : cidr)) } : nic,
  );
  facts.nics.push(...(variant.extraNics ?? []));
  facts.kernelFeatures = { ...facts.kernelFeatures, ...variant.features };
  return facts;
}

export const IPVLAN_SUPPORTED: HostVariant['features'] = { ipvlan: { supported: true, source: 'trial' } };

/** Hosts h1..hN at 192.0.2.11, .12, ... on one /24, each with the fixture's kernel unless varied. */
export function contextFor(hosts: readonly string[], variants: Record<string, HostVariant> = {}): PlanContext {
  const facts: Record<string, HostFacts> = {};
  const managementAddress: Record<string, string> = {};
  hosts.forEach((host, index) => {
    const address = variants[host]?.address ?? `192.0.2.${11 + index}`;
    facts[host] = variantFacts({ ...variants[host], address });
    managementAddress[host] = address;
  });
  return { facts, managementAddress };
}

export function specOf(input: Omit<TopologyInput, 'v'> & { v?: 1 }): TopologySpec {
  return topologySchema.parse({ v: 1, ...input });
}

export function eth(name: string, address: string | null, mtu = 1500, isManagement = false): Nic {
  return { name, mtu, state: 'UP', mac: '02:00:00:00:00:99', speedMbps: null, driver: 'virtio_net', kind: null, addresses: address ? [address] : [], isManagement };
}

/** A host's plan; throws so a missing host fails the test with its name. */
export function hostPlanOf(result: LabPlan, name: string): HostPlan {
  const found = result.hosts.find((entry) => entry.host === name);
  if (!found) throw new Error(`no plan for ${name}`);
  return found;
}

/** One step of a host's plan by id; throws so a missing step fails the test with its id. */
export function stepOf(result: LabPlan, hostName: string, id: string): PlanStep {
  const found = hostPlanOf(result, hostName).steps.find((entry) => entry.id === id);
  if (!found) throw new Error(`no step ${id} on ${hostName}`);
  return found;
}
