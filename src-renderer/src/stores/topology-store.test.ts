// The topology store: designer edits regenerate the YAML, valid YAML replaces the designer's model, invalid
// YAML keeps the last valid model and names the line, and the check against hosts runs only on a valid design.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick } from 'vue';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { DEMO_TOPOLOGY_TEXT } from '../topology/demo-fixture.test-support';
import { HOST_CHECK_DEBOUNCE_MS, YAML_DEBOUNCE_MS, useTopologyStore } from './topology-store';

let api: FakeLabApi;

beforeEach(() => {
  window.localStorage.clear();
  vi.useFakeTimers();
  api = createFakeLabApi({
    checkTopology: () => Promise.resolve({ problems: ['host h2 has no facts yet: probe it on the Hosts tab'], labId: 'demo' }),
    saveTopology: () => Promise.resolve(),
    listTopologies: () => Promise.resolve(['demo']),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  vi.useRealTimers();
});

describe('topology store', () => {
  it('does not call a new, empty topology wrong, and cannot run it', () => {
    const topology = useTopologyStore();
    expect(topology.isEmpty).toBe(true);
    expect(topology.problems).toEqual([]);
    expect(topology.canRun).toBe(false);
    topology.setField('name', 'Bad Name');
    expect(topology.problems.length).toBeGreaterThan(0);
  });

  it('keeps the work in progress across a reload of the page (browser storage), and forgets an emptied one', async () => {
    const first = useTopologyStore();
    first.loadText(DEMO_TOPOLOGY_TEXT);
    await vi.advanceTimersByTimeAsync(YAML_DEBOUNCE_MS + 10);
    setActivePinia(createPinia());
    const reloaded = useTopologyStore();
    expect(reloaded.draft.name).toBe(first.draft.name);
    expect(reloaded.yamlText).toBe(DEMO_TOPOLOGY_TEXT);
    reloaded.startNew();
    await vi.advanceTimersByTimeAsync(YAML_DEBOUNCE_MS + 10);
    expect(window.localStorage.getItem('cnlab-topology-draft')).toBeNull();
  });

  it('regenerates the YAML when the designer adds a network and a container', async () => {
    const topology = useTopologyStore();
    topology.setField('name', 'demo');
    topology.setHostChosen('h1', true);
    topology.addNetwork();
    topology.renameNetwork(0, 'lan');
    topology.addContainer();
    topology.setContainerNetwork(0, 'lan', true);
    await nextTick();
    expect(topology.yamlText).toContain('name: demo');
    expect(topology.yamlText).toContain('- { name: lan, mode: bridge }');
    expect(topology.yamlText).toContain('- { name: c1, host: h1, networks: [ lan ] }');
  });

  it('renaming a network renames it in the containers too', async () => {
    const topology = useTopologyStore();
    topology.loadText(DEMO_TOPOLOGY_TEXT);
    topology.renameNetwork(1, 'overlay');
    await nextTick();
    expect(topology.draft.containers.map((container) => container.networks)).toEqual([['lan', 'overlay'], ['lan'], ['overlay']]);
  });

  it('valid YAML typed in the editor replaces the designer model after the pause, without rewriting the text', async () => {
    const topology = useTopologyStore();
    const typed = DEMO_TOPOLOGY_TEXT.replace('name: db,', 'name: cache,');
    topology.setYamlText(typed);
    expect(topology.draft.containers).toEqual([]);
    vi.advanceTimersByTime(YAML_DEBOUNCE_MS);
    await nextTick();
    expect(topology.draft.containers.map((container) => container.name)).toEqual(['web', 'cache', 'client']);
    expect(topology.yamlText).toBe(typed);
  });

  it('invalid YAML keeps the last valid model and shows the problem with its line', async () => {
    const topology = useTopologyStore();
    topology.loadText(DEMO_TOPOLOGY_TEXT);
    await nextTick();
    topology.setYamlText(DEMO_TOPOLOGY_TEXT.replace('mode: bridge', 'mode: bridgee'));
    vi.advanceTimersByTime(YAML_DEBOUNCE_MS);
    await nextTick();
    expect(topology.draft.networks[0]?.mode).toBe('bridge');
    expect(topology.problems[0]).toMatch(/^line 7: networks\.0/);
    expect(topology.canRun).toBe(false);
  });

  it('checks a valid design against the hosts after a pause and lists what it finds', async () => {
    const topology = useTopologyStore();
    topology.loadText(DEMO_TOPOLOGY_TEXT);
    await nextTick();
    await vi.advanceTimersByTimeAsync(HOST_CHECK_DEBOUNCE_MS);
    expect(api.checkTopology).toHaveBeenCalledTimes(1);
    expect(topology.problems).toEqual(['host h2 has no facts yet: probe it on the Hosts tab']);
  });

  it('does not ask the hosts about a design the page already knows is wrong', async () => {
    const topology = useTopologyStore();
    topology.setField('name', 'Bad Name');
    await nextTick();
    await vi.advanceTimersByTimeAsync(HOST_CHECK_DEBOUNCE_MS * 2);
    expect(api.checkTopology).not.toHaveBeenCalled();
    expect(topology.problems.some((problem) => problem.startsWith('name:'))).toBe(true);
  });

  it('saves under the topology name with the editor text', async () => {
    const topology = useTopologyStore();
    topology.loadText(DEMO_TOPOLOGY_TEXT);
    await topology.save();
    expect(api.saveTopology).toHaveBeenCalledWith({ name: 'demo', text: DEMO_TOPOLOGY_TEXT });
    expect(topology.savedNames).toEqual(['demo']);
  });
});
