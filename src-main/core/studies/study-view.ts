// What a run made from a study template shows beside the paper: the paper's relative values next to ours,
// and a verdict per finding. Types only, so the contract can hand them to the page as they are.

export interface StudyLocationView {
  where: string;
  quote: string;
}

/** A relative value of ours: `of` against `to`, from the cells' means (Welch's 95% interval). */
export interface MeasuredRelativeView {
  /** Medians of the two cells, in the metric's unit. */
  value: number;
  reference: number;
  /** (mean − reference mean) / |reference mean| × 100. */
  percent: number;
  ci95: { low: number; high: number } | null;
  significant: boolean;
  /** Measured runs on each side. */
  n: number;
  referenceN: number;
}

export interface StudyRowView {
  id: string;
  label: string;
  /** How the paper gives it: an absolute value (with its relative one when it has a baseline), a % change, a ratio. */
  form: 'value' | 'percent' | 'ratio';
  paperValue: number | null;
  unit: string | null;
  /** The paper's value relative to its baseline, in % (a ratio r is (r − 1) × 100). */
  paperPercent: number | null;
  /** The case(s) of ours it sits beside, e.g. "vxlan-docker vs none-docker". */
  measures: string | null;
  ours: MeasuredRelativeView | null;
  /** Why there is no measured value (not reproduced here, cell missing or failed). */
  note: string | null;
  location: StudyLocationView;
}

export type FindingVerdict = 'holds' | 'does-not-hold' | 'inconclusive' | 'not-measured';

export interface StudyFindingView {
  id: string;
  claim: string;
  kind: string;
  verdict: FindingVerdict;
  /** The evidence in a sentence: the numbers, the interval, tau and over how many networks. */
  detail: string;
  /** Kendall's tau-b, for order and trend findings. */
  tau: number | null;
  /** The published values it rests on, with their locations. */
  rests: { id: string; label: string; location: StudyLocationView }[];
}

export interface StudySubstitutionView {
  paper: string;
  cases: string[];
  cnlab: string | null;
  reproduces: string | null;
  differs: string | null;
}

export interface StudyComparisonView {
  studyId: string;
  title: string;
  citation: string;
  part: string;
  partTitle: string;
  /** The metric the rows compare by default, with its unit. */
  metric: string;
  rows: StudyRowView[];
  findings: StudyFindingView[];
  substitutions: StudySubstitutionView[];
  /** Set when the template is not in this cnlab (an imported run of a newer study): nothing to compare. */
  missing: string | null;
}

/** A study as the "New experiment from study…" dialog lists it. */
export interface StudySummaryView {
  id: string;
  title: string;
  summary: string;
  citation: string;
  hosts: { name: string; role: string; expect: 'bare-metal' | 'vm' | null }[];
  parts: { name: string; title: string; experimentName: string; tool: string; cases: string[] }[];
  substitutions: StudySubstitutionView[];
}
