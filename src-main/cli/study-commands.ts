// `cnlab studies list|show` and the study side of `cnlab run`: a study template (by id or file) runs its
// parts one after the other as ordinary experiments, each printed beside the paper's numbers.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { yamlDataOf } from '../core/yaml-data';
import type { ExperimentSpec } from '../core/experiment/experiment-schema';
import { paperText } from '../common/results/study-tables';
import { CnlabError } from '../core/errors';
import { findStudy, listStudies, resolveStudy, studyExperiments, studyHostNotes, studySummary } from '../core/studies/study-catalog';
import type { StudyTemplate } from '../core/studies/study-schema';
import type { StudyComparisonView } from '../core/studies/study-view';
import type { GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

const STUDY_ID = /^[a-z][a-z0-9-]{0,63}$/;

/** Whether `cnlab run X` means a study: a template file (kind: study), or an id that is no file. */
export async function readStudyReference(reference: string): Promise<StudyTemplate | null> {
  const text = await readFile(reference, 'utf8').catch(() => null);
  if (text === null) {
    if (!STUDY_ID.test(reference)) return null;
    const study = await findStudy(reference);
    if (study) return study;
    const known = (await listStudies()).map((item) => item.id);
    throw new CnlabError('not-found', `${reference} is neither a file nor a study template: give an experiment file's path, or a study id (\`cnlab studies list\`: ${known.join(', ')})`);
  }
  // Unreadable text is not a study: the experiment reader says what is wrong with it.
  let data: unknown = null;
  try {
    data = yamlDataOf(text, reference);
  } catch {
    return null;
  }
  const kind = (data as { kind?: unknown } | null)?.kind;
  return kind === 'study' ? resolveStudy(reference) : null;
}

/** The experiments `cnlab run STUDY` runs, with what the user should know about the mapped hosts. */
export function studyRunnables(study: StudyTemplate, hostMap: Record<string, string>, parts: string[], inventory: Parameters<typeof studyHostNotes>[2]): { specs: ExperimentSpec[]; notes: string[] } {
  return { specs: studyExperiments(study, hostMap, parts), notes: studyHostNotes(study, hostMap, inventory) };
}

export function parsePartList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((part) => part.trim()).filter(Boolean);
}

const signed = (value: number): string => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(1)} %`;

export function formatStudyComparison(view: StudyComparisonView): string {
  if (view.missing) return `\nbeside the paper: ${view.missing}\n`;
  const lines = [`\nbeside the paper: ${view.title} — ${view.partTitle}\n${view.citation}\n`];
  if (view.rows.length > 0) {
    lines.push(
      formatTable(
        ['published', 'paper', 'paper vs its baseline', 'ours vs our baseline', 'where'],
        view.rows.map((row) => [
          row.label,
          paperText(row) ?? '',
          row.paperPercent === null ? '' : signed(row.paperPercent),
          row.ours ? `${signed(row.ours.percent)}${row.ours.ci95 ? ` [${signed(row.ours.ci95.low)}, ${signed(row.ours.ci95.high)}]` : ''}` : (row.note ?? ''),
          row.location.where,
        ]),
      ),
    );
  }
  for (const finding of view.findings) lines.push(`${finding.verdict.padEnd(13)} ${finding.claim}\n              ${finding.detail}\n`);
  return lines.join('');
}

export function registerStudyCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const studies = program.command('studies').description('study templates: published studies to reproduce on your hosts (`cnlab run STUDY --map h1=…`)');
  studies
    .command('list')
    .description('the study templates cnlab ships')
    .action(async () => {
      const all = (await listStudies()).map(studySummary);
      if (globals().json) printJson(io, all);
      else io.stdout(formatTable(['study', 'title', 'hosts', 'parts'], all.map((study) => [study.id, study.title, study.hosts.map((host) => host.name).join(' '), study.parts.map((part) => part.name).join(' ')])));
    });
  studies
    .command('show <study>')
    .description("a study's hosts, parts, substitutions and the paper's numbers it compares with")
    .action(async (reference: string) => {
      const study = await resolveStudy(reference);
      if (globals().json) {
        printJson(io, { ...studySummary(study), published: Object.fromEntries(study.parts.map((part) => [part.name, part.published])), findings: Object.fromEntries(study.parts.map((part) => [part.name, part.findings])) });
        return;
      }
      io.stdout(`${study.title} (${study.id})\n${study.source.citation}\n\n${study.summary}\n\nhosts:\n${study.hosts.map((host) => `  ${host.name}: ${host.role}${host.expect ? ` (${host.expect})` : ''}`).join('\n')}\n\nparts:\n`);
      for (const part of study.parts) io.stdout(`  ${part.name}: ${part.title} — ${part.experiment.workload.tool}, cases ${part.experiment.modes.map((entry) => entry.label).join(', ')}; ${part.published.length} published values, ${part.findings.length} findings\n`);
      io.stdout('\nsubstitutions:\n');
      for (const item of study.substitutions) io.stdout(`  ${item.paper} → ${item.cnlab ?? 'not reproduced here'}${item.differs ? `\n      ${item.differs}` : ''}\n`);
    });
}
