// How deeply YAML text nests, estimated before any parser sees it; shared by the main process (every
// file cnlab reads) and the renderer (the YAML editors), since both run the same yaml library on V8.
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
