// Binding a study template to this workspace, for the "New experiment from study…" dialog: which inventory
// host each study host defaults to, what a host is (bare metal or VM) as far as cnlab knows, and a name
// for the new experiment that does not overwrite one already saved.
import type { HostView } from '@contract/lab-api';

/** What the dialog made: the new document's name, "study — part" for the view's note, and the notes to heed. */
export interface StudyExperimentCreated {
  name: string;
  title: string;
  notes: string[];
}

/** The longest experiment name the file format takes (see experimentNameOf). */
const NAME_MAX = 31;

/**
 * Each study host → an inventory host: the one of the same name when there is one (a workspace set up
 * for the paper keeps its mapping), else the remaining inventory hosts in order, so two study hosts land
 * on two machines while there are enough; with fewer, they wrap round and share.
 */
export function defaultHostMap(studyHosts: readonly string[], inventory: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  if (inventory.length === 0) return map;
  for (const name of studyHosts) if (inventory.includes(name)) map[name] = name;
  const taken = new Set(Object.values(map));
  const free = inventory.filter((name) => !taken.has(name));
  const pool = free.length > 0 ? free : [...inventory];
  let next = 0;
  for (const name of studyHosts) {
    if (map[name] !== undefined) continue;
    map[name] = pool[next % pool.length] as string;
    next++;
  }
  return map;
}

/** What a host is, as its label says or else as probed; null when neither is known yet. */
export function hostKindOf(view: HostView | undefined): { kind: string; source: 'label' | 'probed' } | null {
  if (!view) return null;
  if (view.host.label) return { kind: view.host.label, source: 'label' };
  const probed = view.facts?.virtualization.kind;
  return probed && probed !== 'unknown' ? { kind: probed, source: 'probed' } : null;
}

/** `name`, or `name-2`, `name-3`… when taken: autosave would otherwise overwrite the saved file of that name. */
export function freeExperimentName(name: string, taken: readonly string[]): string {
  if (!taken.includes(name)) return name;
  for (let index = 2; ; index++) {
    const suffix = `-${index}`;
    const candidate = `${name.slice(0, NAME_MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (!taken.includes(candidate)) return candidate;
  }
}

/** The text with its top-level `name:` replaced (nested keys are indented, so only the file's own matches). */
export function withExperimentName(text: string, name: string): string {
  return text.replace(/^name:.*$/m, `name: ${name}`);
}
