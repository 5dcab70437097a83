import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../tests/support/cnlab-error';
import { MAX_YAML_NESTING, yamlDataOf, yamlNestingProblem, yamlProblem } from './yaml-data';

describe('yamlDataOf', () => {
  it('returns the data of valid YAML and JSON', () => {
    expect(yamlDataOf('a: [1, 2]\n', 'f.yaml')).toEqual({ a: [1, 2] });
    expect(yamlDataOf('{"a": {"b": null}}', 'f.json')).toEqual({ a: { b: null } });
  });

  it('names the file for a syntax error and an alias that points nowhere', () => {
    expect(thrownCnlabError(() => yamlDataOf('a: [1\n', 'f.yaml')).message).toMatch(/^f\.yaml: not valid YAML or JSON: /);
    expect(thrownCnlabError(() => yamlDataOf('a: *nowhere\n', 'f.yaml')).message).toMatch(/^f\.yaml: not valid YAML or JSON: .*nowhere/);
  });

  it('refuses nesting past the limit before the yaml library recurses into it, in every nesting form', () => {
    // Each of these aborted a test worker (V8: "RegExpCompiler Allocation failed") before the check existed.
    const deep = ['['.repeat(20_000) + ']'.repeat(20_000), '- '.repeat(20_000) + 'x', Array.from({ length: 3_000 }, (_, depth) => `${' '.repeat(depth)}a:`).join('\n'), `a: ${'{b: '.repeat(MAX_YAML_NESTING + 1)}1${'}'.repeat(MAX_YAML_NESTING + 1)}`];
    for (const text of deep) {
      const error = thrownCnlabError(() => yamlDataOf(text, 'deep.yaml'));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toMatch(/^deep\.yaml: not valid YAML or JSON: nested too deeply at line \d+, column \d+ \(more than 100 levels/);
    }
  });

  it('still reads nesting up to the limit, and brackets or dashes inside ordinary values', () => {
    const nested = `${'['.repeat(MAX_YAML_NESTING)}1${']'.repeat(MAX_YAML_NESTING)}`;
    expect(yamlNestingProblem(nested)).toBeNull();
    expect(JSON.stringify(yamlDataOf(nested, 'f.yaml'))).toBe(nested);
    expect(yamlDataOf('name: a-b - c [x]\nlist:\n  - - x\n    - y\n', 'f.yaml')).toEqual({ name: 'a-b - c [x]', list: [['x', 'y']] });
  });

  it('says "nested too deeply" if the library still runs out of stack', () => {
    expect(yamlProblem('Maximum call stack size exceeded at line 1, column 785:\n\n[[[')).toBe('nested too deeply at line 1, column 785 (lists or maps inside each other thousands of levels down)');
  });
});

describe('yamlProblem', () => {
  it('keeps other messages to their first line', () => {
    expect(yamlProblem('Unexpected end\nmore context')).toBe('Unexpected end');
  });
});
