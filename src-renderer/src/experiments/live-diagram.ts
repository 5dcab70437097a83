// The running case's lab as a diagram whose links carry their live throughput: each container's
// attachment gets the rate of its host-side device (the veth peer), each VXLAN tunnel the rate of its
// VTEP; links without a counter of their own (macvlan, the underlay) say so instead of showing zero.
import type { LabDeviceNames, PlannedContainer } from '@contract/lab-api';
import { buildDiagramGraph, type DiagramEdge, type DiagramGraph } from '../topology/diagram-graph';
import { readDraft } from '../topology/topology-draft';

/** Bits per second of a host's interface now, or null when it has no fresh counter. */
export type RateLookup = (host: string, ifname: string) => number | null;

export interface LiveLab {
  topologyText: string;
  containers: PlannedContainer[];
  devices: LabDeviceNames[];
}

const containerName = (nodeId: string): string => nodeId.replace(/^ctr:/, '');

/** `dev:h1:net` or `dev:h1:net:vxlan` → host and network. */
function deviceParts(nodeId: string): { host: string; network: string } | null {
  const match = /^dev:([^:]+):([^:]+)(?::vxlan)?$/.exec(nodeId);
  return match ? { host: match[1] ?? '', network: match[2] ?? '' } : null;
}

export function liveLabGraph(lab: LiveLab): DiagramGraph | null {
  const reading = readDraft(lab.topologyText);
  return reading.ok ? buildDiagramGraph(reading.draft) : null;
}

/** The interface whose counters measure this edge, as host + name; null when no lab device carries it alone. */
export function edgeCounter(edge: DiagramEdge, lab: LiveLab): { host: string; ifname: string } | null {
  if (edge.kind === 'attachment') {
    const device = deviceParts(edge.target);
    const container = lab.containers.find((candidate) => candidate.name === containerName(edge.source));
    const link = container?.interfaces.find((candidate) => candidate.network === device?.network);
    // A macvlan/ipvlan child's "host device" is the shared parent NIC: its counters are everyone's traffic.
    if (!container || !link?.hostDevice || !isLabDevice(link.hostDevice, lab)) return null;
    return { host: container.host, ifname: link.hostDevice };
  }
  if (edge.kind === 'overlay' || (edge.kind === 'device' && edge.source.endsWith(':vxlan'))) {
    const vtep = deviceParts(edge.source);
    const names = lab.devices.find((candidate) => candidate.network === vtep?.network);
    return vtep && names ? { host: vtep.host, ifname: names.vxlan } : null;
  }
  return null;
}

/** Lab devices share the lab's name prefix (c + 4 hex of the lab); a parent NIC does not. */
function isLabDevice(ifname: string, lab: LiveLab): boolean {
  const prefix = lab.devices[0]?.bridge.slice(0, 5);
  return prefix !== undefined && ifname.startsWith(prefix);
}

/** Bits per second per edge index; null where the edge has no counter. */
export function edgeRates(graph: DiagramGraph, lab: LiveLab, rate: RateLookup): (number | null)[] {
  return graph.edges.map((edge) => {
    const counter = edgeCounter(edge, lab);
    return counter ? (rate(counter.host, counter.ifname) ?? 0) : null;
  });
}
