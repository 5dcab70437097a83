// The data of YAML (or JSON) text a user wrote, or cnlab's error naming the file. The yaml library reports
// syntax errors on the document but throws from toJS() for an alias that points nowhere or expands past
// its limit: both become "not valid YAML", never an exception of the library's own (found by fuzzing).
import { parseDocument } from 'yaml';
import { yamlNestingProblem } from '../common/yaml-nesting';
import { CnlabError } from './errors';

export { MAX_YAML_NESTING, yamlNestingProblem } from '../common/yaml-nesting';

/**
 * The first line of a yaml library message, said plainly: the library reports nesting deeper than the
 * stack as "Maximum call stack size exceeded" (found by fuzzing), which names no cause a user can fix.
 */
export function yamlProblem(message: string): string {
  const first = message.split('\n')[0] ?? 'parse error';
  const deep = /Maximum call stack size exceeded(.*)$/.exec(first);
  return deep ? `nested too deeply${deep[1]?.replace(/:\s*$/, '') ?? ''} (lists or maps inside each other thousands of levels down)` : first;
}

export function yamlDataOf(text: string, source: string, what = 'YAML or JSON'): unknown {
  const deep = yamlNestingProblem(text);
  if (deep) throw new CnlabError('invalid-input', `${source}: not valid ${what}: ${deep}`);
  const document = parseDocument(text, { uniqueKeys: true });
  const first = document.errors[0];
  if (first) throw new CnlabError('invalid-input', `${source}: not valid ${what}: ${yamlProblem(first.message)}`);
  try {
    return document.toJS();
  } catch (error) {
    throw new CnlabError('invalid-input', `${source}: not valid ${what}: ${yamlProblem((error as Error).message)}`);
  }
}
