// The Topology view with the LabApi swapped for the test double: designer ↔ YAML both ways, modes a host
// cannot run disabled with the reason, preview per host, apply with the current text, the node list live.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { defineComponent, h, nextTick } from 'vue';
import { LabApiError, type HostView, type LabApiEvent } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { DEMO_TOPOLOGY_TEXT } from '../topology/demo-fixture.test-support';
import { useAppStore } from '../stores/app-store';
import { useLabsStore } from '../stores/labs-store';
import TopologyView from './TopologyView.vue';

// happy-dom has no canvas, so ECharts cannot draw here: the chart is a stub that shows what it was given.
vi.mock('vue-echarts', () => ({
  default: defineComponent({
    name: 'VChartStub',
    props: { option: { type: Object, default: () => ({}) } },
    setup: (props) => () => h('div', { 'data-testid': 'chart-stub', 'data-series': JSON.stringify((props.option as { series?: unknown }).series ?? []).length }),
  }),
}));

function hostView(name: string, unsupported: Record<string, string> = {}): HostView {
  const features = ['bridge', 'veth', 'macvlan', 'ipvlan', 'vxlan'];
  // Only the fields the view reads; a full probe result is not needed to pick modes.
  return {
    host: { kind: 'ssh', name, address: `10.0.0.${name.slice(1)}`, port: 22, user: 'root', auth: { type: 'agent' } },
    state: 'connected',
    facts: { kernelFeatures: Object.fromEntries(features.map((feature) => [feature, { supported: !(feature in unsupported), source: 'trial', reason: unsupported[feature] }])) },
  } as unknown as HostView;
}

let api: FakeLabApi;
let pinia: Pinia;
let wrapper: VueWrapper | null = null;

beforeEach(() => {
  // The topology store keeps the draft in browser storage: every test starts from none.
  window.localStorage.clear();
  vi.useFakeTimers();
  api = createFakeLabApi({
    listHosts: () => Promise.resolve([hostView('h1'), hostView('h2', { ipvlan: 'Error: Unknown device type.' })]),
    listTopologies: () => Promise.resolve([]),
    checkTopology: () => Promise.resolve({ problems: [], labId: 'demo' }),
    previewTopology: () =>
      Promise.resolve({
        labId: 'demo',
        fingerprint: 'abcdef0123456789',
        scripts: [
          { host: 'h1', script: 'ip netns add cnl-demo-web' },
          { host: 'h2', script: 'ip netns add cnl-demo-client' },
        ],
        containers: [],
        expectations: [],
      }),
    applyTopology: () => Promise.resolve({ jobId: 'j1', kind: 'apply' }),
    getLab: () => Promise.resolve(null),
  });
  setLabApi(api);
  pinia = createPinia();
  setActivePinia(pinia);
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  useLabsStore().stopListening();
  vi.useRealTimers();
});

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(TopologyView, { global: { plugins: [pinia] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

async function openDemo(): Promise<VueWrapper> {
  useAppStore().demoTopology = { name: 'demo', text: DEMO_TOPOLOGY_TEXT };
  const view = await mountView();
  await nextTick();
  return view;
}

const yaml = (view: VueWrapper) => (view.get('[data-testid="topology-yaml"]').element as HTMLTextAreaElement).value;

describe('TopologyView', () => {
  it('adding a network and a container in the designer updates the YAML', async () => {
    const view = await mountView();
    await view.get('[data-testid="topology-name"]').setValue('demo');
    await view.get('[data-testid="designer-host-h1"]').setValue(true);
    await view.get('[data-testid="add-network"]').trigger('click');
    await view.get('[data-testid="network-name-0"]').setValue('lan');
    await view.get('[data-testid="add-container"]').trigger('click');
    await view.get('[data-testid="container-name-0"]').setValue('web');
    await view.get('[data-testid="container-count-0"]').setValue('3');
    await view.get('[data-testid="container-0-network-lan"]').setValue(true);
    expect(yaml(view)).toContain('hosts: [ h1 ]');
    expect(yaml(view)).toContain('- { name: lan, mode: bridge }');
    expect(yaml(view)).toContain('- { name: web, host: h1, count: 3, networks: [ lan ] }');
    expect(view.text()).toContain('web1, web2, web3');
  });

  it('editing the YAML updates the designer after a pause', async () => {
    const view = await mountView();
    await view.get('[data-testid="topology-yaml"]').setValue(DEMO_TOPOLOGY_TEXT);
    vi.advanceTimersByTime(300);
    await nextTick();
    expect((view.get('[data-testid="network-name-1"]').element as HTMLInputElement).value).toBe('ov');
    expect((view.get('[data-testid="container-host-2"]').element as HTMLSelectElement).value).toBe('h2');
    expect((view.get('[data-testid="topology-name"]').element as HTMLInputElement).value).toBe('demo');
  });

  it('shows invalid YAML as a problem with its line and keeps the designer as it was', async () => {
    const view = await openDemo();
    await view.get('[data-testid="topology-yaml"]').setValue(DEMO_TOPOLOGY_TEXT.replace('hosts: [h1, h2]', 'hosts: [h1, h2'));
    vi.advanceTimersByTime(300);
    await nextTick();
    expect(view.get('[data-testid="topology-problems"]').text()).toMatch(/line \d+/);
    expect(view.findAll('[data-testid^="network-name-"]')).toHaveLength(2);
  });

  it('disables a mode a chosen host cannot run, giving the host and the reason', async () => {
    const view = await openDemo();
    const ipvlan = view.get('[data-testid="network-mode-0"] option[value="ipvlan"]');
    expect((ipvlan.element as HTMLOptionElement).disabled).toBe(true);
    expect(ipvlan.text()).toBe('ipvlan — not on h2: Error: Unknown device type.');
    expect((view.get('[data-testid="network-mode-0"] option[value="macvlan"]').element as HTMLOptionElement).disabled).toBe(false);
  });

  it('previews the script of each host', async () => {
    const view = await openDemo();
    await view.get('[data-testid="action-preview"]').trigger('click');
    await flushPromises();
    expect(api.previewTopology).toHaveBeenCalledWith({ text: DEMO_TOPOLOGY_TEXT });
    expect(view.get('[data-testid="preview-script-h1"]').text()).toBe('ip netns add cnl-demo-web');
    expect(view.get('[data-testid="preview-script-h2"]').text()).toBe('ip netns add cnl-demo-client');
  });

  it('Apply sends the current text, and the node list follows the lab events', async () => {
    const view = await openDemo();
    await view.get('[data-testid="action-apply"]').trigger('click');
    await flushPromises();
    expect(api.applyTopology).toHaveBeenCalledWith({ text: DEMO_TOPOLOGY_TEXT });
    const events: LabApiEvent[] = [
      { type: 'job-progress', jobId: 'j1', done: 2, total: 8, message: 'h1: web' },
      { type: 'container-state', jobId: 'j1', labId: 'demo', container: 'web', host: 'h1', state: 'up' },
      { type: 'container-state', jobId: 'j1', labId: 'demo', container: 'db', host: 'h1', state: 'applying' },
      { type: 'host-apply-state', jobId: 'j1', labId: 'demo', host: 'h2', status: 'failed' },
    ];
    for (const event of events) api.emit(event);
    vi.advanceTimersByTime(50);
    await nextTick();
    const state = (id: string) => view.get(`[data-testid="diagram-node"][data-node="${id}"]`).attributes('data-state');
    expect(state('ctr:web')).toBe('up');
    expect(state('ctr:db')).toBe('applying');
    expect(state('ctr:client')).toBe('planned');
    expect(state('host:h2')).toBe('failed');
    expect(view.get('[data-testid="job-progress-bar"]').attributes('data-done')).toBe('2');
    expect(view.find('[data-testid="action-cancel"]').exists()).toBe(true);
  });

  it('shows the verify summary once the verify job reports its cells', async () => {
    const view = await openDemo();
    api.applyTopology.mockResolvedValue({ jobId: 'j1', kind: 'apply' });
    api.verifyLab.mockResolvedValue({ jobId: 'j2', kind: 'verify' });
    await view.get('[data-testid="action-apply"]').trigger('click');
    await flushPromises();
    api.emit({ type: 'container-state', jobId: 'j1', labId: 'demo', container: 'web', host: 'h1', state: 'up' });
    api.emit({ type: 'job-finished', jobId: 'j1', kind: 'apply', outcome: 'succeeded' });
    vi.advanceTimersByTime(50);
    await nextTick();
    await view.get('[data-testid="action-verify"]').trigger('click');
    await flushPromises();
    expect(api.verifyLab).toHaveBeenCalledWith({ labId: 'demo' });
    const cell = { address: '198.19.0.2', network: 'lan', reachable: true, replied: true, ok: true };
    api.emit({ type: 'job-finished', jobId: 'j2', kind: 'verify', outcome: 'succeeded', result: { kind: 'verify', labId: 'demo', cells: [{ ...cell, from: 'web', to: 'db' }, { ...cell, from: 'db', to: 'web' }] } });
    await nextTick();
    expect(view.get('[data-testid="verify-summary"]').text()).toBe('2/2 pairs as expected');
  });

  it('clicking a node in the list opens its details', async () => {
    const view = await openDemo();
    await view.get('[data-testid="diagram-node"][data-node="dev:h1:lan"] button').trigger('click');
    expect(view.get('[data-testid="node-details"]').text()).toContain('Members: web, db');
  });

  it('Ctrl+Enter applies the design, even from inside the YAML editor', async () => {
    const view = await openDemo();
    view.get('[data-testid="topology-yaml"]').element.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', ctrlKey: true, bubbles: true }));
    await flushPromises();
    expect(api.applyTopology).toHaveBeenCalledWith({ text: DEMO_TOPOLOGY_TEXT });
  });

  it('sweep shows the dry run first and removes for real only after it', async () => {
    api.sweepHosts.mockImplementation(({ dryRun }) => Promise.resolve({ jobId: dryRun ? 's1' : 's2', kind: 'sweep' }));
    const view = await openDemo();
    await view.get('[data-testid="action-sweep"]').trigger('click');
    expect((view.get('[data-testid="sweep-confirm"]').element as HTMLButtonElement).disabled).toBe(true);
    await view.get('[data-testid="sweep-dry-run"]').trigger('click');
    await flushPromises();
    expect(api.sweepHosts).toHaveBeenLastCalledWith({ hosts: ['h1', 'h2'], dryRun: true });
    api.emit({ type: 'job-finished', jobId: 's1', kind: 'sweep', outcome: 'succeeded', result: { kind: 'sweep', dryRun: true, hosts: [{ host: 'h1', removed: ['netns cnl-old-web'] }, { host: 'h2', removed: [] }] } });
    await nextTick();
    expect(view.get('[data-testid="sweep-result"]').text()).toContain('netns cnl-old-web');
    await view.get('[data-testid="sweep-confirm"]').trigger('click');
    await flushPromises();
    expect(api.sweepHosts).toHaveBeenLastCalledWith({ hosts: ['h1', 'h2'], dryRun: false });
  });

  it('opens a saved topology into the designer and the YAML', async () => {
    api.listTopologies.mockResolvedValue(['demo']);
    api.readTopology.mockResolvedValue({ name: 'demo', text: DEMO_TOPOLOGY_TEXT });
    const view = await mountView();
    await view.get('[data-testid="topology-open"]').setValue('demo');
    await flushPromises();
    expect(api.readTopology).toHaveBeenCalledWith({ name: 'demo' });
    expect(yaml(view)).toBe(DEMO_TOPOLOGY_TEXT);
    expect(view.findAll('[data-testid^="container-name-"]')).toHaveLength(3);
  });

  it('shows a refused apply as its message', async () => {
    api.applyTopology.mockRejectedValue(new LabApiError({ code: 'lab-busy', message: 'lab demo is being applied already: wait for it or cancel it' }));
    const view = await openDemo();
    await view.get('[data-testid="action-apply"]').trigger('click');
    await flushPromises();
    expect(view.get('[data-testid="error-banner"]').text()).toContain('lab demo is being applied already: wait for it or cancel it');
  });
});
