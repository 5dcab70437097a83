// A run made from a study template, set beside the paper: each published number next to ours relative to
// our own baseline (absolute numbers are never compared: the hardware differs), and a verdict per finding
// from our cells' statistics. Pure: the Results view, report.html and the tests get the same answer.
import { compareMoments, kendallTauB, type BaselineComparison } from '../stats';
import type { StudyFinding, StudyPart, StudyPublished, StudyRelation, StudySelection, StudyTemplate } from './study-schema';
import type { FindingVerdict, MeasuredRelativeView, StudyComparisonView, StudyFindingView, StudyRowView } from './study-view';

/** What the comparison needs of a cell's statistics (core's CellSummary has it). */
export interface ComparedCell {
  caseLabel: string;
  axisValues: Record<string, string | number | boolean>;
  primary: { name: string; unit: string };
  metrics: Record<string, { n: number; mean: number; median: number; stdDev: number | null }>;
}

/** A change within ±this % counts as none: what "no difference" means when a claim's direction is tested. */
const NEGLIGIBLE_PERCENT = 5;

type Looked<T> = { ok: true; value: T } | { ok: false; why: string };

const PERCENT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const NUMBER = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

function signedPercent(value: number): string {
  return `${value < 0 ? '−' : '+'}${PERCENT.format(Math.abs(value))} %`;
}

function describeWhere(where: Record<string, unknown>): string {
  const entries = Object.entries(where);
  return entries.length === 0 ? '' : ` (${entries.map(([axis, value]) => `${axis} ${String(value)}`).join(', ')})`;
}

function findCell(cells: readonly ComparedCell[], label: string, where: Record<string, unknown>): Looked<ComparedCell> {
  const matches = cells.filter((cell) => cell.caseLabel === label && Object.entries(where).every(([axis, value]) => cell.axisValues[axis] === value));
  if (matches.length === 1) return { ok: true, value: matches[0] as ComparedCell };
  if (matches.length === 0) return { ok: false, why: `no cell of case ${label}${describeWhere(where)} in this run` };
  const varying = Object.keys(matches[0]?.axisValues ?? {}).find((axis) => new Set(matches.map((cell) => String(cell.axisValues[axis]))).size > 1);
  return { ok: false, why: `case ${label}${describeWhere(where)} has ${matches.length} cells: the template must name ${varying ?? 'an axis'}` };
}

interface Picked {
  cell: ComparedCell;
  metric: string;
  stats: ComparedCell['metrics'][string];
  name: string;
}

function pick(cells: readonly ComparedCell[], selection: StudySelection & { case: string }, defaultMetric: string): Looked<Picked> {
  const found = findCell(cells, selection.case, selection.where);
  if (!found.ok) return found;
  const metric = selection.metric ?? defaultMetric;
  const stats = found.value.metrics[metric];
  if (!stats || stats.n === 0) return { ok: false, why: `case ${selection.case}${describeWhere(selection.where)} has no ${metric} result (its runs failed or did not measure it)` };
  return { ok: true, value: { cell: found.value, metric, stats, name: `${selection.case}${describeWhere(selection.where)}` } };
}

interface Relative {
  view: MeasuredRelativeView;
  comparison: BaselineComparison;
  label: string;
}

/** `of` against `to` (the baseline case with the same axis values unless `to` says otherwise). */
function relative(cells: readonly ComparedCell[], relation: StudyRelation, part: StudyPart): Looked<Relative> {
  const metricDefault = defaultMetric(cells);
  const of = pick(cells, relation.of, metricDefault);
  if (!of.ok) return of;
  // No `to`: the baseline case with the same axis values; a `to` without a case: the same case, other axis values.
  const reference = relation.to ? (relation.to.case ?? relation.of.case) : (part.experiment.baseline ?? relation.of.case);
  const to = pick(cells, { case: reference, where: { ...relation.of.where, ...(relation.to?.where ?? {}) }, metric: relation.to?.metric ?? of.value.metric }, metricDefault);
  if (!to.ok) return to;
  if (to.value.stats.mean === 0) return { ok: false, why: `${to.value.name} has a mean of 0: no relative value` };
  const moments = (stats: Picked['stats']) => ({ mean: stats.mean, variance: (stats.stdDev ?? 0) ** 2, n: stats.n });
  const comparison = compareMoments(moments(of.value.stats), moments(to.value.stats));
  return {
    ok: true,
    value: {
      comparison,
      label: `${of.value.name} vs ${to.value.name}`,
      view: { value: of.value.stats.median, reference: to.value.stats.median, percent: comparison.percentChange, ci95: comparison.ci95, significant: comparison.significant, n: of.value.stats.n, referenceN: to.value.stats.n },
    },
  };
}

function defaultMetric(cells: readonly ComparedCell[]): string {
  return cells[0]?.primary.name ?? 'value';
}

function paperPercent(item: StudyPublished, part: StudyPart): number | null {
  if (item.percent !== undefined) return item.percent;
  if (item.ratio !== undefined) return (item.ratio - 1) * 100;
  const reference = item.relativeTo ? part.published.find((candidate) => candidate.id === item.relativeTo) : undefined;
  if (item.value === undefined || reference?.value === undefined || reference.value === 0) return null;
  return ((item.value - reference.value) / Math.abs(reference.value)) * 100;
}

function publishedRow(item: StudyPublished, part: StudyPart, cells: readonly ComparedCell[]): StudyRowView {
  const form = item.value !== undefined ? 'value' : item.percent !== undefined ? 'percent' : 'ratio';
  const base = { id: item.id, label: item.label, form, paperValue: item.value ?? item.percent ?? item.ratio ?? null, unit: item.unit ?? null, paperPercent: paperPercent(item, part), location: item.location } as const;
  if (!item.measure) return { ...base, measures: null, ours: null, note: 'not reproduced here (see the substitutions)' };
  const measured = relative(cells, item.measure, part);
  if (!measured.ok) return { ...base, measures: item.measure.of.case, ours: null, note: measured.why };
  return { ...base, measures: measured.value.label, ours: measured.value.view, note: measured.value.comparison.note };
}

function interval(view: MeasuredRelativeView): string {
  return view.ci95 ? `${signedPercent(view.percent)} (95% CI ${signedPercent(view.ci95.low)} to ${signedPercent(view.ci95.high)})` : `${signedPercent(view.percent)} (no interval: a single run)`;
}

function verdictOf(verdict: FindingVerdict, detail: string, tau: number | null = null): Pick<StudyFindingView, 'verdict' | 'detail' | 'tau'> {
  return { verdict, detail, tau };
}

function changeVerdict(finding: Extract<StudyFinding, { kind: 'change' }>, part: StudyPart, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const measured = relative(cells, finding, part);
  if (!measured.ok) return verdictOf('not-measured', measured.why);
  const { view, label } = measured.value;
  const said = `${label}: ${interval(view)}`;
  if (!view.ci95) return verdictOf('inconclusive', `${said}: add repetitions to test it`);
  const wanted = finding.direction === 'lower' ? view.ci95.high < 0 : view.ci95.low > 0;
  if (wanted) return verdictOf('holds', `${said}, significantly ${finding.direction}`);
  if (view.significant) return verdictOf('does-not-hold', `${said}: significantly ${finding.direction === 'lower' ? 'higher' : 'lower'} on these hosts`);
  // No significant change is evidence against the claim only when the interval rules out a change that matters.
  if (view.ci95.low >= -NEGLIGIBLE_PERCENT && view.ci95.high <= NEGLIGIBLE_PERCENT) return verdictOf('does-not-hold', `${said}: no difference beyond ±${NEGLIGIBLE_PERCENT} % on these hosts`);
  return verdictOf('inconclusive', `${said}: no significant difference, and the interval is too wide to rule one out; add repetitions`);
}

function closeVerdict(finding: Extract<StudyFinding, { kind: 'close' }>, part: StudyPart, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const measured = relative(cells, finding, part);
  if (!measured.ok) return verdictOf('not-measured', measured.why);
  const { view, label } = measured.value;
  const tolerance = finding.tolerancePercent;
  const said = `${label}: ${interval(view)}, tolerance ±${tolerance} %`;
  if (!view.ci95) return verdictOf(Math.abs(view.percent) > tolerance ? 'does-not-hold' : 'inconclusive', `${said}: a single run; add repetitions to test it`);
  if (view.ci95.low >= -tolerance && view.ci95.high <= tolerance) return verdictOf('holds', `${said}: the whole interval is inside`);
  if (view.ci95.low > tolerance || view.ci95.high < -tolerance) return verdictOf('does-not-hold', `${said}: the whole interval is outside`);
  return verdictOf('inconclusive', `${said}: the interval reaches beyond it; add repetitions`);
}

function extremeVerdict(finding: Extract<StudyFinding, { kind: 'extreme' }>, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const metric = finding.metric ?? defaultMetric(cells);
  const picked = [...new Set([finding.case, ...finding.among])].map((label) => ({ label, found: pick(cells, { case: label, where: finding.where, metric }, metric) }));
  const mine = picked.find((entry) => entry.label === finding.case)?.found;
  if (!mine?.ok) return verdictOf('not-measured', mine ? mine.why : `case ${finding.case} is not measured`);
  const measured = picked.flatMap((entry) => (entry.found.ok ? [{ label: entry.label, stats: entry.found.value.stats }] : []));
  const skipped = picked.filter((entry) => !entry.found.ok).map((entry) => entry.label);
  if (measured.length < 2) return verdictOf('not-measured', `only ${finding.case} is measured among ${finding.among.join(', ')}`);
  const sign = finding.which === 'max' ? 1 : -1;
  const ranked = [...measured].sort((a, b) => sign * (b.stats.median - a.stats.median));
  const top = ranked[0] as (typeof ranked)[number];
  const runnerUp = ranked.find((entry) => entry.label !== finding.case) as (typeof ranked)[number];
  const word = finding.which === 'max' ? 'largest' : 'smallest';
  const list = ranked.map((entry) => `${entry.label} ${NUMBER.format(entry.stats.median)}`).join(', ');
  const missing = skipped.length > 0 ? ` (not measured: ${skipped.join(', ')})` : '';
  if (top.label !== finding.case) return verdictOf('does-not-hold', `${top.label} has the ${word} ${metric}, not ${finding.case}: ${list}${missing}`);
  const margin = compareMoments({ mean: top.stats.mean, variance: (top.stats.stdDev ?? 0) ** 2, n: top.stats.n }, { mean: runnerUp.stats.mean, variance: (runnerUp.stats.stdDev ?? 0) ** 2, n: runnerUp.stats.n });
  const clear = margin.significant ? `, significantly (${signedPercent(margin.percentChange)} against ${runnerUp.label})` : `, within noise of ${runnerUp.label} (${signedPercent(margin.percentChange)})`;
  return verdictOf('holds', `${finding.case} has the ${word} median ${metric}${clear}: ${list}${missing}`);
}

function orderVerdict(finding: Extract<StudyFinding, { kind: 'order' }>, part: StudyPart, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const pairs: { label: string; paper: number; ours: number }[] = [];
  const skipped: string[] = [];
  for (const valueId of finding.values) {
    const item = part.published.find((candidate) => candidate.id === valueId);
    if (!item?.measure || item.value === undefined) {
      skipped.push(item?.label ?? valueId);
      continue;
    }
    const picked = pick(cells, item.measure.of, defaultMetric(cells));
    if (picked.ok) pairs.push({ label: item.measure.of.case, paper: item.value, ours: picked.value.stats.median });
    else skipped.push(item.label);
  }
  const missing = skipped.length > 0 ? `; not in this comparison: ${skipped.join(', ')}` : '';
  if (pairs.length < 3) return verdictOf('inconclusive', `only ${pairs.length} of the networks are measured: at least 3 are needed to compare an order${missing}`);
  const tau = kendallTauB(pairs.map((pair) => pair.paper), pairs.map((pair) => pair.ours));
  if (tau === null) return verdictOf('inconclusive', `the values are all tied: no order to compare${missing}`);
  const order = (key: 'paper' | 'ours'): string => [...pairs].sort((a, b) => a[key] - b[key]).map((pair) => pair.label).join(' < ');
  const detail = `Kendall's tau-b ${tau.toFixed(2)} over ${pairs.length} networks (holds at ≥ ${finding.atLeast.toFixed(2)}); paper: ${order('paper')}; here: ${order('ours')}${missing}`;
  return verdictOf(tau >= finding.atLeast ? 'holds' : 'does-not-hold', detail, tau);
}

function lessVerdict(finding: Extract<StudyFinding, { kind: 'less' }>, part: StudyPart, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const less = relative(cells, finding.less, part);
  if (!less.ok) return verdictOf('not-measured', less.why);
  const than = relative(cells, finding.than, part);
  if (!than.ok) return verdictOf('not-measured', than.why);
  const [a, b] = [less.value, than.value];
  const said = `${a.label}: ${interval(a.view)}; ${b.label}: ${interval(b.view)}`;
  if (a.view.percent >= b.view.percent) return verdictOf('does-not-hold', `${said}: the first is not below the second`);
  const apart = a.view.ci95 && b.view.ci95 ? a.view.ci95.high < b.view.ci95.low : false;
  if (apart) return verdictOf('holds', `${said}: below, the intervals apart`);
  return verdictOf('inconclusive', `${said}: below, but the intervals overlap; add repetitions`);
}

function trendVerdict(finding: Extract<StudyFinding, { kind: 'trend' }>, cells: readonly ComparedCell[]): ReturnType<typeof verdictOf> {
  const metric = finding.metric ?? defaultMetric(cells);
  const points = cells
    .filter((cell) => cell.caseLabel === finding.case && Object.entries(finding.where).every(([axis, value]) => cell.axisValues[axis] === value))
    .flatMap((cell) => {
      const x = cell.axisValues[finding.axis];
      const stats = cell.metrics[metric];
      return typeof x === 'number' && stats && stats.n > 0 ? [{ x, y: stats.median }] : [];
    })
    .sort((a, b) => a.x - b.x);
  if (points.length < 3) return verdictOf(points.length === 0 ? 'not-measured' : 'inconclusive', `case ${finding.case} has ${points.length} measured values of ${finding.axis}: at least 3 are needed for a trend`);
  const tau = kendallTauB(points.map((point) => point.x), points.map((point) => point.y));
  if (tau === null) return verdictOf('inconclusive', `${metric} does not change along ${finding.axis}`, null);
  const series = points.map((point) => `${point.x}: ${NUMBER.format(point.y)}`).join(', ');
  const holds = finding.direction === 'decreasing' ? tau <= -finding.atLeast : tau >= finding.atLeast;
  return verdictOf(holds ? 'holds' : 'does-not-hold', `Kendall's tau-b of ${finding.axis} against ${metric} ${tau.toFixed(2)} (${finding.direction} holds at ${finding.direction === 'decreasing' ? '≤ −' : '≥ '}${finding.atLeast.toFixed(2)}); ${finding.case}: ${series}`, tau);
}

function findingView(finding: StudyFinding, part: StudyPart, cells: readonly ComparedCell[]): StudyFindingView {
  const verdict = (() => {
    switch (finding.kind) {
      case 'change':
        return changeVerdict(finding, part, cells);
      case 'close':
        return closeVerdict(finding, part, cells);
      case 'extreme':
        return extremeVerdict(finding, cells);
      case 'order':
        return orderVerdict(finding, part, cells);
      case 'less':
        return lessVerdict(finding, part, cells);
      case 'trend':
        return trendVerdict(finding, cells);
    }
  })();
  const rests = finding.rests.flatMap((restId) => {
    const item = part.published.find((candidate) => candidate.id === restId);
    return item ? [{ id: item.id, label: item.label, location: item.location }] : [];
  });
  return { id: finding.id, claim: finding.claim, kind: finding.kind, ...verdict, rests };
}

/** The template's substitutions as the views show them (the dialog lists them, a run's comparison repeats them). */
export function substitutionsOf(study: Pick<StudyTemplate, 'substitutions'>): StudyComparisonView['substitutions'] {
  return study.substitutions.map((item) => ({ paper: item.paper, cases: item.cases, cnlab: item.cnlab, reproduces: item.reproduces ?? null, differs: item.differs ?? null }));
}

/** The comparison of one run of a study's part (its cells' statistics) with what the paper reports. */
export function compareWithStudy(study: StudyTemplate, partName: string, cells: readonly ComparedCell[]): StudyComparisonView {
  const part = study.parts.find((candidate) => candidate.name === partName);
  const head = { studyId: study.id, title: study.title, citation: study.source.citation, part: partName, substitutions: substitutionsOf(study) };
  if (!part) return { ...head, partTitle: partName, metric: defaultMetric(cells), rows: [], findings: [], missing: `study ${study.id} has no part ${partName} in this cnlab` };
  return {
    ...head,
    partTitle: part.title,
    metric: defaultMetric(cells),
    rows: part.published.map((item) => publishedRow(item, part, cells)),
    findings: part.findings.map((finding) => findingView(finding, part, cells)),
    missing: null,
  };
}

/** A run that names a study this cnlab does not have (an imported run of a newer template). */
export function missingStudy(studyId: string, partName: string): StudyComparisonView {
  return { studyId, title: studyId, citation: '', part: partName, partTitle: partName, metric: '', rows: [], findings: [], substitutions: [], missing: `study template ${studyId} is not in this cnlab: update cnlab to compare this run with the paper` };
}
