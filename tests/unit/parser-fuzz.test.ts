// Fuzzing the text parsers a user's files go through (issue 10's fault campaign, first part): topology,
// experiment and study template files, each fed 10,000+ inputs - random text, random YAML data, and the
// shipped examples mutated (characters cut or swapped, lines dropped or repeated, values replaced). Every
// input must either load or be refused with cnlab's own error naming the file; no other exception, no hang.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CnlabError } from '../../src-main/core/errors';
import { parseExperimentText } from '../../src-main/core/experiment/experiment-schema';
import { parseStudyText } from '../../src-main/core/studies/study-schema';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';

const root = join(__dirname, '..', '..');
const RUNS = 10_000;

function filesIn(dir: string, match: (name: string) => boolean): string[] {
  return readdirSync(join(root, dir)).filter(match).map((name) => readFileSync(join(root, dir, name), 'utf8'));
}

const topologies = filesIn('examples', (name) => name.endsWith('.yaml') && !name.startsWith('experiment-'));
const experiments = filesIn('examples', (name) => name.startsWith('experiment-') && name.endsWith('.yaml'));
const studies = filesIn('resources/studies', (name) => name.endsWith('.yaml'));

/** A text mutated the ways a hand edit or a bad copy goes wrong. */
function mutated(seeds: readonly string[]): fc.Arbitrary<string> {
  const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -2, max: 70_000 }).map(String), fc.constantFrom('null', '~', '[]', '{}', '"', "'", ':', '- ', '&a', '*a', '!!binary', '0x1F', '1e999', '.nan', '\t', '\u0000', '\u202e'));
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: scalar }),
    fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('replace-value' as const), at: fc.nat(), text: scalar }),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let text = seed;
    for (const change of edits) {
      const lines = text.split('\n');
      const line = change.at % Math.max(1, lines.length);
      const at = change.at % Math.max(1, text.length);
      switch (change.kind) {
        case 'cut':
          text = text.slice(0, at) + text.slice(at + change.length);
          break;
        case 'insert':
          text = text.slice(0, at) + change.text + text.slice(at);
          break;
        case 'drop-line':
          lines.splice(line, 1);
          text = lines.join('\n');
          break;
        case 'repeat-line':
          lines.splice(line, 0, lines[line] ?? '');
          text = lines.join('\n');
          break;
        case 'replace-value':
          lines[line] = (lines[line] ?? '').replace(/:\s.*$/, `: ${change.text}`);
          text = lines.join('\n');
          break;
      }
    }
    return text;
  });
}

/** Inputs of every kind: random text, random YAML data (often close to a mapping), mutated real files. */
function inputs(seeds: readonly string[]): fc.Arbitrary<string> {
  const data = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(fc.constantFrom('v', 'kind', 'name', 'hosts', 'networks', 'containers', 'modes', 'workload', 'placement', 'parts', 'id', 'axes'), fc.jsonValue({ maxDepth: 3 })));
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }) },
    { weight: 2, arbitrary: data.map((value) => stringify(value)) },
    { weight: 6, arbitrary: mutated(seeds) },
  );
}

/** Loads or refuses with cnlab's own error naming the source; anything else fails the property. */
function loadsOrRefuses(parse: (text: string, source: string) => unknown): (text: string) => void {
  return (text) => {
    try {
      parse(text, 'fuzzed.yaml');
    } catch (error) {
      if (!(error instanceof CnlabError)) throw new Error(`not a CnlabError: ${String(error)}\n${(error as Error).stack ?? ''}`);
      if (error.code !== 'invalid-input') throw new Error(`code ${error.code}: ${error.message}`);
      if (!error.message.includes('fuzzed.yaml')) throw new Error(`the message does not name the file: ${error.message}`);
    }
  };
}

describe(`parsers under ${RUNS.toLocaleString('en-US')} fuzzed inputs each`, () => {
  it('has real files to mutate', () => {
    expect(topologies.length).toBeGreaterThan(10);
    expect(experiments.length).toBeGreaterThan(5);
    expect(studies.length).toBeGreaterThanOrEqual(9);
    // The seeds themselves load: mutations start from valid files.
    for (const text of topologies) parseTopologyText(text);
    for (const text of experiments) parseExperimentText(text);
    for (const text of studies) parseStudyText(text);
  });

  it('topology files load or are refused naming the file', { timeout: 120_000 }, () => {
    fc.assert(fc.property(inputs(topologies), loadsOrRefuses(parseTopologyText)), { numRuns: RUNS, seed: 9001 });
  });

  it('experiment files load or are refused naming the file', { timeout: 120_000 }, () => {
    fc.assert(fc.property(inputs(experiments), loadsOrRefuses(parseExperimentText)), { numRuns: RUNS, seed: 9002 });
  });

  it('study templates load or are refused naming the file', { timeout: 180_000 }, () => {
    fc.assert(fc.property(inputs(studies), loadsOrRefuses(parseStudyText)), { numRuns: RUNS, seed: 9003 });
  });
});
