// The demo lab's topology must stay the example file's topology on the demo hosts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTopologyText } from '../topology/topology-schema';
import { DEMO_TOPOLOGY_NAME, DEMO_TOPOLOGY_TEXT } from './demo-topology';

const exampleText = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'demo-bridge-vxlan.yaml'), 'utf8');

describe('the demo topology', () => {
  it('parses and names the first two demo hosts', () => {
    const spec = parseTopologyText(DEMO_TOPOLOGY_TEXT, 'demo topology');
    expect(spec.name).toBe(DEMO_TOPOLOGY_NAME);
    expect(spec.hosts).toEqual(['demo-h1', 'demo-h2']);
  });

  it('has exactly the networks, containers and address pool of examples/demo-bridge-vxlan.yaml', () => {
    const demo = parseTopologyText(DEMO_TOPOLOGY_TEXT, 'demo topology');
    const example = parseTopologyText(exampleText, 'examples/demo-bridge-vxlan.yaml');
    expect(demo.networks).toEqual(example.networks);
    expect(demo.containers).toEqual(example.containers.map((container) => ({ ...container, host: `demo-${container.host}` })));
    expect(demo.addressPool).toEqual(example.addressPool);
    expect(demo.hosts).toEqual(example.hosts.map((host) => `demo-${host}`));
  });
});
