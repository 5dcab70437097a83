import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseExperimentText } from '../experiment/experiment-schema';
import { listStudies, resolveStudy, studiesDirectory, studyExperiments, studyExperimentText, studyHostNotes } from './study-catalog';
import { parseStudyText } from './study-schema';

const REFERENCE_DIR = '/work/shared/reference';

/** Whitespace and thousands separators as the transcript prints them do not matter to "is it there". */
const normalise = (text: string): string => text.replace(/\*|\\(?=_)/g, '').replace(/\s+/g, ' ').trim();

describe('the shipped study templates', () => {
  it('all validate, each named by its id, with every part an experiment file', async () => {
    const studies = await listStudies();
    const ids = studies.map((study) => study.id);
    expect(ids).toEqual(expect.arrayContaining(['suo2018-fig3', 'suo2018-fig4', 'suo2018-fig5-6', 'suo2018-fig7', 'suo2018-fig8', 'suo2018-table5', 'suo2018-fig9', 'suo2018-table6', 'claassen2016-drivers']));
    for (const study of studies) {
      for (const part of study.parts) {
        expect(part.experiment.study).toEqual({ id: study.id, part: part.name });
        expect(part.experiment.hosts.every((host) => study.hosts.some((entry) => entry.name === host))).toBe(true);
      }
    }
  });

  it('name only cases their parts have in their substitutions, and say what is not reproducible', async () => {
    for (const study of await listStudies()) {
      const labels = new Set(study.parts.flatMap((part) => part.experiment.modes.map((entry) => entry.label)));
      for (const item of study.substitutions) for (const label of item.cases) expect(labels, `${study.id}: ${item.paper}`).toContain(label);
    }
    const table6 = await resolveStudy('suo2018-table6');
    const weave = table6.substitutions.find((item) => item.paper === 'Weave');
    expect(weave?.cnlab).toBeNull();
    expect(weave?.differs).toMatch(/not reproducible without Weave installed/i);
  });

  it('give every published number with the number in its quote', async () => {
    for (const study of await listStudies()) {
      for (const part of study.parts) {
        for (const item of part.published) {
          const number = item.value ?? Math.abs(item.percent ?? item.ratio ?? Number.NaN);
          const quote = item.location.quote.replace(/(\d),(\d)/g, '$1$2');
          expect(quote, `${study.id} ${item.id}`).toMatch(new RegExp(`(^|[^0-9.])${String(number).replace('.', '\\.')}([^0-9]|$)`));
        }
      }
    }
  });

  // The papers' transcripts are not part of the repository: on a machine without them this check is skipped.
  it.skipIf(!existsSync(REFERENCE_DIR))('quote the reference texts verbatim, so every number can be found where the template says', async () => {
    let checked = 0;
    for (const study of await listStudies()) {
      const reference = normalise(readFileSync(join(REFERENCE_DIR, study.source.reference ?? ''), 'utf8'));
      for (const part of study.parts) {
        for (const item of part.published) {
          expect(reference.includes(normalise(item.location.quote)), `${study.id} ${item.id}: "${item.location.quote}" is not in ${study.source.reference}`).toBe(true);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('transcribe Table VI of Suo et al. as printed', async () => {
    const part = (await resolveStudy('suo2018-table6')).parts[0];
    const values = Object.fromEntries((part?.published ?? []).map((item) => [item.id, item.value]));
    expect(values).toEqual({ none: 539.6, bridge: 663.1, container: 239.4, host: 497.4, nat: 674.5, 'docker-overlay': 10979.8, weave: 2365.2, flannel: 3970.3, 'calico-ipip': 11373.1, 'calico-bgp': 11335.2 });
  });
});

describe('binding a study to the user hosts', () => {
  it('maps the study host names in every part, and refuses names the study does not use', async () => {
    const fig4 = await resolveStudy('suo2018-fig4');
    const [throughput] = studyExperiments(fig4, { h1: 'lab-a', h2: 'lab-b' }, ['throughput']);
    expect(throughput?.hosts).toEqual(['lab-a', 'lab-b']);
    expect(throughput?.modes.every((entry) => entry.placement.server === 'lab-a' && entry.placement.client === 'lab-b')).toBe(true);
    expect(() => studyExperiments(fig4, { h9: 'lab-a' })).toThrow(/--map names h9, which study suo2018-fig4 does not use \(its hosts: h1, h2\)/);
    expect(() => studyExperiments(fig4, {}, ['nope'])).toThrow(/has no part nope: its parts are throughput, latency/);
  });

  it('writes a part as experiment text that parses to the same experiment, study reference included', async () => {
    const fig7 = await resolveStudy('suo2018-fig7');
    const { name, text } = studyExperimentText(fig7, 'throughput', { h1: 'pm-a', h2: 'pm-b', h3: 'vm-a', h4: 'vm-b' });
    expect(name).toBe('suo-fig7-throughput');
    expect(text.startsWith('# Suo et al. — Fig 7 bare metal vs VMs')).toBe(true);
    const parsed = parseExperimentText(text);
    expect(parsed.study).toEqual({ id: 'suo2018-fig7', part: 'throughput' });
    expect(parsed.modes.find((entry) => entry.label === 'overlay-vm')?.placement).toEqual({ server: 'vm-a', client: 'vm-b' });
    expect(parsed).toEqual(studyExperiments(fig7, { h1: 'pm-a', h2: 'pm-b', h3: 'vm-a', h4: 'vm-b' })[0]);
  });

  it('notes hosts that are not on bare metal or in a VM as the study expects, from labels or probed facts', async () => {
    const fig7 = await resolveStudy('suo2018-fig7');
    const inventory = [
      { name: 'pm-a', label: 'bare-metal' as const },
      { name: 'pm-b' },
      { name: 'vm-a', label: 'vm' as const },
      { name: 'other' },
    ];
    const notes = studyHostNotes(fig7, { h1: 'pm-a', h2: 'pm-b', h3: 'vm-a', h4: 'other' }, inventory, { 'pm-b': 'bare-metal', other: 'bare-metal' });
    expect(notes).toEqual([expect.stringMatching(/^suo2018-fig7: h4 \(VM client host\) should be vm; other is bare-metal \(probed\): map h4 to a vm host, or label other vm if it is one$/)]);
  });
});

describe('bad study templates', () => {
  const base = parse(readFileSync(join(studiesDirectory(), 'suo2018-table6.yaml'), 'utf8')) as Record<string, unknown>;
  /** The template with one field set (a path into the YAML's data), as text. */
  const variant = (path: (string | number)[], value: unknown): string => {
    const copy = structuredClone(base);
    let node = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1] as string | number] = value;
    return JSON.stringify(copy);
  };

  it('names the problem: unknown case, unknown published id, two forms of a number, unknown study', async () => {
    expect(() => parseStudyText(variant(['parts', 0, 'published', 1, 'measure', 'of', 'case'], 'weave'), 't.yaml')).toThrow(/t\.yaml: part launch: published bridge names case weave, not one of the experiment's \(none, bridge/);
    expect(() => parseStudyText(variant(['parts', 0, 'findings', 0, 'values', 0], 'nope'), 't.yaml')).toThrow(/finding ranking rests on nope, not a published value|finding ranking orders nope, not a published value/);
    expect(() => parseStudyText(variant(['parts', 0, 'published', 0, 'percent'], 3), 't.yaml')).toThrow(/published none: give exactly one of value, percent or ratio/);
    expect(() => parseStudyText(variant(['parts', 0, 'experiment', 'hosts'], ['h1', 'h9']), 't.yaml')).toThrow(/t\.yaml: part launch: (the experiment uses host h9|.*h9)/);
    expect(() => parseStudyText(variant(['kind'], 'experiment'), 't.yaml')).toThrow(/kind must be "study"/);
    await expect(resolveStudy('suo2099-nothing')).rejects.toThrow(/no study template suo2099-nothing: `cnlab studies list` shows them \(claassen2016-drivers, /);
    await expect(resolveStudy('/nonexistent/x.yaml')).rejects.toThrow(/cannot read study template \/nonexistent\/x\.yaml \(ENOENT\)/);
  });
});
