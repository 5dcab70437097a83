// The diagram's ECharts data, pure: nodes at their fixed positions coloured by state, and the links; a
// status update rebuilds only the node data (same x/y), so the chart never lays anything out again.
import type { ContainerState } from '@contract/lab-api';
import type { DiagramLayout } from '@contract/topology';
import type { ThemePalette } from '../styles/palette';
import type { DiagramGraph, DiagramNode } from './diagram-graph';

export type NodeState = 'planned' | 'applying' | 'up' | 'failed' | 'removed';

/** The theme colours the diagram uses (styles/palette.ts). */
export type DiagramColors = Omit<ThemePalette, 'background'>;

export interface DiagramStates {
  containers: Readonly<Record<string, ContainerState>>;
  hosts: Readonly<Record<string, string>>;
}

/** lab-runtime's host statuses in the diagram's four colours. */
export function hostState(status: string | undefined): NodeState {
  if (status === 'applied') return 'up';
  if (status === 'failed' || status === 'rolled-back') return 'failed';
  if (status === 'applying' || status === 'tearing-down-previous' || status === 'rolling-back') return 'applying';
  return 'planned';
}

export function nodeState(node: DiagramNode, states: DiagramStates): NodeState {
  if (node.kind === 'container') return states.containers[node.label] ?? 'planned';
  if (node.kind === 'host' || node.kind === 'device') return hostState(node.host ? states.hosts[node.host] : undefined);
  return 'planned';
}

function stateColor(state: NodeState, colors: DiagramColors): string {
  return state === 'removed' ? colors.planned : colors[state];
}

const SHAPES: Record<DiagramNode['kind'], { symbol: string; size: number | [number, number] }> = {
  underlay: { symbol: 'roundRect', size: [200, 24] },
  host: { symbol: 'roundRect', size: [120, 38] },
  device: { symbol: 'rect', size: [96, 22] },
  container: { symbol: 'circle', size: 22 },
};

export interface DiagramNodeDatum {
  id: string;
  name: string;
  x: number;
  y: number;
  symbol: string;
  symbolSize: number | [number, number];
  itemStyle: { color: string; borderColor: string; borderWidth: number };
  label: { show: boolean; position: 'inside' | 'bottom'; color: string; fontSize: number };
}

/** One datum per node; only colours depend on the states. */
export function diagramNodeData(graph: DiagramGraph, layout: DiagramLayout, states: DiagramStates, colors: DiagramColors): DiagramNodeDatum[] {
  const many = graph.nodes.filter((node) => node.kind === 'container').length > 60;
  return graph.nodes.map((node) => {
    const [x, y] = layout[node.id] ?? [0, 0];
    const state = nodeState(node, states);
    const shape = SHAPES[node.kind];
    const filled = node.kind === 'container';
    const color = node.kind === 'underlay' ? colors.panel : stateColor(state, colors);
    return {
      id: node.id,
      name: node.label,
      x,
      y,
      symbol: shape.symbol,
      symbolSize: filled && many ? 16 : shape.size,
      // With many containers their labels and borders go (names stay in the tooltip and the details panel):
      // text is most of what a software-rendered canvas repaints on every status update.
      itemStyle: filled ? { color, borderColor: colors.border, borderWidth: many ? 0 : 1 } : { color: colors.panel, borderColor: node.kind === 'underlay' ? colors.accent : color, borderWidth: 2 },
      label: { show: !(filled && many), position: filled ? 'bottom' : 'inside', color: colors.text, fontSize: 11 },
    };
  });
}

export interface DiagramLinkDatum {
  source: string;
  target: string;
  lineStyle: { type: 'solid' | 'dashed' | 'dotted'; color: string; width: number; opacity: number };
}

export function diagramLinks(graph: DiagramGraph, colors: DiagramColors): DiagramLinkDatum[] {
  // Hundreds of attachment lines fan out of one bridge: fainter, so the containers stay readable.
  const faint = graph.edges.length > 120;
  return graph.edges.map((edge) => ({
    source: edge.source,
    target: edge.target,
    lineStyle: {
      type: edge.kind === 'overlay' ? 'dashed' : edge.kind === 'underlay' ? 'dotted' : 'solid',
      color: edge.kind === 'overlay' ? colors.accent : colors.textMuted,
      width: edge.kind === 'overlay' ? 2 : 1,
      opacity: faint && edge.kind === 'attachment' ? 0.35 : 0.9,
    },
  }));
}

/** The middle of all positions: where the view is centred (layout "none" would refit on every change). */
export function layoutCentre(layout: DiagramLayout): [number, number] {
  const points = Object.values(layout);
  if (points.length === 0) return [0, 0];
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
}
