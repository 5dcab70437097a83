// report.html: one self-contained page for some runs (no script, no network, no other file; a CSP that
// forbids all three) with the same paper-style tables and charts as the Results view, the hosts' facts and
// tool versions, each case's lab as planned and as deployed, the experiment file and the exact commands.
// Every text from a run is escaped; charts are SVG rendered here by ECharts' SSR renderer.
import { stringify } from 'yaml';
import type { RunRecord } from '../core/experiment/run-store';
import type { HostFacts } from '../core/hosts/host-facts';
import { PRINT_PALETTE } from '../common/results/chart-palette';
import { renderChartSvg } from '../common/results/chart-svg';
import { formatCell, type ResultsTable } from '../common/results/results-tables';
import { runCharts, runTables } from '../common/results/run-sections';
import { studyTable, VERDICT_TEXT, verdictSummary } from '../common/results/study-tables';
import type { RunView, StudyComparisonView } from '../contract/lab-api';

export interface ReportRun {
  view: RunView;
  /** Its charts as SVG (runChartSvgs); runs past the detail limit have none. */
  charts?: ChartSvg[];
  record: RunRecord;
  /** commands.log as the run store wrote it. */
  commandsLog: string;
  /** Per case label: the lab as captured on its hosts after apply (deployed-<n>.json), when recorded. */
  deployed?: Record<string, unknown>;
}

export interface ReportOptions {
  title: string;
  createdAt: string;
  cnlabVersion: string;
}

export const CHART_SIZE = { width: 720, height: 360 };

/**
 * Runs shown in full (charts, hosts, labs, commands); past it, tables only. ECharts' SSR takes ~20 ms a
 * chart here, and a thousand runs' command logs would make a page no browser opens: the bundle still has
 * every run's files, and the Results view draws any run's charts once the bundle is imported.
 */
export const DETAILED_RUNS = 20;

export interface ChartSvg {
  name: string;
  title: string;
  svg: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

function tableHtml(table: ResultsTable): string {
  const head = table.columns.map((column) => `<th${column.numeric ? ' class="num"' : ''}>${escapeHtml(column.label)}${column.unit ? ` <span class="unit">(${escapeHtml(column.unit)})</span>` : ''}</th>`).join('');
  const rows = table.rows.map((row) => {
    const classes = [row.flags?.noisy ? 'noisy' : '', row.flags?.significant ? 'significant' : ''].filter(Boolean).join(' ');
    const cells = table.columns.map((column) => `<td${column.numeric ? ' class="num"' : ''}>${escapeHtml(formatCell(column, row.cells[column.key] ?? null))}</td>`).join('');
    return `<tr${classes ? ` class="${classes}"` : ''}>${cells}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function definitionList(entries: [string, string | number | null | undefined][]): string {
  return `<dl>${entries.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(String(value))}</dd>`).join('')}</dl>`;
}

const TOOLS: (keyof HostFacts['tools'])[] = ['iproute2', 'iperf3', 'sockperf', 'netperf', 'ping', 'nft', 'iptables', 'docker', 'bird', 'etcd'];

function hostsHtml(record: RunRecord): string {
  const roles = Object.entries(record.hostMap);
  const names = [...new Set([...roles.map(([, host]) => host), ...Object.keys(record.hostFacts)])];
  if (names.length === 0) return '';
  const rows = names.map((name) => {
    const facts = record.hostFacts[name];
    // The file's name for the host when --map bound it to another; else the same name.
    const role = roles.filter(([, host]) => host === name).map(([role]) => role).join(', ') || name;
    if (!facts) return `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(role)}</td><td colspan="6" class="muted">no facts recorded</td></tr>`;
    const virtualization = [facts.virtualization.kind, facts.virtualization.technology].filter(Boolean).join(' / ');
    const nics = facts.nics.map((nic) => `${nic.name}${nic.kind ? ` (${nic.kind})` : ''}${nic.speedMbps ? ` ${nic.speedMbps} Mbit/s` : ''}${nic.driver ? ` ${nic.driver}` : ''}${nic.mtu ? ` mtu ${nic.mtu}` : ''}${nic.isManagement ? ' (management)' : ''}`).join('; ');
    const tools = TOOLS.filter((tool) => facts.tools[tool]).map((tool) => `${tool} ${String(facts.tools[tool])}`).join(', ');
    const cells = [name, role, facts.os.prettyName ?? '', `${facts.kernel.release ?? ''} ${facts.arch ?? ''}`, `${facts.cpu.model ?? ''}${facts.cpu.count ? ` × ${facts.cpu.count}` : ''}`, virtualization, nics, tools];
    return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
  });
  return `<h3>Hosts</h3><table class="facts"><thead><tr><th>host</th><th>in the experiment</th><th>OS</th><th>kernel</th><th>CPU</th><th>virtualization</th><th>NICs</th><th>tools</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function labsHtml(run: ReportRun): string {
  const { record } = run;
  if (record.topologies.length === 0) return '';
  const parts = record.topologies.map((topology) => {
    const deployed = run.deployed?.[topology.caseLabel];
    const offloads = topology.offloads ? Object.entries(topology.offloads).map(([flag, state]) => `${flag} ${state}`).join(', ') : null;
    return `<details><summary>${escapeHtml(topology.caseLabel)} — lab ${escapeHtml(topology.labId)}, applied ${escapeHtml(topology.appliedAt)}</summary>${definitionList([['plan fingerprint', topology.fingerprint], ['server offloads', offloads]])}<pre>${escapeHtml(stringify(topology.containers))}</pre>${deployed ? `<h4>As deployed</h4><pre>${escapeHtml(JSON.stringify(deployed, null, 1))}</pre>` : ''}</details>`;
  });
  return `<h3>Labs per case</h3>${parts.join('')}`;
}

/** commands.log lines: started, run key, host, outcome, duration, command (tabs and newlines escaped). */
export function parseCommandsLog(text: string): { startedAt: string; runKey: string; host: string; outcome: string; duration: string; command: string }[] {
  const unescape = (field: string): string => field.replace(/\\(\\|n|t)/g, (_, char: string) => (char === 'n' ? '\n' : char === 't' ? '\t' : '\\'));
  return text.split('\n').filter((line) => line.trim()).map((line) => {
    const [startedAt = '', runKey = '', host = '', outcome = '', duration = '', ...rest] = line.split('\t');
    return { startedAt, runKey, host, outcome: unescape(outcome), duration, command: unescape(rest.join('\t')) };
  });
}

function commandsHtml(run: ReportRun): string {
  const commands = parseCommandsLog(run.commandsLog);
  if (commands.length === 0) return '';
  const rows = commands.map((entry) => `<tr><td>${escapeHtml(entry.startedAt)}</td><td>${escapeHtml(entry.host)}</td><td>${escapeHtml(entry.runKey)}</td><td>${escapeHtml(entry.outcome)}</td><td class="num">${escapeHtml(entry.duration)}</td><td><code>${escapeHtml(entry.command)}</code></td></tr>`);
  return `<details class="commands"><summary>The ${commands.length} commands run on the hosts</summary><table><thead><tr><th>started</th><th>host</th><th>run</th><th>outcome</th><th>took</th><th>command</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

/** The charts of one run as SVG documents, named for files (charts/<run>/<name>.svg in a bundle). */
export function runChartSvgs(view: RunView): ChartSvg[] {
  return runCharts(view, PRINT_PALETTE).map((chart) => ({ name: chart.name, title: chart.title, svg: renderChartSvg(chart.option, CHART_SIZE.width, CHART_SIZE.height) }));
}

/** A study run beside the paper: relative values side by side, each finding's verdict with its evidence and source. */
function studyHtml(study: StudyComparisonView): string {
  if (study.missing) return `<section class="study" data-study="${escapeHtml(study.studyId)}"><h3>Beside the paper</h3><p class="muted">${escapeHtml(study.missing)}</p></section>`;
  const table = studyTable(study);
  const findings = study.findings.map((finding) => {
    const sources = finding.rests.map((rest) => `${rest.label}: ${rest.location.where}, “${rest.location.quote}”`).join('; ');
    return `<li data-finding="${escapeHtml(finding.id)}" data-verdict="${finding.verdict}"><span class="verdict ${finding.verdict}">${escapeHtml(VERDICT_TEXT[finding.verdict])}</span> ${escapeHtml(finding.claim)}<br><span class="muted">${escapeHtml(finding.detail)}${sources ? ` — paper: ${escapeHtml(sources)}` : ''}</span></li>`;
  });
  const substitutions = study.substitutions.map((item) => `<li><b>${escapeHtml(item.paper)}</b> → ${escapeHtml(item.cnlab ?? 'not reproduced here')}${item.reproduces ? `<br><span class="muted">Reproduces: ${escapeHtml(item.reproduces)}</span>` : ''}${item.differs ? `<br><span class="muted">Differs: ${escapeHtml(item.differs)}</span>` : ''}</li>`);
  return `<section class="study" data-study="${escapeHtml(study.studyId)}"><h3>Beside the paper: ${escapeHtml(study.title)} — ${escapeHtml(study.partTitle)}</h3><p class="caption">${escapeHtml(study.citation)}. Relative values only (ours against our baseline, the paper's against its own): the hardware differs. Findings: ${escapeHtml(verdictSummary(study))}.</p>${table ? tableHtml(table) : ''}<ul class="findings">${findings.join('')}</ul><details><summary>What cnlab builds for the paper's networks</summary><ul>${substitutions.join('')}</ul></details></section>`;
}

function runHtml(run: ReportRun, detailed: boolean): string {
  const { view, record } = run;
  const workload = Object.entries(view.workload).map(([key, value]) => `${key} ${String(value)}`).join(', ');
  const summary = definitionList([
    ['run', view.runId],
    ['state', view.state],
    ['created', view.createdAt],
    ['finished', record.finishedAt],
    ['workload', workload],
    ['repetitions per cell', view.repetitions],
    ['baseline', view.baseline],
    ['cases', view.modes.map((mode) => `${mode.label} (${mode.mode})`).join(', ')],
    ['run order seed', record.seed],
    ['experiment fingerprint', record.fingerprint],
    ['cnlab version of the run', record.cnlabVersion],
  ]);
  const tables = runTables(view).map((section) => `<section class="table" data-table="${escapeHtml(section.name)}"><h3>${escapeHtml(section.title)}</h3><p class="caption">${escapeHtml(section.caption)}</p>${tableHtml(section.table)}</section>`);
  // ECharts' SSR output escapes the labels it draws; the CSP forbids scripts in any case.
  const charts = (run.charts ?? []).map((chart) => `<figure data-chart="${escapeHtml(chart.name)}">${chart.svg}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`);
  const failures = view.failures.length > 0 ? `<h3>Failures</h3><ul>${view.failures.map((failure) => `<li><b>${escapeHtml(failure.cellId)}</b> ${escapeHtml(failure.message)}</li>`).join('')}</ul>` : '';
  const warnings = record.warnings.length > 0 ? `<h3>Warnings</h3><ul>${record.warnings.map((warning) => `<li>${escapeHtml(`${warning.message} ${warning.fix}`)}</li>`).join('')}</ul>` : '';
  const study = view.study ? studyHtml(view.study) : '';
  const head = `<section class="run" id="run-${escapeHtml(view.runId)}"><h2>${escapeHtml(view.name)}</h2>${summary}${study}${tables.join('') || '<p class="muted">This run has no results.</p>'}`;
  if (!detailed) return `${head}${failures}<p class="muted">Charts, hosts, labs and commands of this run are in the bundle's runs/${escapeHtml(view.runId)}/ folder (this report details the first ${DETAILED_RUNS} runs).</p></section>`;
  return `${head}<div class="charts">${charts.join('')}</div>${failures}${warnings}${hostsHtml(record)}${labsHtml(run)}<details><summary>Experiment file</summary><pre>${escapeHtml(stringify(record.experiment))}</pre></details>${commandsHtml(run)}</section>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2329;background:#fff;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #2f6fdb;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:20px 0 4px}
.muted,.unit,.caption{color:#5c6573}.caption{margin:0 0 6px;font-size:13px}
table{border-collapse:collapse;margin:4px 0 8px;font-variant-numeric:tabular-nums}th,td{border-bottom:1px solid #d5d9e0;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f6f7f9;font-weight:600}.num{text-align:right}tr.noisy td{background:#fff6e0}tr.noisy td:first-child::after{content:" (noisy)";color:#b7791f}tr.significant td{font-weight:600}
table.facts td{font-size:12px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dt{color:#5c6573}dd{margin:0}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #d5d9e0;padding:6px}figcaption{font-size:13px;color:#5c6573;text-align:center}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}pre{background:#f6f7f9;padding:8px;overflow:auto;font-size:12px}code{font-size:12px;white-space:pre-wrap;word-break:break-all}
nav ul{padding-left:18px}ul.findings{list-style:none;padding-left:0}ul.findings li{margin:4px 0}
.verdict{display:inline-block;min-width:92px;font-weight:600;border-radius:3px;padding:0 6px;text-align:center}.verdict.holds{background:#dcf3e3;color:#17603a}
.verdict.does-not-hold{background:#fbe2e2;color:#9b1c1c}.verdict.inconclusive,.verdict.not-measured{background:#eceef1;color:#3d4450}
@media print{details{display:block}summary{display:none}}
`;

export function renderRunReport(runs: readonly ReportRun[], options: ReportOptions): string {
  const toc = runs.length > 1 ? `<nav><ul>${runs.map((run) => `<li><a href="#run-${escapeHtml(run.view.runId)}">${escapeHtml(run.view.name)}</a> <span class="muted">${escapeHtml(run.view.runId)}</span></li>`).join('')}</ul></nav>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cnlab ${escapeHtml(options.cnlabVersion)}">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(options.title)}</h1><p class="muted">Written by cnlab ${escapeHtml(options.cnlabVersion)} at ${escapeHtml(options.createdAt)}: ${runs.length} run${runs.length === 1 ? '' : 's'}. Medians with Student-t 95% intervals; changes against a baseline with Welch's interval.</p></header>
${toc}
${runs.map((run, index) => runHtml(run, index < DETAILED_RUNS)).join('\n')}
</body>
</html>
`;
}
