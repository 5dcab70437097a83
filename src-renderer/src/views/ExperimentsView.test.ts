// The Experiments view with the LabApi swapped for the test double: the builder writes the YAML, the plan
// shows its estimate, Run sends the text, events fill the progress, the cell table and the live charts,
// and a cancelled run offers Resume.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h, watch } from 'vue';
import type { ExperimentPlanView, HostView, LabApiEvent } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { PLAN_DEBOUNCE_MS, useExperimentsStore } from '../stores/experiments-store';
import ExperimentsView from './ExperimentsView.vue';

// happy-dom has no canvas, so ECharts cannot draw here: the stub records what the chart was told to draw.
const drawn: { series?: { id?: string; data?: unknown[] }[] }[] = [];
vi.mock('vue-echarts', () => ({
  default: defineComponent({
    name: 'VChartStub',
    props: { option: { type: Object, default: () => ({}) } },
    setup: (props) => {
      watch(() => props.option, (option) => drawn.push(option as (typeof drawn)[number]), { immediate: true });
      return () => h('div', { 'data-testid': 'chart-stub' });
    },
  }),
}));

const hosts = ['h1', 'h2'].map((name) => ({ host: { kind: 'ssh', name, address: '198.18.0.1', port: 22, user: 'root', auth: { type: 'agent' } }, state: 'connected', facts: null }) as unknown as HostView);

const plan: ExperimentPlanView = { name: 'compare', fingerprint: 'f', seed: 1, cells: ['bridge', 'macvlan', 'vxlan'].map((cellId) => ({ cellId, caseLabel: cellId })), totalRuns: 6, repetitions: 2, labs: ['a', 'b', 'c'], estimatedSeconds: 75 };

let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

beforeEach(() => {
  window.localStorage.clear();
  drawn.length = 0;
  vi.useFakeTimers();
  api = createFakeLabApi({
    listHosts: () => Promise.resolve(hosts),
    planExperiment: () => Promise.resolve(plan),
    startExperiment: () => Promise.resolve({ jobId: 'job-1', kind: 'experiment' }),
    getRun: () => Promise.resolve({ runId: 'run-1', name: 'compare', state: 'cancelled', createdAt: '', workload: {}, axes: [], modes: [], baseline: null, repetitions: 2, cells: [], failures: [] }),
    resumeRun: () => Promise.resolve({ jobId: 'job-2', kind: 'experiment' }),
    cancelJob: () => Promise.resolve(),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  vi.useRealTimers();
});

async function mounted(): Promise<VueWrapper> {
  wrapper = mount(ExperimentsView);
  await flushPromises();
  await vi.advanceTimersByTimeAsync(PLAN_DEBOUNCE_MS + 10);
  await flushPromises();
  return wrapper;
}

const byTestId = (view: VueWrapper, id: string) => view.get(`[data-testid="${id}"]`);
// The App feeds events to the stores (use-lab-events); this view is mounted alone, so the test does.
const send = (event: LabApiEvent) => useExperimentsStore().applyEvent(event);

describe('Experiments view', () => {
  it('builds the matrix point and click; the YAML follows and the plan shows its estimate', async () => {
    const view = await mounted();
    await byTestId(view, 'builder-case-baseline').setValue(true);
    await byTestId(view, 'builder-sizes').setValue('1400, 65536');
    await byTestId(view, 'builder-sizes').trigger('change');
    const yaml = (byTestId(view, 'experiment-yaml').element as HTMLTextAreaElement).value;
    expect(yaml).toMatch(/mode: bridge[\s\S]*placement: \{ server: h1, client: h1 \}|mode: bridge\n\s+placement:/);
    expect(yaml).toMatch(/- baseline/);
    expect(yaml).toMatch(/blockSize:\s*\n\s*- 1400\s*\n\s*- 65536|blockSize: \[ 1400, 65536 \]/);
    await vi.advanceTimersByTimeAsync(PLAN_DEBOUNCE_MS + 10);
    await flushPromises();
    expect(byTestId(view, 'plan-summary').text()).toBe('3 cells · 6 runs · 3 labs · about 1 min 15 s');
    expect(api.planExperiment.mock.calls.at(-1)?.[0].text).toMatch(/65536/);
  });

  it('runs: progress, cell status and live points come from the events; cancel offers Resume', async () => {
    const view = await mounted();
    await byTestId(view, 'run-experiment').trigger('click');
    await flushPromises();
    expect(api.startExperiment).toHaveBeenCalledTimes(1);
    send({ type: 'run-state', jobId: 'job-1', runId: 'run-1', state: 'running' });
    send({ type: 'run-progress', jobId: 'job-1', runId: 'run-1', key: '1.r1', cellId: 'macvlan', warmup: false, done: 2, total: 6, elapsedMs: 20_000, etaMs: 40_000 });
    send({ type: 'run-samples', jobId: 'job-1', runId: 'run-1', key: '1.r1', samples: [1, 2, 3].map((t) => ({ t, metric: 'throughputBitsPerSecond', value: 9e9, source: 'pair1/pair' })) });
    await vi.advanceTimersByTimeAsync(600);
    await flushPromises();
    expect(byTestId(view, 'run-counter').text()).toBe('run 3 of 6');
    expect(byTestId(view, 'run-eta').text()).toBe('20 s elapsed · about 40 s left');
    expect(view.get('[data-cell="macvlan"]').attributes('data-status')).toBe('running');
    expect(byTestId(view, 'live-points').attributes('data-count')).toBe('3');
    expect(drawn.some((option) => option.series?.some((series) => series.id === 'tp:macvlan:pair1' && series.data?.length === 3))).toBe(true);

    await byTestId(view, 'cancel-experiment').trigger('click');
    expect(api.cancelJob).toHaveBeenCalledWith({ jobId: 'job-1' });
    send({ type: 'job-finished', jobId: 'job-1', kind: 'experiment', outcome: 'cancelled', error: { code: 'cancelled', message: 'cancelled', details: { runId: 'run-1' } } });
    await flushPromises();
    expect(byTestId(view, 'run-phase').text()).toBe('cancelled');
    expect(byTestId(view, 'resume-experiment').attributes('disabled')).toBeUndefined();
    await byTestId(view, 'resume-experiment').trigger('click');
    await flushPromises();
    expect(api.resumeRun).toHaveBeenCalledWith({ runId: 'run-1' });
  });
});
