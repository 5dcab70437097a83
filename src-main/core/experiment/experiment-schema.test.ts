// Tests of the experiment file (v1): the shipped examples parse, defaults are filled, modes as strings or
// objects, the baseline case, per-case placement and the cross-field checks (labels, baseline, hosts),
// messages naming the path of a bad field or axis value, --map parsing and rebinding, and the canonical
// JSON and fingerprint that name exactly what an experiment asked for.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../tests/support/cnlab-error';
import { canonicalJson, experimentFingerprint, experimentFromData, mapHosts, parseExperimentText, parseHostMap, type ExperimentSpec } from './experiment-schema';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

const base = {
  v: 1,
  kind: 'experiment',
  name: 'quick',
  hosts: ['h1', 'h2'],
  placement: { server: 'h1', client: 'h2' },
  modes: ['vxlan'],
  workload: { tool: 'iperf3' },
};

/** experimentFingerprint of spec({ modes: ['bridge', 'vxlan'], placement: h1/h1 }) before container mode existed. */
const PINNED_FINGERPRINT = 'ddb5eb13f65b78f88d1393df46393a72f68e460a50df035cccc932b4da65933d';

function spec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return experimentFromData({ ...base, ...overrides });
}

function message(overrides: Record<string, unknown>): string {
  const error = thrownCnlabError(() => spec(overrides));
  expect(error.code).toBe('invalid-input');
  return error.message;
}

describe('parseExperimentText', () => {
  const examples = readdirSync(EXAMPLES).filter((name) => name.startsWith('experiment-') && name.endsWith('.yaml'));

  it('finds the example experiments', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('parses examples/%s', (name) => {
    const parsed = parseExperimentText(readFileSync(join(EXAMPLES, name), 'utf8'), name);
    expect(parsed.kind).toBe('experiment');
    expect(parsed.modes.length).toBeGreaterThan(0);
    for (const entry of parsed.modes) expect(parsed.hosts).toEqual(expect.arrayContaining([entry.placement.server, entry.placement.client]));
  });

  it('gives the quick-throughput example its bridge case on one host and the others the file placement', () => {
    const parsed = parseExperimentText(readFileSync(join(EXAMPLES, 'experiment-quick-throughput.yaml'), 'utf8'));
    expect(parsed.modes.map((entry) => [entry.label, entry.placement])).toEqual([
      ['bridge', { server: 'h1', client: 'h1' }],
      ['macvlan', { server: 'h1', client: 'h2' }],
      ['vxlan', { server: 'h1', client: 'h2' }],
    ]);
  });

  it('fills in the defaults', () => {
    const parsed = parseExperimentText('v: 1\nkind: experiment\nname: quick\nhosts: [h1]\nplacement: { server: h1, client: h1 }\nmodes: [bridge]\nworkload: { tool: iperf3 }\n');
    expect(parsed).toMatchObject({ addressPool: '198.19.0.0/16', backend: 'iproute2', axes: {}, pairs: [1], pattern: 'pairs', repetitions: 3, warmup: 1, cooldown: 1, randomize: true, sampleHosts: true });
    expect(parsed.seed).toBeUndefined();
    expect(parsed.workload).toEqual({ tool: 'iperf3', protocol: 'tcp', duration: 10, omit: 0, parallel: 1, reverse: false });
    expect(parsed.modes[0]?.network).toEqual({ name: 'net', mode: 'bridge', options: {} });
  });

  it('refuses text that is not YAML', () => {
    const error = thrownCnlabError(() => parseExperimentText('v: 1\nv: 2\n', 'x.yaml'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(/^x\.yaml: not valid YAML or JSON/);
  });

  it('refuses a topology file with a message saying how topologies are used', () => {
    const topology = readFileSync(join(EXAMPLES, 'mode-bridge.yaml'), 'utf8');
    const error = thrownCnlabError(() => parseExperimentText(topology, 'mode-bridge.yaml'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('kind must be "experiment"');
    expect(error.message).toContain('cnlab topology apply');
  });

  it('refuses another format version', () => {
    expect(message({ v: 2 })).toContain('format version 2 is not supported');
    expect(thrownCnlabError(() => experimentFromData({ kind: 'experiment' })).message).toContain('format version null is not supported');
  });

  it('refuses data that is not a mapping', () => {
    expect(thrownCnlabError(() => parseExperimentText('42\n')).message).toContain('an experiment is a mapping');
  });
});

describe('modes', () => {
  it('takes entries as strings or objects, with a label, options and placement', () => {
    const parsed = spec({
      hosts: ['h1', 'h2'],
      modes: ['vxlan', { mode: 'bridge', label: 'bridge-mtu', options: { mtu: 9000 }, placement: { server: 'h2', client: 'h2' } }],
    });
    expect(parsed.modes).toEqual([
      { label: 'vxlan', mode: 'vxlan', network: { name: 'net', mode: 'vxlan', options: { vni: 42, port: 4789, mtu: 'auto', controlPlane: 'static' } }, placement: { server: 'h1', client: 'h2' }, runtime: 'netns' },
      { label: 'bridge-mtu', mode: 'bridge', network: { name: 'net', mode: 'bridge', options: { mtu: 9000 } }, placement: { server: 'h2', client: 'h2' }, runtime: 'netns' },
    ]);
  });

  it('runs the baseline without a network', () => {
    const parsed = spec({ modes: ['baseline', 'macvlan'], baseline: 'baseline' });
    expect(parsed.modes[0]).toEqual({ label: 'baseline', mode: 'baseline', network: null, placement: { server: 'h1', client: 'h2' }, runtime: 'netns' });
    expect(parsed.baseline).toBe('baseline');
  });

  it('gives a baseline its own placement and label', () => {
    const parsed = spec({ modes: [{ mode: 'baseline', label: 'bare', placement: { server: 'h2', client: 'h1' } }] });
    expect(parsed.modes[0]).toEqual({ label: 'bare', mode: 'baseline', network: null, placement: { server: 'h2', client: 'h1' }, runtime: 'netns' });
  });

  it('takes a runtime per case, labels such a case apart, and keeps netns out of the fingerprint', () => {
    const parsed = spec({ modes: ['bridge', { mode: 'bridge', runtime: 'docker' }, { mode: 'macvlan', runtime: 'docker', label: 'mv' }] });
    expect(parsed.modes.map((entry) => [entry.label, entry.runtime])).toEqual([
      ['bridge', 'netns'],
      ['bridge-docker', 'docker'],
      ['mv', 'docker'],
    ]);
    expect(() => spec({ modes: [{ mode: 'baseline', runtime: 'docker' }] })).toThrow(/baseline runs without containers, so it has no runtime/);
    // An experiment written before runtimes existed keeps its fingerprint; docker changes it.
    const plain = spec({ modes: ['bridge'] });
    const withoutRuntime = { ...plain, modes: plain.modes.map(({ runtime: _, ...entry }) => entry) };
    delete (withoutRuntime as { runtime?: unknown }).runtime;
    expect(experimentFingerprint(plain)).toBe(experimentFingerprint(withoutRuntime));
    expect(experimentFingerprint(spec({ modes: ['bridge'], runtime: 'docker' }))).not.toBe(experimentFingerprint(plain));
  });

  it('takes container mode as a case on a bridge network whose namespaces are shared, with bridge options and a runtime', () => {
    const parsed = spec({ placement: { server: 'h1', client: 'h1' }, modes: ['container', { mode: 'container', label: 'pod-9000', options: { mtu: 9000 }, runtime: 'docker' }, 'bridge'] });
    expect(parsed.modes).toEqual([
      { label: 'container', mode: 'container', network: { name: 'net', mode: 'bridge', options: {} }, placement: { server: 'h1', client: 'h1' }, runtime: 'netns', sharesNetns: true },
      { label: 'pod-9000', mode: 'container', network: { name: 'net', mode: 'bridge', options: { mtu: 9000 } }, placement: { server: 'h1', client: 'h1' }, runtime: 'docker', sharesNetns: true },
      { label: 'bridge', mode: 'bridge', network: { name: 'net', mode: 'bridge', options: {} }, placement: { server: 'h1', client: 'h1' }, runtime: 'netns' },
    ]);
    expect(Object.hasOwn(parsed.modes[2] ?? {}, 'sharesNetns')).toBe(false);
    expect(spec({ modes: [{ mode: 'container', runtime: 'docker' }] }).modes[0]?.label).toBe('container-docker');
  });

  it('refuses container-mode options that a bridge network does not take, naming the case', () => {
    expect(message({ modes: ['vxlan', { mode: 'container', options: { mtu: 100 } }] })).toMatch(/^experiment: modes\.1\.options\.mtu: /);
    expect(message({ modes: [{ mode: 'container', options: { vni: 7 } }] })).toMatch(/^experiment: modes\.0\.options: /);
  });

  it('refuses options on the baseline', () => {
    expect(message({ modes: ['vxlan', { mode: 'baseline', options: {} }] })).toBe('experiment: modes.1: the baseline runs without containers and takes no options');
  });

  it('refuses an unknown mode and bad options, naming the case', () => {
    expect(message({ modes: ['vxlan', 'warp'] })).toMatch(/^experiment: modes\.1\.mode: /);
    expect(message({ modes: [{ mode: 'bridge', options: { mtu: 100 } }] })).toMatch(/^experiment: modes\.0\.options\.mtu: /);
    expect(message({ modes: [{ mode: 'bridge', options: { colour: 'red' } }] })).toMatch(/^experiment: modes\.0\.options: /);
  });

  it('refuses two cases with one label', () => {
    expect(message({ modes: ['bridge', { mode: 'bridge', options: { mtu: 9000 } }] })).toContain('two cases are labelled bridge');
    expect(spec({ modes: ['bridge', { mode: 'bridge', label: 'bridge-9000', options: { mtu: 9000 } }] }).modes.map((entry) => entry.label)).toEqual(['bridge', 'bridge-9000']);
  });

  it('refuses a baseline that is not a label of the modes', () => {
    const text = message({ modes: ['bridge', 'vxlan'], baseline: 'macvlan' });
    expect(text).toContain('baseline macvlan is not one of the modes');
    expect(text).toContain('bridge, vxlan');
  });

  it('refuses placements on hosts the file does not list', () => {
    expect(message({ placement: { server: 'h1', client: 'h3' } })).toContain('vxlan: placement.client is h3, not one of hosts (h1, h2)');
    expect(message({ modes: ['vxlan', { mode: 'bridge', placement: { server: 'h9', client: 'h9' } }] })).toContain('bridge: placement.server is h9');
  });

  it('refuses a bad label', () => {
    expect(message({ modes: [{ mode: 'bridge', label: 'Bridge' }] })).toMatch(/^experiment: modes\.0\.label: /);
  });
});

describe('workload and axes', () => {
  it('refuses invalid workload fields, naming their path', () => {
    expect(message({ workload: { tool: 'iperf3', parallel: 0 } })).toMatch(/^experiment: workload\.parallel: /);
    expect(message({ workload: { tool: 'iperf3', colour: 'red' } })).toMatch(/^experiment: workload: .*colour/);
    expect(message({ workload: { tool: 'wrk' } })).toMatch(/^experiment: workload\.tool: /);
  });

  it('fills a tool’s own defaults', () => {
    expect(spec({ workload: { tool: 'sockperf' } }).workload).toEqual({ tool: 'sockperf', test: 'ping-pong', protocol: 'udp', duration: 10, messageSize: 64, fullRtt: false, fullLog: true });
  });

  it('accepts valid axis values', () => {
    expect(spec({ axes: { parallel: [1, 4], blockSize: ['1K', 65536] } }).axes).toEqual({ parallel: [1, 4], blockSize: ['1K', 65536] });
  });

  it('refuses an invalid axis value, naming axes.<axis>.<index> once', () => {
    const text = message({ axes: { parallel: [1, 0] } });
    expect(text).toMatch(/^experiment: axes\.parallel\.1: /);
    expect(text).not.toContain('axes.parallel.1.parallel');
    expect(message({ axes: { blockSize: ['1K', 'huge'] } })).toMatch(/^experiment: axes\.blockSize\.1: a size is/);
  });

  it('refuses an axis the tool does not have', () => {
    expect(message({ axes: { messageSize: [64] } })).toMatch(/^experiment: axes\.messageSize\.0: .*messageSize/);
  });

  it('refuses tool as an axis', () => {
    expect(message({ axes: { tool: ['iperf3', 'sockperf'] } })).toBe('experiment: axes.tool: one experiment runs one tool: write one file per tool');
  });

  it('refuses empty axes and bad pairs', () => {
    expect(message({ axes: { parallel: [] } })).toMatch(/axes\.parallel: /);
    expect(message({ pairs: [0] })).toMatch(/pairs\.0: /);
  });
});

describe('parseHostMap and mapHosts', () => {
  it('parses name=host pairs, ignoring blanks', () => {
    expect(parseHostMap('h1=lab-a, h2=lab-b,')).toEqual({ h1: 'lab-a', h2: 'lab-b' });
    expect(parseHostMap('')).toEqual({});
  });

  it.each(['h1', 'h1=', '=lab-a', 'h1=a=b', 'h1=lab a'])('refuses "%s" as a usage error', (text) => {
    const error = thrownCnlabError(() => parseHostMap(text));
    expect(error.code).toBe('usage');
    expect(error.message).toContain('--map takes name=host pairs');
  });

  it('rebinds hosts and every placement', () => {
    const original = spec({ modes: ['vxlan', { mode: 'bridge', placement: { server: 'h2', client: 'h2' } }] });
    const mapped = mapHosts(original, { h2: 'lab-b' });
    expect(mapped.hosts).toEqual(['h1', 'lab-b']);
    expect(mapped.placement).toEqual({ server: 'h1', client: 'lab-b' });
    expect(mapped.modes.map((entry) => entry.placement)).toEqual([
      { server: 'h1', client: 'lab-b' },
      { server: 'lab-b', client: 'lab-b' },
    ]);
    expect(original.hosts).toEqual(['h1', 'h2']);
  });

  it('refuses a name the experiment does not use', () => {
    const error = thrownCnlabError(() => mapHosts(spec(), { h3: 'lab-c' }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('--map names h3, which the experiment does not use (its hosts: h1, h2)');
  });
});

describe('canonicalJson and experimentFingerprint', () => {
  it('does not depend on key order, at any level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('keeps array order and leaves out undefined fields', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('is stable for the same experiment, however written', () => {
    const one = spec();
    const reordered = experimentFromData({ workload: { tool: 'iperf3' }, modes: ['vxlan'], placement: { client: 'h2', server: 'h1' }, hosts: ['h1', 'h2'], name: 'quick', kind: 'experiment', v: 1 });
    expect(experimentFingerprint(one)).toMatch(/^[0-9a-f]{64}$/);
    expect(experimentFingerprint(reordered)).toBe(experimentFingerprint(one));
    // Defaults written out are the same experiment.
    expect(experimentFingerprint(spec({ repetitions: 3, workload: { tool: 'iperf3', duration: 10 } }))).toBe(experimentFingerprint(one));
  });

  it.each([
    ['name', { name: 'other' }],
    ['repetitions', { repetitions: 4 }],
    ['a workload field', { workload: { tool: 'iperf3', parallel: 2 } }],
    ['the modes', { modes: ['macvlan'] }],
    ['mode options', { modes: [{ mode: 'vxlan', options: { vni: 7 } }] }],
    ['the placement', { placement: { server: 'h2', client: 'h1' } }],
    ['the seed', { seed: 1 }],
    ['the axes', { axes: { parallel: [1, 2] } }],
    ['randomize', { randomize: false }],
  ])('changes with %s', (_what, overrides) => {
    expect(experimentFingerprint(spec(overrides))).not.toBe(experimentFingerprint(spec()));
  });

  it('keeps the fingerprints of experiments without container mode, and tells container from bridge', () => {
    // Pinned: the fingerprint of this experiment as computed before container mode existed.
    expect(experimentFingerprint(spec({ modes: ['bridge', 'vxlan'], placement: { server: 'h1', client: 'h1' } }))).toBe(PINNED_FINGERPRINT);
    const bridge = spec({ modes: ['bridge'], placement: { server: 'h1', client: 'h1' } });
    const container = spec({ modes: [{ mode: 'container', label: 'bridge' }], placement: { server: 'h1', client: 'h1' } });
    expect(experimentFingerprint(container)).not.toBe(experimentFingerprint(bridge));
  });
});

describe('pattern', () => {
  it('takes all-to-all for iperf3, with pairs counting its containers', () => {
    expect(spec({ pattern: 'all-to-all', pairs: [2, 4, 16] })).toMatchObject({ pattern: 'all-to-all', pairs: [2, 4, 16] });
  });

  it('refuses all-to-all for any tool but iperf3, naming both fixes', () => {
    for (const workload of [{ tool: 'sockperf' }, { tool: 'ping' }, { tool: 'netperf' }, { tool: 'launch' }]) {
      expect(message({ pattern: 'all-to-all', pairs: [2], workload })).toContain(`pattern all-to-all: only iperf3 measures all-to-all (every container sending to every other); ${workload.tool} measures pairs: use pattern: pairs, or workload tool: iperf3`);
    }
  });

  it('refuses all-to-all with fewer than 2 or more than 16 containers', () => {
    expect(message({ pattern: 'all-to-all', pairs: [1, 4] })).toContain('pairs: with pattern all-to-all each value is a number of containers from 2 to 16 (N containers run N·(N−1) flows), not 1');
    expect(message({ pattern: 'all-to-all', pairs: [17] })).toContain('not 17');
  });

  it('refuses an unknown pattern', () => {
    expect(message({ pattern: 'ring' })).toMatch(/pattern: /);
  });
});
