// report.html as a string: the CSP that forbids scripts and the network, run text escaped everywhere,
// the commands log read back exactly as the run store wrote it, and runs past the detail limit shown as
// tables only.
import { describe, expect, it } from 'vitest';
import { formatCommandLine } from '../core/experiment/run-store';
import { THROUGHPUT_RUN } from '../common/results/run-fixtures.test-support';
import { syntheticRun } from '../../tests/support/synthetic-runs';
import { resolveStudy } from '../core/studies/study-catalog';
import { compareWithStudy } from '../core/studies/study-comparison';
import { DETAILED_RUNS, escapeHtml, parseCommandsLog, renderRunReport, type ReportRun } from './run-report';

const OPTIONS = { title: 'cnlab results: <compare>', createdAt: '2026-12-06T08:00:00.000Z', cnlabVersion: '0.1.0' };

function reportRun(index: number, fields: Partial<ReportRun> = {}): ReportRun {
  const { record } = syntheticRun(index);
  return { view: { ...THROUGHPUT_RUN, runId: record.runId }, record, commandsLog: '', ...fields };
}

describe('report.html', () => {
  it('forbids scripts and the network, and escapes the text of runs', () => {
    const hostile = '<script>alert(1)</script>';
    const html = renderRunReport([reportRun(0, { view: { ...THROUGHPUT_RUN, name: hostile } })], OPTIONS);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toContain(hostile);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<title>cnlab results: &lt;compare&gt;</title>');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('lists the exact commands as the run store logged them, newlines and tabs included', () => {
    const command = "printf 'a\\tb\\n' | tee /tmp/x\nsecond line";
    const log = formatCommandLine({ host: 'h1', command, exitCode: 0, durationMs: 12.4, startedAt: '2026-12-06T08:00:00.000Z' }, '0.r1');
    expect(parseCommandsLog(log)).toEqual([{ startedAt: '2026-12-06T08:00:00.000Z', runKey: '0.r1', host: 'h1', outcome: 'exit 0', duration: '12ms', command }]);
    const html = renderRunReport([reportRun(0, { commandsLog: log })], OPTIONS);
    expect(html).toContain('The 1 commands run on the hosts');
    expect(html).toContain(`<code>${escapeHtml(command)}</code>`);
    expect(escapeHtml(command)).toBe("printf &#39;a\\tb\\n&#39; | tee /tmp/x\nsecond line");
  });

  it(`details the first ${DETAILED_RUNS} runs and shows the rest as tables`, () => {
    const runs = Array.from({ length: DETAILED_RUNS + 2 }, (_, index) => reportRun(index));
    const html = renderRunReport(runs, OPTIONS);
    expect(html.match(/<section class="run"/g)).toHaveLength(DETAILED_RUNS + 2);
    expect(html.match(/data-table="throughput"/g)).toHaveLength(DETAILED_RUNS + 2);
    expect(html.match(/<h3>Hosts<\/h3>/g)).toHaveLength(DETAILED_RUNS);
    expect(html.match(/this report details the first 20 runs/g)).toHaveLength(2);
  });

  it('puts a study run beside the paper: relative values, each finding with its verdict and where the paper says it', async () => {
    const study = await resolveStudy('suo2018-table6');
    const launch = (label: string, ms: number) => ({ caseLabel: label, axisValues: {}, primary: { name: 'launchMs', unit: 'ms' }, metrics: { launchMs: { n: 5, mean: ms, median: ms, stdDev: ms / 50 } } });
    const comparison = compareWithStudy(study, 'launch', [launch('none', 200), launch('bridge', 240), launch('container', 90), launch('host', 190)]);
    const html = renderRunReport([reportRun(0, { view: { ...THROUGHPUT_RUN, study: comparison } })], OPTIONS);
    expect(html).toContain('<h3>Beside the paper: Suo et al. — Table VI launch time — Network launch time (Table VI)</h3>');
    expect(html).toMatch(/<td>Bridge \(single host\)<\/td><td>663\.1 ms<\/td><td class="num">\+22\.9 %<\/td><td class="num">\+20\.0 %<\/td>/);
    expect(html).toContain('<li data-finding="container-fastest" data-verdict="holds"><span class="verdict holds">holds</span>');
    expect(html).toContain('data-finding="bgp-slow" data-verdict="not-measured"');
    expect(html).toContain('Container (single host): Table VI, single host, “Container 239.4 ms”');
    expect(html).toContain('<b>Weave</b> → not reproduced here');
  });
});
