// Where each diagram node sits: a pure, deterministic layout (hosts in columns, their devices below them,
// containers in a grid under their devices), used once for nodes the topology's saved layout lacks.
import type { DiagramLayout } from '@contract/topology';
import { vxlanNodeId, type DiagramGraph, type DiagramNode } from './diagram-graph';

/**
 * Spacing in diagram units. The chart fits the whole drawing into its box, so at 200 containers a unit is
 * about half a pixel: rows get more room than columns because each circle has its label underneath.
 */
export const CONTAINER_GAP = 60;
const CONTAINER_ROW_GAP = 76;
export const DEVICE_GAP = 180;
const COLUMN_GAP = 90;
const HOST_Y = 100;
/** VTEPs sit above their bridge, so the dashed tunnels between hosts cross no device box. */
const VXLAN_Y = 190;
const DEVICE_Y = 270;
const CONTAINER_Y = 390;
const MIN_COLUMN = 180;

interface HostColumn {
  host: DiagramNode;
  devices: DiagramNode[];
  containers: DiagramNode[];
}

/** Containers sorted by the device they hang off, so each sits under its device as far as it can. */
function columnsOf(graph: DiagramGraph): HostColumn[] {
  const firstDevice = new Map<string, string>();
  for (const edge of graph.edges) if (edge.kind === 'attachment' && !firstDevice.has(edge.source)) firstDevice.set(edge.source, edge.target);
  return graph.nodes
    .filter((node) => node.kind === 'host')
    .map((host) => {
      const devices = graph.nodes.filter((node) => node.kind === 'device' && node.deviceKind !== 'vxlan' && node.host === host.host);
      const deviceOrder = (node: DiagramNode) => {
        const index = devices.findIndex((device) => device.id === firstDevice.get(node.id));
        return index === -1 ? devices.length : index;
      };
      const containers = graph.nodes
        .filter((node) => node.kind === 'container' && node.host === host.host)
        .map((node, order) => ({ node, order }))
        .sort((a, b) => deviceOrder(a.node) - deviceOrder(b.node) || a.order - b.order)
        .map((entry) => entry.node);
      return { host, devices, containers };
    });
}

/** A grid about three times as wide as deep, like the chart's box: 100 containers make 18 × 6. */
function gridColumns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(count * 3)));
}

/** Positions for every node of the graph, the same for the same graph. */
export function layoutDiagram(graph: DiagramGraph): DiagramLayout {
  const layout: DiagramLayout = {};
  let left = 0;
  for (const column of columnsOf(graph)) {
    const perRow = gridColumns(column.containers.length);
    const width = Math.max(MIN_COLUMN, Math.min(perRow, column.containers.length) * CONTAINER_GAP, column.devices.length * DEVICE_GAP);
    const centre = left + width / 2;
    layout[column.host.id] = [centre, HOST_Y];
    column.devices.forEach((device, index) => {
      const x = centre + (index - (column.devices.length - 1) / 2) * DEVICE_GAP;
      layout[device.id] = [x, DEVICE_Y];
      if (device.mode === 'vxlan' && device.host && device.network) layout[vxlanNodeId(device.host, device.network)] = [x, VXLAN_Y];
    });
    const rowWidth = Math.min(perRow, column.containers.length);
    column.containers.forEach((container, index) => {
      const row = Math.floor(index / perRow);
      const place = index % perRow;
      layout[container.id] = [centre + (place - (rowWidth - 1) / 2) * CONTAINER_GAP, CONTAINER_Y + row * CONTAINER_ROW_GAP];
    });
    left += width + COLUMN_GAP;
  }
  const underlay = graph.nodes.find((node) => node.kind === 'underlay');
  if (underlay) layout[underlay.id] = [Math.max(0, left - COLUMN_GAP) / 2, 0];
  return layout;
}

/** Saved positions kept as they are; only nodes without one get the computed place. */
export function completeLayout(graph: DiagramGraph, saved: DiagramLayout | undefined): DiagramLayout {
  const missing = graph.nodes.some((node) => !saved?.[node.id]);
  const computed = missing ? layoutDiagram(graph) : {};
  const layout: DiagramLayout = {};
  for (const node of graph.nodes) {
    const position = saved?.[node.id] ?? computed[node.id];
    if (position) layout[node.id] = position;
  }
  return layout;
}
