// The recommendation panel on its own with the LabApi swapped for the test double: the chosen weights are what
// is asked, the ranked modes show their evidence (numbers, certainty, runs) and what they lack, excluded modes
// and the baseline come after with why, the advice is listed, and a stale answer or a failed request says so.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { RecommendationPriorities, RecommendationView, RunView } from '@contract/lab-api';
import { LabApiError } from '@contract/lab-api';
import { setLabApi } from '../../api/lab-client';
import { useAppStore } from '../../stores/app-store';
import { createFakeLabApi, type FakeLabApi } from '../../test-support/fake-lab-api';
import RecommendationPanel from './RecommendationPanel.vue';

const RUNS = Array.from({ length: 5 }, (_, index) => ({ runId: `20261122-10000${index}-quick`, name: 'quick', cells: ['macvlan blockSize=1400'] }));

/** What the main process answers for throughput required-ish and isolation nice to have. */
function answer(priorities: RecommendationPriorities): RecommendationView {
  return {
    priorities,
    basis: { runs: 5, modes: 3 },
    advice: ['No throughput measured for ipvlan: run study claassen2016-drivers (ipvlan).', 'No cnlab mode encrypts its traffic: encryption scores 0 for every mode and does not change the order.'],
    ranked: [
      {
        mode: 'macvlan',
        rank: 1,
        score: 0.98,
        missing: [],
        excluded: null,
        evidence: [
          { criterion: 'throughput', score: 1, certainty: 'measured', summary: '−3.1 % throughput vs baseline (no container) (95% CI −4.0 to −2.2 %), 5 runs, 10 cells, across hosts; iperf3 TCP', runs: RUNS },
          { criterion: 'isolation', score: 2 / 3, certainty: 'property', summary: 'moderate isolation: its own network namespace (property of the mode: bridge’s rating in Suo et al., INFOCOM 2018, Table II, for the same own namespace)', runs: [] },
        ],
      },
      {
        mode: 'vxlan',
        rank: 2,
        score: 0.41,
        missing: [],
        excluded: null,
        evidence: [{ criterion: 'throughput', score: 0.31, certainty: 'uncertain', summary: '−69.0 % throughput vs baseline (no container) (no interval: single repetitions), 1 run, 1 cell, across hosts; iperf3 TCP', runs: RUNS.slice(0, 1) }],
      },
      { mode: 'ipvlan', rank: 3, score: 0.67, missing: ['throughput'], excluded: null, evidence: [{ criterion: 'isolation', score: 2 / 3, certainty: 'property', summary: 'moderate isolation', runs: [] }] },
      { mode: 'host', rank: 0, score: 0.5, missing: [], excluded: 'isolation required: low isolation (the host’s own network stack)', evidence: [] },
      { mode: 'baseline', rank: 0, score: null, missing: [], excluded: 'the baseline: no container network, the reference the modes are measured against', evidence: [{ criterion: 'throughput', score: null, certainty: 'measured', summary: 'the baseline case its runs compare the others with', runs: RUNS }] },
    ],
  };
}

let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

beforeEach(() => {
  api = createFakeLabApi({ recommendModes: ({ priorities }) => Promise.resolve(answer(priorities)), getRun: ({ runId }) => Promise.resolve({ runId } as RunView) });
  setLabApi(api);
  setActivePinia(createPinia());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

async function mounted(): Promise<VueWrapper> {
  wrapper = mount(RecommendationPanel, { attachTo: document.body });
  await flushPromises();
  return wrapper;
}

async function recommend(panel: VueWrapper): Promise<void> {
  await panel.get('[data-testid="recommend"]').trigger('click');
  await flushPromises();
}

describe('RecommendationPanel', () => {
  it('asks with the weights chosen per criterion, each explained', async () => {
    const panel = await mounted();
    expect(panel.findAll('fieldset.criterion')).toHaveLength(6);
    expect(panel.get('[data-testid="priority-isolation"]').text()).toContain('Suo et al. 2018, Table II');
    // Nothing is asked before the user says so.
    expect(api.recommendModes).not.toHaveBeenCalled();
    await panel.get('[data-testid="weight-throughput-3"]').setValue(true);
    await panel.get('[data-testid="weight-latency-0"]').setValue(true);
    await panel.get('[data-testid="weight-isolation-3"]').setValue(true);
    await recommend(panel);
    expect(api.recommendModes).toHaveBeenCalledWith({ priorities: { throughput: 3, latency: 0, isolation: 3, startup: 0, multiHost: 0, encryption: 0 } });
  });

  it('lists the ranked modes with their scores, evidence, certainty, runs and what they lack', async () => {
    const panel = await mounted();
    await recommend(panel);
    const modes = panel.findAll('[data-testid="ranked-mode"]');
    expect(modes.map((mode) => [mode.attributes('data-mode'), mode.get('[data-testid="mode-rank"]').text(), mode.get('[data-testid="mode-score"]').text()])).toEqual([
      ['macvlan', '1', '0.98'],
      ['vxlan', '2', '0.41'],
      ['ipvlan', '3', '0.67'],
    ]);
    const macvlan = modes[0];
    const throughput = macvlan?.get('[data-testid="evidence"][data-criterion="throughput"]');
    expect(throughput?.get('[data-testid="evidence-summary"]').text()).toBe('−3.1 % throughput vs baseline (no container) (95% CI −4.0 to −2.2 %), 5 runs, 10 cells, across hosts; iperf3 TCP');
    expect(throughput?.get('[data-testid="evidence-certainty"]').text()).toBe('measured');
    // Three runs inline, the other two behind "2 more".
    expect(throughput?.findAll('[data-testid="evidence-run"]').map((run) => run.text())).toEqual(RUNS.map((run) => run.runId));
    expect(throughput?.get('details summary').text()).toBe('2 more');
    expect(macvlan?.get('[data-criterion="isolation"] [data-testid="evidence-certainty"]').text()).toBe('property');
    expect(modes[1]?.get('[data-testid="evidence-certainty"]').text()).toBe('uncertain');
    expect(modes[2]?.get('[data-testid="mode-missing"]').text()).toBe('No evidence for throughput');
    expect(panel.get('[data-testid="recommendation-basis"]').text()).toBe('From 5 runs comparing 3 modes on the weighted criteria.');
    expect(panel.findAll('[data-testid="recommendation-advice"] li').map((line) => line.text())).toEqual(answer({} as RecommendationPriorities).advice);
  });

  it('shows excluded modes and the baseline after the ranked ones, with why', async () => {
    const panel = await mounted();
    await recommend(panel);
    const notRanked = panel.findAll('[data-testid="not-ranked-mode"]');
    expect(notRanked.map((entry) => entry.attributes('data-mode'))).toEqual(['host', 'baseline']);
    expect(notRanked[0]?.text()).toContain('isolation required: low isolation');
    expect(notRanked[1]?.text()).toContain('the reference the modes are measured against');
    expect(notRanked[1]?.text()).toContain('the baseline case its runs compare the others with');
  });

  it('opens a run of the evidence in Results', async () => {
    const panel = await mounted();
    await recommend(panel);
    await panel.get('[data-testid="evidence-run"]').trigger('click');
    await flushPromises();
    expect(api.getRun).toHaveBeenCalledWith({ runId: RUNS[0]?.runId });
    expect(useAppStore().tab).toBe('results');
  });

  it('says when the answer no longer fits: weights changed, or an experiment finished since', async () => {
    const panel = await mounted();
    await recommend(panel);
    expect(panel.find('[data-testid="recommendation-outdated"]').exists()).toBe(false);
    await panel.get('[data-testid="weight-startup-2"]').setValue(true);
    expect(panel.get('[data-testid="recommendation-outdated"]').text()).toBe('The priorities changed since this answer: Recommend again.');
    await recommend(panel);
    expect(panel.find('[data-testid="recommendation-outdated"]').exists()).toBe(false);
    api.emit({ type: 'job-finished', jobId: 'j1', kind: 'experiment', outcome: 'succeeded' });
    await flushPromises();
    expect(panel.get('[data-testid="recommendation-outdated"]').text()).toBe('Runs finished since this answer: Recommend again.');
  });

  it('shows the server’s message when the request fails, and keeps the button usable', async () => {
    api.recommendModes.mockRejectedValueOnce(new LabApiError({ code: 'not-found', message: 'no workspace is open: open or create one first' }));
    const panel = await mounted();
    await recommend(panel);
    expect(panel.get('[data-testid="error-banner"]').text()).toContain('no workspace is open');
    expect(panel.get('[data-testid="recommend"]').attributes('disabled')).toBeUndefined();
    await recommend(panel);
    expect(panel.findAll('[data-testid="ranked-mode"]')).toHaveLength(3);
  });
});
