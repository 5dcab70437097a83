// The shape of run.json as cnlab's readers rely on it, checked whenever a record is read: a damaged or
// hostile run.json (one in an imported bundle can be re-signed to match its checksums) is refused with
// the file and the field named, instead of failing later inside the statistics or the report. Values
// that readers only display (host facts, preflight, deployed topologies) stay loosely typed.
import { z } from 'zod';

const objectOf = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const cellSchema = objectOf({
  index: z.number().int().nonnegative(),
  id: z.string(),
  caseLabel: z.string(),
  params: objectOf({ tool: z.string() }),
  axisValues: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  pairs: z.number(),
  interferers: z.number(),
});

const blockSchema = objectOf({
  caseLabel: z.string(),
  runs: z.array(objectOf({ key: z.string(), cellIndex: z.number().int().nonnegative(), repetition: z.number(), warmup: z.boolean() })),
});

export const runRecordSchema = objectOf({
  formatVersion: z.literal(1),
  // A run id names its folder: nothing that could climb out of runs/.
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a run id is letters, digits, ".", "_" and "-"'),
  state: z.enum(['running', 'completed', 'cancelled', 'failed']),
  runnerPid: z.number(),
  experimentFile: z.string().nullable(),
  experiment: objectOf({ name: z.string(), workload: objectOf({ tool: z.string() }) }),
  fingerprint: z.string(),
  hostMap: z.record(z.string(), z.string()),
  cnlabVersion: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  seed: z.number(),
  cells: z.array(cellSchema),
  blocks: z.array(blockSchema),
  hostFacts: z.record(z.string(), objectOf({})),
  consents: z.array(z.unknown()),
  topologies: z.array(z.unknown()),
  error: z.string().nullable(),
  resumes: z.array(z.string()),
  warnings: z.array(z.unknown()),
});

/** The first problem of a value that is not a run record, as "field: message". */
export function runRecordProblem(value: unknown): string | null {
  const parsed = runRecordSchema.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the record';
  return `${where}: ${issue?.message ?? 'not a run record'}`;
}
