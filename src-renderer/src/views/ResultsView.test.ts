// The Results view with the LabApi swapped for the test double and fixture runs: the numbers in the table
// cells, the bar chart given its CI error bars, the comparison with another run, CSV export, a list of
// 10,000 runs rendered as a window of rows, bundles: imported runs marked read-only, export of two runs; and
// a run made from a study template shown beside the paper before its own tables.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h } from 'vue';
import type { RunListingView } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { COMPARISON, LAUNCH_RUN, THROUGHPUT_RUN } from '@common/results/run-fixtures.test-support';
import { SUO_COMPARISON } from '../test-support/study-fixtures';
import ResultsView from './ResultsView.vue';

// happy-dom has no canvas, so ECharts cannot draw here: the stub keeps the option each chart was given.
vi.mock('vue-echarts', () => ({
  default: defineComponent({
    name: 'VChartStub',
    props: { option: { type: Object, default: () => ({}) } },
    setup: (props) => () => h('div', { 'data-testid': 'chart-stub', 'data-option': JSON.stringify(props.option) }),
  }),
}));

const listing = (runId: string, name: string): RunListingView => ({ runId, name, state: 'completed', createdAt: '2026-11-22T10:00:00Z', cells: 6, results: 12, failures: 0, planned: 12 });

let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

function runs(count: number): RunListingView[] {
  return Array.from({ length: count }, (_, index) => listing(`2026-run-${String(index).padStart(5, '0')}`, 'compare'));
}

beforeEach(() => {
  api = createFakeLabApi({
    listRuns: () => Promise.resolve([listing('20261121-compare', 'compare'), listing(THROUGHPUT_RUN.runId, 'compare'), listing(LAUNCH_RUN.runId, 'launch')]),
    getRun: ({ runId }) => Promise.resolve(runId === LAUNCH_RUN.runId ? LAUNCH_RUN : { ...THROUGHPUT_RUN, runId }),
    compareRuns: () => Promise.resolve(COMPARISON),
  });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

async function mounted(): Promise<VueWrapper> {
  wrapper = mount(ResultsView, { attachTo: document.body });
  await flushPromises();
  return wrapper;
}

const rowsOf = (view: VueWrapper, table: string) => view.findAll(`[data-testid="table-${table}"] [data-testid="results-row"]`).map((row) => row.findAll('td').map((cell) => cell.text()));

describe('Results view', () => {
  it('opens on the newest run and prints its throughput table with the right numbers', async () => {
    const view = await mounted();
    expect(api.getRun).toHaveBeenCalledWith({ runId: LAUNCH_RUN.runId });
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    const rows = rowsOf(view, 'throughput');
    expect(rows).toHaveLength(6);
    expect(rows[5]?.slice(0, 4)).toEqual(['vxlan', '65,536', '2', '9.41']);
    expect(rows[5]?.slice(7)).toEqual(['−69.0 %', '−70.8 %', '−67.2 %']);
    expect(view.findAll('[data-testid="table-throughput"] tr.noisy')).toHaveLength(1);
    expect(view.find('[data-testid="table-launch"]').exists()).toBe(false);
  });

  it('gives the bar chart its 95% error bars, one per bar', async () => {
    const view = await mounted();
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    const option = JSON.parse(view.get('[data-testid="chart-ci-bars"] [data-testid="chart-stub"]').attributes('data-option') ?? '{}') as { series: { type: string; data: unknown[] }[] };
    const errorBars = option.series.find((series) => series.type === 'custom');
    expect(errorBars?.data).toEqual([[0, 17.8, 18.6], [1, 29.8, 31], [2, 15.6, 16.6], [3, 27.4, 32.4], [4, 5.1, 5.5], [5, 9.11, 9.71]].map(([index, low, high]) => [index, expect.closeTo(low ?? 0, 9), expect.closeTo(high ?? 0, 9)]));
    expect(view.find('[data-testid="chart-sizes"]').exists()).toBe(true);
  });

  it('shows the launch-time table for a launch run', async () => {
    const view = await mounted();
    const rows = rowsOf(view, 'launch');
    expect(rows.map((row) => [row[0], row[2]])).toEqual([['none', '8.2'], ['bridge', '24.6'], ['macvlan', '19.9'], ['vxlan', '31.7']]);
  });

  it('opens the recommendation from the toolbar and asks for it with the chosen weights only when told', async () => {
    api.recommendModes.mockResolvedValue({ priorities: { throughput: 2, latency: 0, isolation: 0, startup: 0, multiHost: 0, encryption: 0 }, ranked: [], advice: ['No runs measured yet: run study suo2018-fig4.'], basis: { runs: 0, modes: 0 } });
    const view = await mounted();
    expect(view.find('[data-testid="recommendation-panel"]').exists()).toBe(false);
    await view.get('[data-testid="recommend-toggle"]').trigger('click');
    expect(view.find('[data-testid="recommendation-panel"]').exists()).toBe(true);
    expect(api.recommendModes).not.toHaveBeenCalled();
    await view.get('[data-testid="recommend"]').trigger('click');
    await flushPromises();
    expect(api.recommendModes).toHaveBeenCalledTimes(1);
    expect(view.get('[data-testid="recommendation-advice"]').text()).toContain('run study suo2018-fig4');
    await view.get('[data-testid="recommend-toggle"]').trigger('click');
    expect(view.find('[data-testid="recommendation-panel"]').exists()).toBe(false);
  });

  it('shows a study run beside the paper first, its own tables after; other runs have no such section', async () => {
    api.getRun.mockImplementation(({ runId }) => Promise.resolve(runId === LAUNCH_RUN.runId ? LAUNCH_RUN : { ...THROUGHPUT_RUN, runId, study: SUO_COMPARISON }));
    const view = await mounted();
    expect(view.find('[data-testid="study-comparison"]').exists()).toBe(false);
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    const section = view.get('[data-testid="study-comparison"]');
    expect(section.get('h3').text()).toBe('Beside the paper: Suo et al. — Table VI launch time');
    expect(rowsOf(view, 'study').map((row) => row[0])).toEqual(['bridge launch time', 'weave launch time']);
    expect(view.get('[data-testid="study-finding-overlay-slowest"]').attributes('data-verdict')).toBe('does-not-hold');
    const throughput = view.get('[data-testid="table-throughput"]').element;
    expect(section.element.compareDocumentPosition(throughput) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('compares with another run of the same experiment: differences with intervals and significance', async () => {
    const view = await mounted();
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    await view.get('[data-testid="compare-select"]').setValue('20261121-compare');
    await flushPromises();
    expect(api.compareRuns).toHaveBeenCalledWith({ runA: '20261121-compare', runB: THROUGHPUT_RUN.runId });
    const rows = rowsOf(view, 'comparison');
    expect(rows[1]).toEqual(['vxlan', '1,400', '5.30', '4.20', '−20.8 %', '−24.0 %', '−17.6 %', 'yes']);
  });

  it('saves a table as CSV through a download', async () => {
    const created: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:cnlab';
    });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() }));
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const view = await mounted();
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    await view.get('[data-testid="csv-throughput"]').trigger('click');
    expect(clicks).toHaveBeenCalledTimes(1);
    expect(await created[0]?.text()).toMatch(/^mode,blockSize,runs,median \[Gbit\/s\][\s\S]*\nvxlan,65536,2,9\.41/);
    clicks.mockRestore();
    vi.unstubAllGlobals();
  });

  it('renders a window of rows, not 10,000, and filters by name', async () => {
    api.listRuns.mockResolvedValue([...runs(9_999), listing('2026-run-launch', 'launch')]);
    const view = await mounted();
    expect(view.get('[data-testid="runs-list"] h2').text()).toContain('10000');
    const rendered = view.findAll('[data-testid="run-row"]').length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    await view.get('[data-testid="runs-filter"]').setValue('launch');
    expect(view.findAll('[data-testid="run-row"]').map((row) => row.attributes('data-run-id'))).toEqual(['2026-run-launch']);
  });

  it('imports a bundle: its runs are listed as imported, the newest is shown read-only without Resume', async () => {
    const ref = `imports/theirs/${THROUGHPUT_RUN.runId}`;
    const imported = { ...listing(ref, 'compare'), imported: { bundle: 'theirs' } };
    api.importBundle.mockResolvedValue({ bundle: 'theirs', folder: '/ws/imports/theirs', files: 9, runs: [imported] });
    api.getRun.mockImplementation(({ runId }) => Promise.resolve(runId === ref ? { ...THROUGHPUT_RUN, runId: ref, state: 'cancelled', imported: { bundle: 'theirs' } } : LAUNCH_RUN));
    const view = await mounted();
    api.listRuns.mockResolvedValue([listing(LAUNCH_RUN.runId, 'launch'), imported]);
    await view.get('[data-testid="bundle-import"]').trigger('click');
    await view.get('[data-testid="bundle-file"]').setValue('/tmp/theirs.tar.gz');
    await view.get('[data-testid="bundle-dialog"] form').trigger('submit');
    await flushPromises();
    expect(api.importBundle).toHaveBeenCalledWith({ file: '/tmp/theirs.tar.gz' });
    expect(view.get('[data-testid="bundle-done"]').text()).toMatch(/Imported 1 run \(9 files, every checksum verified\) into \/ws\/imports\/theirs: read-only/);
    expect(view.get(`[data-run-id="${ref}"] [data-testid="run-imported"]`).text()).toBe('imported');
    expect(view.get('[data-testid="run-header-imported"]').text()).toBe('imported from theirs · read-only');
    // A cancelled run of one's own offers Resume; an imported one never does.
    expect(view.find('[data-testid="resume-from-results"]').exists()).toBe(false);
  });

  it('exports the shown and the compared run as one bundle, and names an error with its fix', async () => {
    const view = await mounted();
    await view.get(`[data-run-id="${THROUGHPUT_RUN.runId}"]`).trigger('click');
    await flushPromises();
    await view.get('[data-testid="compare-select"]').setValue('20261121-compare');
    await flushPromises();
    api.exportBundle.mockRejectedValueOnce(Object.assign(new Error('cannot write /nope/x.tar.gz: no such folder: choose an existing folder'), { code: 'io' }));
    await view.get('[data-testid="bundle-export"]').trigger('click');
    await view.get('[data-testid="bundle-file"]').setValue('/nope/x.tar.gz');
    await view.get('[data-testid="bundle-dialog"] form').trigger('submit');
    await flushPromises();
    expect(api.exportBundle).toHaveBeenCalledWith({ runIds: ['20261121-compare', THROUGHPUT_RUN.runId], file: '/nope/x.tar.gz' });
    expect(view.get('[data-testid="bundle-dialog"]').text()).toContain('choose an existing folder');
    api.exportBundle.mockResolvedValueOnce({ file: '/tmp/x.tar.gz', runs: 2, bytes: 2_400_000 });
    await view.get('[data-testid="bundle-file"]').setValue('/tmp/x.tar.gz');
    await view.get('[data-testid="bundle-dialog"] form').trigger('submit');
    await flushPromises();
    expect(view.get('[data-testid="bundle-done"]').text()).toBe('Wrote /tmp/x.tar.gz: 2 runs, 2.4 MB.');
  });
});
