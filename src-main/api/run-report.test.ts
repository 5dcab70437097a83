// report.html as a string: the CSP that forbids scripts and the network, run text escaped everywhere,
// the commands log read back exactly as the run store wrote it, and runs past the detail limit shown as
// tables only.
import { describe, expect, it } from 'vitest';
import { formatCommandLine } from '../core/experiment/run-store';
import { THROUGHPUT_RUN } from '../common/results/run-fixtures.test-support';
import { syntheticRun } from '../../tests/support/synthetic-runs';
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
});
