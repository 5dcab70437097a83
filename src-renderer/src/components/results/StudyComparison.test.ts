// "Beside the paper" for a study run: the published numbers beside ours (a row not reproduced here says
// so), each finding with its verdict in words as well as colour and where the paper states it, the verdict
// summary, the substitutions; and one muted line when the template is not in this cnlab.
import { afterEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { MISSING_COMPARISON, SUO_COMPARISON } from '../../test-support/study-fixtures';
import StudyComparison from './StudyComparison.vue';

let wrapper: VueWrapper | null = null;

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

function mounted(study = SUO_COMPARISON): VueWrapper {
  wrapper = mount(StudyComparison, { props: { study, runName: 'suo-launch' } });
  return wrapper;
}

describe('Study comparison', () => {
  it('heads the section with the study, the part and the citation', () => {
    const header = mounted().get('[data-testid="study-comparison"] header').text();
    expect(header).toContain('Beside the paper: Suo et al. — Table VI launch time');
    expect(header).toContain('Launch time, one host');
    expect(header).toContain('IEEE INFOCOM 2018');
  });

  it("prints the paper's relative values beside ours with the interval, and says which rows are not reproduced", () => {
    const rows = mounted()
      .findAll('[data-testid="study-table"] [data-testid="results-row"]')
      .map((row) => row.findAll('td').map((cell) => cell.text()));
    expect(rows).toEqual([
      ['bridge launch time', '640 ms', '+35.0 %', '+200.0 %', '+180.5 %', '+219.5 %', 'bridge vs none', 'Table VI'],
      ['weave launch time', '1210 ms', '+155.0 %', 'not reproduced here', '—', '—', '—', 'Table VI'],
    ]);
  });

  it('gives every finding its verdict in words, with data-verdict, and the summary line counts them', () => {
    const view = mounted();
    const verdicts = ['none-fastest', 'overlay-slowest', 'macvlan-close', 'weave-slow'].map((id) => {
      const finding = view.get(`[data-testid="study-finding-${id}"]`);
      return [finding.attributes('data-verdict'), finding.get('[data-testid="study-verdict"]').text()];
    });
    expect(verdicts).toEqual([
      ['holds', '✓ holds'],
      ['does-not-hold', '✗ does not hold'],
      ['inconclusive', '? inconclusive'],
      ['not-measured', '– not measured'],
    ]);
    expect(view.get('[data-testid="study-verdicts"]').text()).toBe("The paper's findings here: 1 holds, 1 does not hold, 1 inconclusive, 1 not measured");
  });

  it('says each finding in a sentence and where the paper states it, quoted', () => {
    const finding = mounted().get('[data-testid="study-finding-overlay-slowest"]');
    expect(finding.text()).toContain('Overlays launch slowest');
    expect(finding.text()).toContain("Kendall's tau-b -0.33 over 3 networks");
    expect(finding.get('details.sources').text()).toContain('bridge launch time — Section V.C');
    expect(finding.get('blockquote').text()).toBe('overlay networks take the longest to start');
    expect(finding.get('.claim').attributes('title')).toBe('bridge launch time — Section V.C: “overlay networks take the longest to start”');
  });

  it('lists the substitutions, folded, with the networks not reproducible here', () => {
    const substitutions = mounted().get('[data-testid="study-substitutions"]');
    expect(substitutions.element.tagName).toBe('DETAILS');
    const items = substitutions.findAll('[data-testid="study-substitution"]').map((item) => item.text());
    expect(items[0]).toMatch(/Docker overlay → vxlan with an etcd control plane \(cases: vxlan\)[\s\S]*Differs: no Docker daemon on the path/);
    expect(items[1]).toMatch(/Weave → not reproducible here[\s\S]*Differs: its own encapsulation is not built by cnlab/);
  });

  it('shows one muted line, and no table or findings, when the template is not in this cnlab', () => {
    const view = mounted(MISSING_COMPARISON);
    expect(view.get('[data-testid="study-missing"]').text()).toBe('study template future2030-study is not in this cnlab: update cnlab to compare this run with the paper');
    expect(view.get('[data-testid="study-missing"]').classes()).toContain('muted');
    expect(view.find('[data-testid="study-table"]').exists()).toBe(false);
    expect(view.find('[data-testid^="study-finding-"]').exists()).toBe(false);
    expect(view.find('[data-testid="study-verdicts"]').exists()).toBe(false);
  });
});
