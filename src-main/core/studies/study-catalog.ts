// The study templates cnlab ships (resources/studies/*.yaml): found next to the build, read once and
// validated, looked up by id or read from a path, and turned into experiments bound to the user's hosts.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { CnlabError } from '../errors';
import { mapHosts, type ExperimentSpec } from '../experiment/experiment-schema';
import type { RunDetails } from '../experiment/experiment-service';
import { compareWithStudy, missingStudy, substitutionsOf } from './study-comparison';
import type { Host } from '../hosts/host-model';
import { parseStudyText, type StudyTemplate } from './study-schema';
import type { StudyComparisonView, StudySummaryView } from './study-view';

/**
 * Where the templates are: $CNLAB_STUDIES_DIR, the packaged app's resources (electron-builder copies them
 * there), or resources/studies above this module (source tree and out/main alike).
 */
export function studiesDirectory(): string {
  const override = process.env.CNLAB_STUDIES_DIR;
  if (override) return resolve(override);
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(join(packaged, 'studies'))) return join(packaged, 'studies');
  let folder = __dirname;
  for (let level = 0; level < 6; level += 1) {
    const candidate = join(folder, 'resources', 'studies');
    if (existsSync(candidate)) return candidate;
    folder = dirname(folder);
  }
  throw new CnlabError('not-found', `cnlab's study templates (resources/studies) are not next to this build (looked above ${__dirname}): set CNLAB_STUDIES_DIR to their folder`);
}

const catalogs = new Map<string, Promise<StudyTemplate[]>>();

async function readCatalog(directory: string): Promise<StudyTemplate[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.yaml')).sort();
  const studies = await Promise.all(names.map(async (name) => parseStudyText(await readFile(join(directory, name), 'utf8'), `study ${name}`)));
  for (const [index, study] of studies.entries()) {
    const file = names[index] as string;
    if (basename(file, '.yaml') !== study.id) throw new CnlabError('invalid-input', `study ${file}: its id is ${study.id}: name the file ${study.id}.yaml`);
  }
  return studies;
}

/** Every shipped template, validated (a broken template fails loudly, naming its file). Read once per folder. */
export function listStudies(directory = studiesDirectory()): Promise<StudyTemplate[]> {
  let catalog = catalogs.get(directory);
  if (!catalog) {
    catalog = readCatalog(directory);
    catalogs.set(directory, catalog);
    catalog.catch(() => catalogs.delete(directory));
  }
  return catalog;
}

export async function findStudy(studyId: string, directory?: string): Promise<StudyTemplate | null> {
  return (await listStudies(directory)).find((study) => study.id === studyId) ?? null;
}

/** A study by id (`suo2018-table6`), or a template file by path. */
export async function resolveStudy(reference: string, directory?: string): Promise<StudyTemplate> {
  if (reference.endsWith('.yaml') || reference.endsWith('.yml') || reference.includes('/')) {
    let text: string;
    try {
      text = await readFile(reference, 'utf8');
    } catch (error) {
      throw new CnlabError('not-found', `cannot read study template ${reference} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the path, or give a study id (\`cnlab studies list\`)`);
    }
    return parseStudyText(text, reference);
  }
  const study = await findStudy(reference, directory);
  if (!study) {
    const known = (await listStudies(directory)).map((item) => item.id);
    throw new CnlabError('not-found', `no study template ${reference}: \`cnlab studies list\` shows them (${known.join(', ')})`);
  }
  return study;
}

/** The experiments of a study's parts (all, or the named ones), bound to inventory hosts by `mapping`. */
export function studyExperiments(study: StudyTemplate, mapping: Readonly<Record<string, string>>, parts: readonly string[] = []): ExperimentSpec[] {
  const known = study.hosts.map((host) => host.name);
  const unknown = Object.keys(mapping).find((name) => !known.includes(name));
  if (unknown) throw new CnlabError('invalid-input', `--map names ${unknown}, which study ${study.id} does not use (its hosts: ${known.join(', ')})`);
  for (const name of parts) {
    if (!study.parts.some((part) => part.name === name)) throw new CnlabError('invalid-input', `study ${study.id} has no part ${name}: its parts are ${study.parts.map((part) => part.name).join(', ')}`);
  }
  const chosen = parts.length === 0 ? study.parts : study.parts.filter((part) => parts.includes(part.name));
  return chosen.map((part) => {
    const own = Object.fromEntries(Object.entries(mapping).filter(([name]) => part.experiment.hosts.includes(name)));
    return mapHosts(part.experiment, own);
  });
}

/** What the user should know before running: hosts the template expects on bare metal or in a VM but mapped otherwise. */
export function studyHostNotes(study: StudyTemplate, mapping: Readonly<Record<string, string>>, inventory: readonly Pick<Host, 'name' | 'label'>[], virtualization: Readonly<Record<string, string>> = {}): string[] {
  const notes: string[] = [];
  for (const host of study.hosts) {
    if (!host.expect) continue;
    const bound = mapping[host.name] ?? host.name;
    const entry = inventory.find((candidate) => candidate.name === bound);
    const probed = virtualization[bound];
    const kind = entry?.label ?? probed;
    if (kind === host.expect) continue;
    const said = kind ? `is ${kind}${entry?.label ? ' (its label)' : ' (probed)'}` : 'has no bare-metal/vm label and no probed virtualization yet';
    notes.push(`${study.id}: ${host.name} (${host.role}) should be ${host.expect}; ${bound} ${said}: map ${host.name} to a ${host.expect} host, or label ${bound} ${host.expect} if it is one`);
  }
  return notes;
}

export function studySummary(study: StudyTemplate): StudySummaryView {
  return {
    id: study.id,
    title: study.title,
    summary: study.summary,
    citation: study.source.citation,
    hosts: study.hosts.map((host) => ({ name: host.name, role: host.role, expect: host.expect ?? null })),
    parts: study.parts.map((part) => ({
      name: part.name,
      title: part.title,
      experimentName: part.experiment.name,
      tool: part.experiment.workload.tool,
      cases: part.experiment.modes.map((entry) => entry.label),
    })),
    substitutions: substitutionsOf(study),
  };
}

/** A part's experiment as YAML a user can edit and run: the template's own text with the hosts bound. */
export function studyExperimentText(study: StudyTemplate, partName: string, mapping: Readonly<Record<string, string>>): { name: string; text: string } {
  const part = study.parts.find((candidate) => candidate.name === partName);
  if (!part) throw new CnlabError('invalid-input', `study ${study.id} has no part ${partName}: its parts are ${study.parts.map((item) => item.name).join(', ')}`);
  studyExperiments(study, mapping, [partName]);
  const bind = (host: unknown): unknown => (typeof host === 'string' ? (mapping[host] ?? host) : host);
  const bindPlacement = (placement: unknown): unknown => {
    if (typeof placement !== 'object' || placement === null) return placement;
    const { server, client } = placement as { server?: unknown; client?: unknown };
    return { ...placement, server: bind(server), client: bind(client) };
  };
  const document = part.document;
  const modes = (document.modes as unknown[]).map((entry) => (typeof entry === 'object' && entry !== null && 'placement' in entry ? { ...entry, placement: bindPlacement((entry).placement) } : entry));
  const bound = { ...document, hosts: (document.hosts as unknown[]).map(bind), placement: bindPlacement(document.placement), modes };
  const header = `# ${study.title} — ${part.title}\n# From study template ${study.id} (part ${part.name}); ${study.source.citation}\n# Results of this experiment are shown beside the paper's in Results. Edit freely: repetitions, durations, hosts.\n`;
  return { name: part.experiment.name, text: header + stringify(bound, { lineWidth: 0 }) };
}

/** A run beside the paper when it was made from a study template (null otherwise). */
export async function studyComparisonOfRun(details: Pick<RunDetails, 'record' | 'cells'>): Promise<StudyComparisonView | null> {
  const reference = details.record.experiment.study;
  if (!reference) return null;
  const study = await findStudy(reference.id).catch(() => null);
  return study ? compareWithStudy(study, reference.part, details.cells) : missingStudy(reference.id, reference.part);
}
