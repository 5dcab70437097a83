// The data of YAML (or JSON) text a user wrote, or cnlab's error naming the file. The yaml library reports
// syntax errors on the document but throws from toJS() for an alias that points nowhere or expands past
// its limit: both become "not valid YAML", never an exception of the library's own (found by fuzzing).
import { parseDocument } from 'yaml';
import { CnlabError } from './errors';

/** Far deeper than any cnlab file (they nest under 10 levels); the yaml library recurses per level. */
export const MAX_YAML_NESTING = 100;

/**
 * Why text nests too deeply to hand to the yaml library, or null. Near the end of the stack the library's
 * recursion can make V8 abort the whole process (a regexp compiled there fails as "out of memory"; found
 * by fuzzing inside a test worker), so depth is estimated first, over-counting rather than under: open
 * flow brackets (quotes ignored), indentation in columns, and chains of "- " / "? " on one line.
 */
export function yamlNestingProblem(text: string): string | null {
  let flow = 0;
  let line = 1;
  let column = 0;
  let indent = 0;
  let leading = true;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\n') {
      line += 1;
      column = 0;
      indent = 0;
      leading = true;
      continue;
    }
    column += 1;
    if (leading && (char === ' ' || ((char === '-' || char === '?') && text[index + 1] === ' '))) indent += 1;
    else leading = false;
    if (char === '[' || char === '{') flow += 1;
    else if ((char === ']' || char === '}') && flow > 0) flow -= 1;
    if (flow > MAX_YAML_NESTING || indent > 2 * MAX_YAML_NESTING) return `nested too deeply at line ${line}, column ${column} (more than ${MAX_YAML_NESTING} levels of lists or maps inside each other)`;
  }
  return null;
}

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
