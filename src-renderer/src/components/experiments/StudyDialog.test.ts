// "New experiment from study…" in the Experiments view, with the LabApi swapped for the test double: the
// dialog lists the studies and parts, defaults and changes the host mapping, asks studyExperiment with the
// chosen map, loads the answer into the builder as a new document with its notes shown, keeps a saved
// experiment of the same name, reports a refusal, and closes on Escape / creates on Enter.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h } from 'vue';
import { LabApiError, type HostView } from '@contract/lab-api';
import { setLabApi } from '../../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../../test-support/fake-lab-api';
import { SUO_STUDY, ZENG_STUDY } from '../../test-support/study-fixtures';
import { PLAN_DEBOUNCE_MS } from '../../stores/experiments-store';
import { useHostsStore } from '../../stores/hosts-store';
import ExperimentsView from '../../views/ExperimentsView.vue';

// happy-dom has no canvas: the live charts of the view are stubbed.
vi.mock('vue-echarts', () => ({ default: defineComponent({ name: 'VChartStub', setup: () => () => h('div') }) }));

const host = (name: string, label?: 'vm' | 'bare-metal') => ({ host: { kind: 'ssh', name, address: '198.18.0.1', port: 22, user: 'root', auth: { type: 'agent' }, knownHostsFiles: [], label }, state: 'connected', facts: null }) as unknown as HostView;
// Sorted as the hosts store keeps them: a1 (a VM), h2, h9.
const HOSTS = [host('h9'), host('a1', 'vm'), host('h2')];

const MADE = {
  name: 'suo-launch-overlay',
  text: '# Suo et al. — Table VI launch time — Launch time, overlay\nv: 1\nkind: experiment\nname: suo-launch-overlay\nstudy: { id: suo2018-table6, part: launch-overlay }\nhosts: [h9, h2]\nrepetitions: 5\n',
  notes: ['suo2018-table6: h1 (launches the containers) should be bare-metal; h9 has no bare-metal/vm label and no probed virtualization yet'],
};

let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

beforeEach(() => {
  window.localStorage.clear();
  vi.useFakeTimers();
  api = createFakeLabApi({
    listHosts: () => Promise.resolve(HOSTS),
    listExperiments: () => Promise.resolve([]),
    planExperiment: () => Promise.reject(new LabApiError({ code: 'invalid-input', message: 'not planned in this test' })),
    listStudies: () => Promise.resolve([SUO_STUDY, ZENG_STUDY]),
    studyExperiment: () => Promise.resolve(MADE),
    saveExperiment: () => Promise.resolve(),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  vi.useRealTimers();
});

const byTestId = (view: VueWrapper, id: string) => view.get(`[data-testid="${id}"]`);
const yamlOf = (view: VueWrapper) => (byTestId(view, 'experiment-yaml').element as HTMLTextAreaElement).value;
const selected = (view: VueWrapper, id: string) => (byTestId(view, id).element as HTMLSelectElement).value;

async function openDialog(): Promise<VueWrapper> {
  wrapper = mount(ExperimentsView, { attachTo: document.body });
  await flushPromises();
  await byTestId(wrapper, 'new-from-study').trigger('click');
  await flushPromises();
  return wrapper;
}

async function create(view: VueWrapper): Promise<void> {
  await byTestId(view, 'study-create').trigger('click');
  await flushPromises();
}

describe('New experiment from study', () => {
  it('lists the studies with citation and summary, the chosen one with its parts and substitutions', async () => {
    const view = await openDialog();
    const dialog = byTestId(view, 'study-dialog');
    expect(dialog.text()).toContain('Suo et al. — Table VI launch time');
    expect(dialog.text()).toContain('IEEE INFOCOM 2018');
    expect(dialog.text()).toContain('How long each container network takes from namespace to first ping reply.');
    expect(dialog.text()).toContain('Zeng et al. — container network throughput');
    expect((byTestId(view, 'study-option-suo2018-table6').element as HTMLInputElement).checked).toBe(true);
    expect((byTestId(view, 'study-part-launch').element as HTMLInputElement).checked).toBe(true);
    expect(dialog.text()).toContain('Launch time, overlay · launch · cases vxlan');
    const substitutions = dialog.findAll('[data-testid="study-substitution"]').map((item) => item.text());
    expect(substitutions[0]).toContain('Docker overlay → vxlan with an etcd control plane');
    expect(substitutions[1]).toMatch(/Weave → not reproducible here[\s\S]*its own encapsulation is not built by cnlab/);
  });

  it('maps a study host to the inventory host of its name, the others in inventory order, keeps changes, and says what is expected', async () => {
    const view = await openDialog();
    expect(selected(view, 'study-host-h1')).toBe('a1');
    expect(selected(view, 'study-host-h2')).toBe('h2');
    expect(byTestId(view, 'study-expect-h1').text()).toBe('· expects bare metal');
    expect(view.find('[data-testid="study-expect-h2"]').exists()).toBe(false);
    // a1 is labelled a VM while h1 should be bare metal: said before anything is created.
    expect(byTestId(view, 'study-host-kind-h1').text()).toBe('⚠ a1: vm (its label)');

    // A choice survives host events (a check elsewhere) and hosts added meanwhile.
    await byTestId(view, 'study-host-h1').setValue('h9');
    useHostsStore().applyEvent({ type: 'host-state', host: 'h2', view: host('h2') });
    useHostsStore().applyEvent({ type: 'host-state', host: 'b5', view: host('b5') });
    await flushPromises();
    expect(selected(view, 'study-host-h1')).toBe('h9');
    expect(view.findAll('[data-testid="study-host-h1"] option').map((option) => option.text())).toEqual(['a1', 'b5', 'h2', 'h9']);

    await byTestId(view, 'study-option-zeng2017-throughput').setValue(true);
    expect(selected(view, 'study-host-server')).toBe('a1');
    expect(selected(view, 'study-host-client')).toBe('b5');
    expect(view.find('[data-testid="study-host-h1"]').exists()).toBe(false);
    expect((byTestId(view, 'study-part-tcp').element as HTMLInputElement).checked).toBe(true);
  });

  it('creates the chosen part with the chosen hosts and loads it into the builder as a new document, notes shown', async () => {
    const view = await openDialog();
    await byTestId(view, 'study-part-launch-overlay').setValue(true);
    await byTestId(view, 'study-host-h1').setValue('h9');
    await create(view);
    expect(api.studyExperiment).toHaveBeenCalledWith({ studyId: 'suo2018-table6', part: 'launch-overlay', hostMap: { h1: 'h9', h2: 'h2' } });
    expect(view.find('[data-testid="study-dialog"]').exists()).toBe(false);
    expect(yamlOf(view)).toBe(MADE.text);
    expect(byTestId(view, 'study-created').text()).toContain('suo-launch-overlay from Suo et al. — Table VI launch time — Launch time, overlay');
    expect(byTestId(view, 'study-notes').text()).toContain('h1 (launches the containers) should be bare-metal');
    // Nothing was written yet; the autosave then saves it under the part's experiment name.
    expect(api.saveExperiment).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(Math.max(PLAN_DEBOUNCE_MS, 1500) + 50);
    await flushPromises();
    expect(api.saveExperiment).toHaveBeenCalledWith({ name: 'suo-launch-overlay', text: MADE.text });
  });

  it('leaves a saved experiment of the same name alone: the new one is numbered, and says so', async () => {
    api.listExperiments.mockResolvedValue(['suo-launch-overlay']);
    const view = await openDialog();
    await create(view);
    expect(yamlOf(view)).toMatch(/^name: suo-launch-overlay-2$/m);
    expect(yamlOf(view)).toMatch(/^study: \{ id: suo2018-table6, part: launch-overlay \}$/m);
    expect(byTestId(view, 'study-notes').text()).toContain('experiments/suo-launch-overlay.yaml exists already: this one is named suo-launch-overlay-2');
    await vi.advanceTimersByTimeAsync(1600);
    await flushPromises();
    expect(api.saveExperiment.mock.calls.map(([saved]) => saved.name)).toEqual(['suo-launch-overlay-2']);
  });

  it('reports a refusal in the dialog and leaves the builder as it was', async () => {
    api.studyExperiment.mockRejectedValueOnce(new LabApiError({ code: 'invalid-input', message: "host h9 is not in this workspace's inventory: add it in Hosts first" }));
    const view = await openDialog();
    const before = yamlOf(view);
    await create(view);
    expect(byTestId(view, 'study-dialog').get('[data-testid="error-banner"]').text()).toContain('add it in Hosts first');
    expect(yamlOf(view)).toBe(before);
    expect(view.find('[data-testid="study-created"]').exists()).toBe(false);
  });

  it('closes on Escape and creates on Enter', async () => {
    const view = await openDialog();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await flushPromises();
    expect(view.find('[data-testid="study-dialog"]').exists()).toBe(false);
    expect(api.studyExperiment).not.toHaveBeenCalled();

    await byTestId(view, 'new-from-study').trigger('click');
    await flushPromises();
    await byTestId(view, 'study-host-h2').trigger('keydown', { key: 'Enter' });
    await flushPromises();
    expect(api.studyExperiment).toHaveBeenCalledTimes(1);
    expect(yamlOf(view)).toBe(MADE.text);
  });

  it('asks for hosts first when the inventory is empty', async () => {
    api.listHosts.mockResolvedValue([]);
    const view = await openDialog();
    expect(byTestId(view, 'study-no-hosts').text()).toContain('add them in Hosts first');
    expect(byTestId(view, 'study-create').attributes('disabled')).toBeDefined();
  });
});
