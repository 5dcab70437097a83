// Turns iperf3's not-quite-JSON stdout into something JSON.parse accepts: the first complete object only
// (text can follow it), and the bare nan/inf tokens old cJSON versions print replaced by null.

/** Index just past the string that opens at `from` (a `"`), honouring backslash escapes. */
function skipString(text: string, from: number): number {
  let i = from + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i + 1;
    else i += 1;
  }
  return i;
}

/**
 * The first complete top-level `{...}` of `text`, or null when there is none. Braces inside strings do
 * not count, because iperf3 copies free text (error messages, hostnames) into string values.
 */
export function extractFirstJsonObject(text: string): string | null {
  const open = text.indexOf('{');
  if (open < 0) return null;
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      i = skipString(text, i);
      continue;
    }
    if (ch === '{') depth += 1;
    else if (ch === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(open, i + 1);
    }
    i += 1;
  }
  return null;
}

// Outside strings the only letters JSON allows are true/false/null, so any nan/inf word is iperf3's.
const NON_FINITE = /^-?(?:nan|inf(?:inity)?)(?![A-Za-z0-9_])/i;

/** Replaces the non-finite number tokens outside strings with `null`. */
export function replaceNonFiniteTokens(json: string): string {
  let out = '';
  let i = 0;
  while (i < json.length) {
    const ch = json[i];
    if (ch === '"') {
      const end = skipString(json, i);
      out += json.slice(i, end);
      i = end;
      continue;
    }
    const match = ch === '-' || ch === 'n' || ch === 'N' || ch === 'i' || ch === 'I' ? NON_FINITE.exec(json.slice(i, i + 10)) : null;
    if (match) {
      out += 'null';
      i += match[0].length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

/** JSON.parse of the first object in `text` after the fixes above; throws SyntaxError as JSON.parse does. */
export function parseLenientJson(text: string): unknown {
  const object = extractFirstJsonObject(text);
  if (object === null) throw new SyntaxError('no complete JSON object in the output');
  return JSON.parse(replaceNonFiniteTokens(object)) as unknown;
}
