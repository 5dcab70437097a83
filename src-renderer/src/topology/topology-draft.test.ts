// Model ↔ YAML: the designer's model round-trips through the editor's YAML with counts, options and layout
// kept, keys in a stable order, and problems reported with the line they are on.
import { describe, expect, it } from 'vitest';
import { DEMO_TOPOLOGY_TEXT } from './demo-fixture.test-support';
import { draftProblems, draftToYaml, newDraft, readDraft, type TopologyDraft } from './topology-draft';

const demoText = DEMO_TOPOLOGY_TEXT;

function read(text: string): TopologyDraft {
  const reading = readDraft(text);
  if (!reading.ok) throw new Error(reading.problems.map((problem) => problem.message).join('; '));
  return reading.draft;
}

describe('topology draft', () => {
  it('reads the demo example and writes it back to the same model', () => {
    const draft = read(demoText);
    expect(draft.name).toBe('demo');
    expect(draft.networks.map((network) => network.mode)).toEqual(['bridge', 'vxlan']);
    expect(read(draftToYaml(draft))).toEqual(draft);
  });

  it('keeps counts, mode options and the diagram layout through YAML', () => {
    const draft: TopologyDraft = {
      ...newDraft(),
      name: 'scale',
      hosts: ['h1', 'h2'],
      networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 7, port: 4790, controlPlane: 'etcd' } }, { name: 'mv', mode: 'macvlan', options: { macvlanMode: 'vepa', parent: 'eth1' } }],
      containers: [{ name: 'web', host: 'h1', count: 3, networks: ['ov'] }, { name: 'db', host: 'h2', networks: ['ov', 'mv'] }],
      layout: { 'ctr:web1': [10, 20], underlay: [0, 0] },
    };
    const text = draftToYaml(draft);
    expect(read(text)).toEqual(draft);
    expect(text).toContain('{ name: web, host: h1, count: 3, networks: [ ov ] }');
  });

  it('writes keys in the stable order with the layout last', () => {
    const text = draftToYaml({ layout: { underlay: [1, 2] }, containers: [{ host: 'h1', name: 'a' }], networks: [], name: 'x', hosts: ['h1'], v: 1, addressPool: '10.0.0.0/16' });
    const keys = text.split('\n').filter((line) => /^[a-zA-Z]/.test(line)).map((line) => line.split(':')[0]);
    expect(keys).toEqual(['v', 'name', 'hosts', 'addressPool', 'networks', 'containers', 'layout']);
    expect(text).toContain('{ name: a, host: h1 }');
  });

  it('reports a YAML syntax error with its line', () => {
    const reading = readDraft('v: 1\nname: demo\nhosts: [h1\ncontainers: []\n');
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports a schema problem with the field and the line it is on', () => {
    const reading = readDraft(demoText.replace('{ name: db, host: h1', '{ name: DB, host: h1'));
    expect(reading.ok).toBe(false);
    if (!reading.ok) {
      expect(reading.problems[0]?.path).toBe('containers.1.name');
      expect(reading.problems[0]?.line).toBe(demoText.split('\n').findIndex((line) => line.includes('name: db')) + 1);
    }
  });

  it('says an alias that points nowhere is not valid YAML (the library throws it from toJS, found by fuzzing)', () => {
    const reading = readDraft('v: *a\nname: x\n');
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems[0]?.message).toMatch(/Unresolved alias/);
  });

  it('refuses nesting deep enough to exhaust the yaml library before parsing it (it can abort the page)', () => {
    const reading = readDraft(`v: 1\nname: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems[0]?.message).toMatch(/^nested too deeply at line 2, column \d+/);
  });

  it('refuses another format version with the fix', () => {
    const reading = readDraft('v: 2\nname: x\n');
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems[0]?.message).toMatch(/v: 1/);
  });

  it('checks a draft in the page with the shared schema', () => {
    expect(draftProblems(newDraft()).map((problem) => problem.path)).toEqual(expect.arrayContaining(['name', 'hosts', 'containers']));
    expect(draftProblems(read(demoText))).toEqual([]);
  });
});
