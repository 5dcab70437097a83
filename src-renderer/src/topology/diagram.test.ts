// The diagram's graph and layout: the demo's nodes and links, a 200-container topology built in full,
// positions that are deterministic, never overlap, and keep what the topology saved.
import { describe, expect, it } from 'vitest';
import { DEMO_TOPOLOGY_TEXT } from './demo-fixture.test-support';
import { buildDiagramGraph } from './diagram-graph';
import { completeLayout, layoutDiagram } from './diagram-layout';
import { diagramNodeData, nodeState } from './diagram-option';
import { readDraft, type TopologyDraft } from './topology-draft';

const reading = readDraft(DEMO_TOPOLOGY_TEXT);
if (!reading.ok) throw new Error('the demo example must be valid');
const demo = reading.draft;

function scaleDraft(containers: number): TopologyDraft {
  return {
    v: 1,
    name: 'scale',
    hosts: ['h1', 'h2'],
    networks: [{ name: 'lan', mode: 'bridge' }, { name: 'ov', mode: 'vxlan' }],
    containers: [
      { name: 'a', host: 'h1', count: containers / 2, networks: ['lan', 'ov'] },
      { name: 'b', host: 'h2', count: containers / 2, networks: ['ov'] },
    ],
  };
}

const colors = { planned: 'grey', applying: 'amber', up: 'green', failed: 'red', text: 't', textMuted: 'm', border: 'b', accent: 'a', panel: 'p' };

describe('diagram graph', () => {
  it('builds the demo: underlay, hosts, bridges, vxlan devices linked across hosts, containers on their devices', () => {
    const graph = buildDiagramGraph(demo);
    expect(graph.nodes.map((node) => node.id).sort()).toEqual(
      ['underlay', 'host:h1', 'host:h2', 'dev:h1:lan', 'dev:h1:ov', 'dev:h1:ov:vxlan', 'dev:h2:ov', 'dev:h2:ov:vxlan', 'ctr:web', 'ctr:db', 'ctr:client'].sort(),
    );
    const links = graph.edges.map((edge) => `${edge.source}>${edge.target}:${edge.kind}`);
    expect(links).toEqual(
      expect.arrayContaining([
        'host:h1>underlay:underlay',
        'dev:h1:ov:vxlan>dev:h2:ov:vxlan:overlay',
        'ctr:web>dev:h1:lan:attachment',
        'ctr:web>dev:h1:ov:attachment',
        'ctr:client>dev:h2:ov:attachment',
      ]),
    );
    expect(graph.nodes.find((node) => node.id === 'dev:h1:lan')?.members).toEqual(['web', 'db']);
  });

  it('builds every node of a 200-container topology', () => {
    const graph = buildDiagramGraph(scaleDraft(200));
    const containers = graph.nodes.filter((node) => node.kind === 'container');
    expect(containers).toHaveLength(200);
    expect(new Set(graph.nodes.map((node) => node.id)).size).toBe(graph.nodes.length);
    expect(containers.map((node) => node.label)).toContain('b100');
    expect(graph.edges.filter((edge) => edge.kind === 'attachment')).toHaveLength(300);
  });
});

describe('diagram layout', () => {
  it('is the same for the same graph', () => {
    expect(layoutDiagram(buildDiagramGraph(scaleDraft(200)))).toEqual(layoutDiagram(buildDiagramGraph(scaleDraft(200))));
  });

  it('places 200 containers with no two nodes closer than a node apart', () => {
    const graph = buildDiagramGraph(scaleDraft(200));
    const points = Object.values(layoutDiagram(graph));
    expect(points).toHaveLength(graph.nodes.length);
    let closest = Infinity;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const [ax, ay] = points[i] ?? [0, 0];
        const [bx, by] = points[j] ?? [0, 0];
        closest = Math.min(closest, Math.hypot(ax - bx, ay - by));
      }
    }
    expect(closest).toBeGreaterThanOrEqual(50);
  });

  it('puts hosts in columns with their devices below and containers below those', () => {
    const layout = layoutDiagram(buildDiagramGraph(demo));
    const [h1, h2, lan, web] = [layout['host:h1'], layout['host:h2'], layout['dev:h1:lan'], layout['ctr:web']];
    expect(h1?.[0]).toBeLessThan(h2?.[0] ?? 0);
    expect(lan?.[1]).toBeGreaterThan(h1?.[1] ?? 0);
    expect(web?.[1]).toBeGreaterThan(lan?.[1] ?? 0);
    // The VTEP sits right above its bridge, between it and the host.
    expect(layout['dev:h1:ov:vxlan']?.[0]).toBe(layout['dev:h1:ov']?.[0]);
    expect(layout['dev:h1:ov:vxlan']?.[1]).toBeLessThan(layout['dev:h1:ov']?.[1] ?? 0);
  });

  it('keeps saved positions and computes only the missing ones', () => {
    const graph = buildDiagramGraph(demo);
    const layout = completeLayout(graph, { 'ctr:web': [999, 888] });
    expect(layout['ctr:web']).toEqual([999, 888]);
    expect(layout['ctr:db']).toEqual(layoutDiagram(graph)['ctr:db']);
    expect(Object.keys(layout)).toHaveLength(graph.nodes.length);
  });
});

describe('diagram node data', () => {
  it('changes only colours when states change, never positions', () => {
    const graph = buildDiagramGraph(demo);
    const layout = layoutDiagram(graph);
    const before = diagramNodeData(graph, layout, { containers: {}, hosts: {} }, colors);
    const after = diagramNodeData(graph, layout, { containers: { web: 'up', db: 'failed' }, hosts: { h1: 'applying' } }, colors);
    expect(after.map((node) => [node.x, node.y])).toEqual(before.map((node) => [node.x, node.y]));
    expect(after.find((node) => node.id === 'ctr:web')?.itemStyle.color).toBe('green');
    expect(after.find((node) => node.id === 'ctr:db')?.itemStyle.color).toBe('red');
    expect(after.find((node) => node.id === 'host:h1')?.itemStyle.borderColor).toBe('amber');
    expect(nodeState(graph.nodes.find((node) => node.id === 'dev:h1:lan') ?? graph.nodes[0]!, { containers: {}, hosts: { h1: 'applied' } })).toBe('up');
  });
});
