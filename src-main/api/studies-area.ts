// The study requests of the LabApi: the templates cnlab ships, and one part of a study as experiment text
// bound to the workspace's hosts (with notes where a host is not what the study expects).
import { CnlabError } from '../core/errors';
import { listStudies, resolveStudy, studyExperimentText, studyHostNotes, studySummary } from '../core/studies/study-catalog';
import type { StudySummaryView } from '../contract/lab-api';
import type { WorkspaceSession } from './workspace-session';

export class StudiesArea {
  constructor(private readonly session: () => WorkspaceSession) {}

  async list(): Promise<StudySummaryView[]> {
    return (await listStudies()).map(studySummary);
  }

  async experiment(request: { studyId: string; part: string; hostMap: Record<string, string> }): Promise<{ name: string; text: string; notes: string[] }> {
    const study = await resolveStudy(request.studyId);
    const hosts = this.session().hosts;
    const inventory = hosts.inventory.list();
    const unknown = Object.values(request.hostMap).find((name) => !inventory.some((host) => host.name === name));
    if (unknown) throw new CnlabError('invalid-input', `host ${unknown} is not in this workspace's inventory: add it in Hosts first, or map the study's hosts to hosts listed there`);
    // Only the hosts the study is bound to: probed facts from the workspace's cache, no host is contacted.
    const virtualization: Record<string, string> = {};
    for (const name of new Set(Object.values(request.hostMap))) {
      const kind = (await hosts.facts.load(name))?.virtualization.kind;
      if (kind) virtualization[name] = kind;
    }
    const { name, text } = studyExperimentText(study, request.part, request.hostMap);
    return { name, text, notes: studyHostNotes(study, request.hostMap, inventory, virtualization) };
  }
}
