// The payload schema of every LabApi request: main validates each call against it before anything runs,
// whichever transport (Electron IPC, browser-mode WebSocket) delivered it. Shared with the renderer's forms.
import { z } from 'zod';
import { hostNameSchema, hostSchema } from '../core/hosts/host-model';
import { RECOMMENDATION_CRITERIA, type RecommendationCriterion } from '../core/recommendation/recommendation-view';
import { OBJECT_NAME_PATTERN } from '../core/topology/topology-schema';
import type { LabApiMethod } from './lab-api';

const none = z.undefined().or(z.null()).or(z.object({}).strict());
const labId = z.string().regex(OBJECT_NAME_PATTERN, 'a lab id is a topology name: lower-case letters, digits or "-"');
/** Topology text is YAML; a generous bound still stops a runaway paste from reaching the planner. */
const topologyText = z.string().min(1, 'the topology is empty').max(2_000_000, 'the topology text is over 2 MB');
const path = z.string().min(1).max(4096);
const secretKind = z.enum(['password', 'passphrase']);
/** A run folder's name under runs/ (run-store.ts), or imports/<bundle>/<run id> for an imported one: never a path. */
const runRef = z.string().regex(/^(imports\/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a run id is a run folder name such as 20261122-093000-quick, or imports/<bundle>/<run> (see the runs list)');
const runRefs = z.array(runRef).min(1, 'choose at least one run').max(20_000);
const studyName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a study or part name has lower-case letters, digits or "-" (see the study list)');
const priorityWeight = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]);

export const LAB_API_REQUEST_SCHEMAS = {
  getAppInfo: none,
  openWorkspace: z.object({ dir: path, create: z.boolean() }).strict(),
  listRecentWorkspaces: none,
  saveWorkspaceAs: z.object({ dir: path }).strict(),
  getWorkspaceInfo: none,
  listHosts: none,
  saveHost: z.object({ host: hostSchema, originalName: hostNameSchema.optional() }).strict(),
  removeHost: z.object({ name: hostNameSchema }).strict(),
  checkHost: z.object({ name: hostNameSchema }).strict(),
  trustHostKey: z.object({ name: hostNameSchema, fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/=]{20,}$/, 'a fingerprint looks like SHA256:…') }).strict(),
  probeHost: z.object({ name: hostNameSchema }).strict(),
  probeAllHosts: none,
  previewSshConfigImport: z.object({ file: path.optional() }).strict(),
  importSshConfigHosts: z.object({ file: path.optional(), names: z.array(hostNameSchema).min(1).max(500) }).strict(),
  setHostSecret: z
    .object({ host: hostNameSchema, kind: secretKind, value: z.string().min(1, 'the secret is empty').max(4096, 'the secret is over 4096 characters'), remember: z.boolean(), acceptUnprotected: z.boolean().optional() })
    .strict(),
  forgetHostSecret: z.object({ host: hostNameSchema, kind: secretKind }).strict(),
  listTopologies: none,
  readTopology: z.object({ name: labId }).strict(),
  saveTopology: z.object({ name: labId, text: topologyText }).strict(),
  listExperiments: none,
  readExperiment: z.object({ name: labId }).strict(),
  saveExperiment: z.object({ name: labId, text: topologyText }).strict(),
  checkTopology: z.object({ text: topologyText }).strict(),
  previewTopology: z.object({ text: topologyText }).strict(),
  applyTopology: z.object({ text: topologyText }).strict(),
  verifyLab: z.object({ labId }).strict(),
  teardownLab: z.object({ labId }).strict(),
  sweepHosts: z.object({ hosts: z.array(hostNameSchema).max(500), dryRun: z.boolean() }).strict(),
  listLabs: none,
  getLab: z.object({ labId }).strict(),
  planExperiment: z.object({ text: topologyText }).strict(),
  startExperiment: z.object({ text: topologyText }).strict(),
  resumeRun: z.object({ runId: runRef }).strict(),
  listRuns: none,
  getRun: z.object({ runId: runRef }).strict(),
  compareRuns: z.object({ runA: runRef, runB: runRef }).strict(),
  importBundle: z.object({ file: path }).strict(),
  exportBundle: z.object({ runIds: runRefs, file: path }).strict(),
  writeRunReport: z.object({ runIds: runRefs, file: path }).strict(),
  listStudies: none,
  studyExperiment: z
    .object({
      studyId: studyName,
      part: studyName,
      hostMap: z.record(hostNameSchema, hostNameSchema).refine((map) => Object.keys(map).length <= 16, 'at most 16 hosts are mapped'),
    })
    .strict(),
  recommendModes: z.object({ priorities: z.object(Object.fromEntries(RECOMMENDATION_CRITERIA.map((criterion) => [criterion, priorityWeight])) as Record<RecommendationCriterion, typeof priorityWeight>).strict() }).strict(),
  cancelJob: z.object({ jobId: z.string().regex(/^job-[0-9a-z-]{1,40}$/, 'a job id looks like job-…') }).strict(),
  getCommandLog: z.object({ host: hostNameSchema.optional(), lab: labId.optional(), limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  startDemoLab: none,
  stopDemoLab: none,
} as const satisfies Record<LabApiMethod, z.ZodType>;
