// The topology file format as the console's designer needs it: the shared schema, the parser that reads
// YAML text, the mode list and what each mode needs from a host's kernel. Pure (zod + yaml), safe in the page.
export {
  MODES,
  MODE_FEATURES,
  OBJECT_NAME_PATTERN,
  diagramLayoutSchema,
  parseTopologyText,
  topologySchema,
  type DiagramLayout,
  type NetworkMode,
  type NetworkSpec,
  type ContainerSpec,
  type TopologyInput,
  type TopologySpec,
} from '../core/topology/topology-schema';
export { KERNEL_FEATURES, type HostFacts, type KernelFeature } from '../core/hosts/host-facts';
export { hostSchema, type Host, type HostInput } from '../core/hosts/host-model';

/** Containers with a count expand to name1..nameN (as core/topology/naming.ts expandedNames does). */
export function expandedContainerNames(name: string, count: number | undefined): string[] {
  if (count === undefined) return [name];
  return Array.from({ length: count }, (_, index) => `${name}${index + 1}`);
}
