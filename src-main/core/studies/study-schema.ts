// A study template, format version 1 (resources/studies/*.yaml): a published study's experiments as cnlab
// experiment files (its "parts"), the hosts they name (bound to the user's with --map or the mapping
// dialog), what cnlab substitutes for each network of the paper, the paper's numbers with where they are
// printed, and the findings a run can check. Validated by one zod schema; the parts by the experiment's.
import { yamlDataOf } from '../yaml-data';
import { z } from 'zod';
import { CnlabError } from '../errors';
import { experimentFromData, type ExperimentSpec } from '../experiment/experiment-schema';
import { hostNameSchema } from '../hosts/host-model';

const id = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'an id has lower-case letters, digits or "-" and starts with a letter');
const text = (max: number) => z.string().min(1).max(max);
const axisValue = z.union([z.string(), z.number(), z.boolean()]);

/** Which cell of a run a number comes from: a case, the axis values that pick the cell, and the metric. */
const selectionSchema = z
  .object({
    /** The case label in the part's experiment. */
    case: id.optional(),
    /** Axis values that pick the cell; axes not named must have a single value in the run. */
    where: z.record(z.string(), axisValue).default({}),
    /** A metric of the cell (default: the part's primary metric). */
    metric: z.string().regex(/^[A-Za-z0-9]+$/).optional(),
  })
  .strict();

/** A value of one cell relative to another: `of` against `to` (case and axis values overridden from `of`). */
const relationSchema = z
  .object({
    of: selectionSchema.extend({ case: id }),
    /** The reference cell; by default the part experiment's baseline case with the same axis values. */
    to: selectionSchema.optional(),
  })
  .strict();

/** Where the paper prints a number: the table, figure or paragraph, and the words as printed there. */
const locationSchema = z
  .object({
    /** E.g. "Table VI" or "§IV-B, 'Containers in multiple VMs'". */
    where: text(200),
    /** Verbatim from the reference text (checked by a test), so anyone can find the number. */
    quote: text(400),
  })
  .strict();

/**
 * A number the paper gives: an absolute value (with the published value it is relative to, when the paper
 * has a baseline for it), or a change it states as a percentage or a ratio. `measure` names the cell(s) of
 * our run it sits beside; none when cnlab cannot reproduce that network (the substitution says why).
 */
const publishedSchema = z
  .object({
    id,
    /** How the table names it, e.g. "Docker overlay (multiple hosts)". */
    label: text(120),
    value: z.number().optional(),
    unit: z.string().max(20).optional(),
    /** The published value this one is relative to (its id): the paper's relative value is value / that − 1. */
    relativeTo: id.optional(),
    /** A change the paper states, in % of its baseline (−82.8 = 82.8% lower). */
    percent: z.number().optional(),
    /** A ratio the paper states (3 = three times the reference). */
    ratio: z.number().positive().optional(),
    /** Our cells to set beside it: `of` relative to `to`. */
    measure: relationSchema.optional(),
    location: locationSchema,
  })
  .strict()
  .superRefine((item, context) => {
    const forms = [item.value !== undefined, item.percent !== undefined, item.ratio !== undefined].filter(Boolean).length;
    if (forms !== 1) context.addIssue({ code: 'custom', message: `published ${item.id}: give exactly one of value, percent or ratio` });
    if (item.relativeTo && item.value === undefined) context.addIssue({ code: 'custom', message: `published ${item.id}: relativeTo needs a value` });
  });

const findingBase = {
  id,
  /** The finding as the paper states it, in one sentence. */
  claim: text(300),
  /** Published values it rests on (ids), shown next to the verdict. */
  rests: z.array(id).default([]),
};

/** `of` differs from `to` in the stated direction (Welch's 95% interval of the change excludes 0). */
const changeFinding = z.object({ ...findingBase, kind: z.literal('change'), direction: z.enum(['lower', 'higher']), ...relationSchema.shape }).strict();
/** `of` is within ±tolerance % of `to` (the whole 95% interval of the change is inside). */
const closeFinding = z.object({ ...findingBase, kind: z.literal('close'), tolerancePercent: z.number().positive().max(100), ...relationSchema.shape }).strict();
/** Among `cases`, `case` has the largest (max) or smallest (min) median of the metric. */
const extremeFinding = z
  .object({ ...findingBase, kind: z.literal('extreme'), which: z.enum(['max', 'min']), case: id, among: z.array(id).min(2), where: selectionSchema.shape.where, metric: selectionSchema.shape.metric })
  .strict();
/** Our medians rank the cases as the published values do: Kendall's tau-b at least `atLeast`. */
const orderFinding = z
  .object({ ...findingBase, kind: z.literal('order'), values: z.array(id).min(3), atLeast: z.number().min(-1).max(1).default(0.6) })
  .strict();
/** The change `less.of`/`less.to` is below the change `than.of`/`than.to` (e.g. TCP loses more than UDP). */
const lessFinding = z.object({ ...findingBase, kind: z.literal('less'), less: relationSchema, than: relationSchema }).strict();
/** Along an axis, a case's medians fall (or rise): Kendall's tau-b of axis value against median beyond ±atLeast. */
const trendFinding = z
  .object({ ...findingBase, kind: z.literal('trend'), case: id, axis: z.string(), direction: z.enum(['decreasing', 'increasing']), where: selectionSchema.shape.where, metric: selectionSchema.shape.metric, atLeast: z.number().min(0).max(1).default(0.6) })
  .strict();

export const findingSchema = z.discriminatedUnion('kind', [changeFinding, closeFinding, extremeFinding, orderFinding, lessFinding, trendFinding]);

/** One network of the paper and what cnlab builds for it (null: not reproducible here, with why). */
const substitutionSchema = z
  .object({
    paper: text(80),
    /** The case labels that stand for it, across parts. */
    cases: z.array(id).default([]),
    /** What cnlab builds, e.g. "Docker swarm overlay (VXLAN) across h1 and h2". */
    cnlab: text(300).nullable(),
    /** What the substitute reproduces, and what it does not (the vendor's own agents, their KV store…). */
    reproduces: text(600).optional(),
    differs: text(600).optional(),
  })
  .strict();

const partSchema = z
  .object({
    name: id,
    title: text(160),
    /** An experiment file (v1) as it would be written by hand, with the study's host names. */
    experiment: z.record(z.string(), z.unknown()),
    published: z.array(publishedSchema).default([]),
    findings: z.array(findingSchema).default([]),
  })
  .strict();

const studyHostSchema = z
  .object({
    name: hostNameSchema,
    role: text(200),
    /** A host label it should carry (bare-metal, vm), checked against the inventory and the probed virtualization. */
    expect: z.enum(['bare-metal', 'vm']).optional(),
  })
  .strict();

export const studySchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('study'),
    id,
    title: text(120),
    summary: text(2000),
    source: z.object({ citation: text(400), reference: text(200).optional(), note: text(600).optional() }).strict(),
    hosts: z.array(studyHostSchema).min(1).max(8),
    substitutions: z.array(substitutionSchema).default([]),
    parts: z.array(partSchema).min(1).max(8),
  })
  .strict();

type StudyParsed = z.infer<typeof studySchema>;
export type StudyFinding = z.infer<typeof findingSchema>;
export type StudyPublished = z.infer<typeof publishedSchema>;
export type StudySelection = z.infer<typeof selectionSchema>;
export type StudyRelation = z.infer<typeof relationSchema>;
export type StudySubstitution = z.infer<typeof substitutionSchema>;

export interface StudyPart extends Omit<StudyParsed['parts'][number], 'experiment'> {
  /** The part's experiment, validated, with the study's host names and `study: { id, part }` set. */
  experiment: ExperimentSpec;
  /** The same experiment as the template writes it (v, kind and study added): what a user gets to edit. */
  document: Record<string, unknown>;
}

export interface StudyTemplate extends Omit<StudyParsed, 'parts'> {
  parts: StudyPart[];
}

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${source}: ${issue.path.length > 0 ? issue.path.join('.') : '(top)'}: ${issue.message}`)
    .join('\n');
}

function invalid(source: string, message: string): CnlabError {
  return new CnlabError('invalid-input', `${source}: ${message}`);
}

/** Every case a selection names exists in the part, every published id a finding rests on too. */
function checkReferences(study: StudyParsed, part: StudyPart, source: string): void {
  const where = `${source}: part ${part.name}`;
  const labels = new Set(part.experiment.modes.map((entry) => entry.label));
  const published = new Set(part.published.map((item) => item.id));
  const checkCase = (label: string | undefined, what: string): void => {
    if (label !== undefined && !labels.has(label)) throw new CnlabError('invalid-input', `${where}: ${what} names case ${label}, not one of the experiment's (${[...labels].join(', ')})`);
  };
  const checkRelation = (relation: StudyRelation | undefined, what: string): void => {
    if (!relation) return;
    checkCase(relation.of.case, what);
    checkCase(relation.to?.case, what);
    if (!relation.to && !part.experiment.baseline) throw new CnlabError('invalid-input', `${where}: ${what} is relative to the baseline, and the experiment names none: set baseline, or give to.case`);
  };
  for (const item of part.published) {
    checkRelation(item.measure, `published ${item.id}`);
    if (item.relativeTo && !published.has(item.relativeTo)) throw new CnlabError('invalid-input', `${where}: published ${item.id} is relative to ${item.relativeTo}, which is not a published value of this part`);
  }
  for (const finding of part.findings) {
    const what = `finding ${finding.id}`;
    for (const rest of finding.rests) if (!published.has(rest)) throw new CnlabError('invalid-input', `${where}: ${what} rests on ${rest}, not a published value of this part`);
    switch (finding.kind) {
      case 'change':
      case 'close':
        checkRelation(finding, what);
        break;
      case 'less':
        checkRelation(finding.less, what);
        checkRelation(finding.than, what);
        break;
      case 'extreme':
        for (const label of [finding.case, ...finding.among]) checkCase(label, what);
        break;
      case 'trend':
        checkCase(finding.case, what);
        break;
      case 'order':
        for (const value of finding.values) {
          const item = part.published.find((candidate) => candidate.id === value);
          if (!item) throw new CnlabError('invalid-input', `${where}: ${what} orders ${value}, not a published value of this part`);
          if (item.value === undefined) throw new CnlabError('invalid-input', `${where}: ${what} orders ${value}, which has no value to rank`);
        }
        break;
    }
  }
  const hostNames = new Set(study.hosts.map((host) => host.name));
  const unknown = part.experiment.hosts.find((host) => !hostNames.has(host));
  if (unknown) throw new CnlabError('invalid-input', `${where}: the experiment uses host ${unknown}, which the study's hosts do not list`);
}

/** Validates parsed YAML of a study template; each part's experiment is validated as an experiment file. */
export function studyFromData(data: unknown, source = 'study'): StudyTemplate {
  if (typeof data !== 'object' || data === null) throw invalid(source, 'a study is a mapping with v: 1, kind: study, id, title, summary, source, hosts and parts');
  if ((data as { kind?: unknown }).kind !== 'study') throw invalid(source, 'kind must be "study" (an experiment file is run as it is)');
  const version = (data as { v?: unknown }).v;
  if (version !== 1) throw invalid(source, `format version ${JSON.stringify(version ?? null)} is not supported: this cnlab reads v: 1`);
  const result = studySchema.safeParse(data);
  if (!result.success) throw new CnlabError('invalid-input', describeIssues(result.error, source));
  const parsed = result.data;
  const names = parsed.parts.map((part) => part.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw invalid(source, `two parts are named ${repeated}: give each a distinct name`);
  const parts = parsed.parts.map((part): StudyPart => {
    const document = { v: 1, kind: 'experiment', ...part.experiment, study: { id: parsed.id, part: part.name } };
    const experiment = experimentFromData(document, `${source}: part ${part.name}`);
    const built: StudyPart = { ...part, experiment, document };
    checkReferences(parsed, built, source);
    return built;
  });
  return { ...parsed, parts };
}

export function parseStudyText(textValue: string, source = 'study'): StudyTemplate {
  return studyFromData(yamlDataOf(textValue, source, 'YAML'), source);
}
