// The versions of workspace.yaml: one schema per format version and one upgrade step from each version to
// the next. Steps edit the yaml Document in place, so the user's comments and keys cnlab does not know
// survive an upgrade. Host entries stay `unknown` here: the inventory validates them (hosts/inventory.ts).
import { isMap, type Document } from 'yaml';
import { z } from 'zod';
import { CnlabError } from '../errors';

export const WORKSPACE_FORMAT_VERSION = 2;

export const workspaceV1Schema = z.looseObject({
  formatVersion: z.literal(1),
  hosts: z.array(z.unknown()).default([]),
});

export const workspaceSettingsSchema = z.strictObject({
  /** How long the designers wait after the last edit before saving a draft. */
  autosaveMs: z.number().int().min(200).max(60_000).default(1500),
});

export const workspaceV2Schema = z.looseObject({
  formatVersion: z.literal(2),
  hosts: z.array(z.unknown()).default([]),
  /** Topologies (with their diagram layout) and experiments are files of their own: topologies/, experiments/. */
  settings: workspaceSettingsSchema.prefault({}),
});

export type WorkspaceV1 = z.infer<typeof workspaceV1Schema>;
export type WorkspaceV2 = z.infer<typeof workspaceV2Schema>;
/** The current format, as read. */
export type Workspace = WorkspaceV2;
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;

/** Schema of each format version, to validate a file before it is upgraded. */
const SCHEMAS: Readonly<Record<number, z.ZodType>> = { 1: workspaceV1Schema, 2: workspaceV2Schema };

export interface WorkspaceUpgradeStep {
  from: number;
  to: number;
  /** Edits the document in place from version `from` to version `to`. */
  upgrade(doc: Document): void;
}

export const DEFAULT_WORKSPACE_SETTINGS: Readonly<WorkspaceSettings> = Object.freeze(workspaceSettingsSchema.parse({}));

export const WORKSPACE_UPGRADES: readonly WorkspaceUpgradeStep[] = [
  {
    from: 1,
    to: 2,
    upgrade(doc) {
      setVersion(doc, 2);
      if (!doc.has('hosts')) doc.set('hosts', doc.createNode([]));
      if (!doc.has('settings')) doc.set('settings', doc.createNode({ ...DEFAULT_WORKSPACE_SETTINGS }));
    },
  },
];

/** The text of a new, empty workspace.yaml in the current format. */
export function freshWorkspaceText(): string {
  return [
    `formatVersion: ${WORKSPACE_FORMAT_VERSION}`,
    'hosts: []',
    'settings:',
    `  autosaveMs: ${DEFAULT_WORKSPACE_SETTINGS.autosaveMs}`,
    '',
  ].join('\n');
}

/**
 * Upgrades a parsed workspace.yaml to the current format in place and validates it. `file` names the file in
 * errors. Returns the version it upgraded from (null when it was current) and the validated content.
 */
export function upgradeWorkspaceDocument(doc: Document, file: string): { upgradedFrom: number | null; workspace: Workspace } {
  if (doc.contents === null || doc.contents === undefined) doc.contents = doc.createNode({});
  if (!isMap(doc.contents)) {
    throw new CnlabError('invalid-input', `${file}: the top level must be a mapping (formatVersion: ${WORKSPACE_FORMAT_VERSION}, hosts: …): fix the file or restore it from a backup`);
  }
  const original = readVersion(doc, file);
  if (original > WORKSPACE_FORMAT_VERSION) {
    throw new CnlabError('invalid-input', `${file} has format version ${original}; this cnlab reads up to ${WORKSPACE_FORMAT_VERSION}: upgrade cnlab`, { formatVersion: original });
  }
  let version = original;
  for (const step of WORKSPACE_UPGRADES) {
    if (step.from !== version) continue;
    validate(SCHEMAS[version], { ...(doc.toJS() as object), formatVersion: version }, file);
    step.upgrade(doc);
    version = step.to;
  }
  if (version !== WORKSPACE_FORMAT_VERSION) {
    throw new CnlabError('internal', `${file}: no upgrade from format version ${version} to ${WORKSPACE_FORMAT_VERSION}`);
  }
  const workspace = validateWorkspace(doc, file);
  return { upgradedFrom: original === version ? null : original, workspace };
}

/** Validates a document in the current format, naming the file and the field path of each problem. */
export function validateWorkspace(doc: Document, file: string): Workspace {
  return validate(workspaceV2Schema, doc.toJS(), file);
}

function validate<T extends z.ZodType>(schema: T | undefined, value: unknown, file: string): z.infer<T> {
  if (!schema) throw new CnlabError('internal', `${file}: no schema for its format version`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`).join('; ');
  throw new CnlabError('invalid-input', `${file}: ${problems}: fix the file or restore it from a backup`);
}

/** The file's format version: a whole number ≥ 1; a file without one is version 1 (written before versions). */
function readVersion(doc: Document, file: string): number {
  if (!doc.has('formatVersion')) return 1;
  const value: unknown = (doc.toJS() as Record<string, unknown>).formatVersion;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  const shown = value === null || value === undefined ? '(empty)' : JSON.stringify(value);
  throw new CnlabError(
    'invalid-input',
    `${file}: formatVersion ${shown} is not a format version: it must be a whole number from 1 to ${WORKSPACE_FORMAT_VERSION} without quotes (this cnlab writes ${WORKSPACE_FORMAT_VERSION}): fix the file or restore it from a backup`,
    { formatVersion: value },
  );
}

/** Sets formatVersion, keeping the scalar (and its comments) when there is one, else as the first key. */
function setVersion(doc: Document, version: number): void {
  if (doc.has('formatVersion')) {
    doc.set('formatVersion', version);
    return;
  }
  const map = doc.contents;
  if (isMap(map)) map.items.unshift(doc.createPair('formatVersion', version));
  else doc.set('formatVersion', version);
}
