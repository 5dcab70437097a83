// The data of YAML (or JSON) text a user wrote, or cnlab's error naming the file. The yaml library reports
// syntax errors on the document but throws from toJS() for an alias that points nowhere or expands past
// its limit: both become "not valid YAML", never an exception of the library's own (found by fuzzing).
import { parseDocument } from 'yaml';
import { CnlabError } from './errors';

export function yamlDataOf(text: string, source: string, what = 'YAML or JSON'): unknown {
  const document = parseDocument(text, { uniqueKeys: true });
  const first = document.errors[0];
  if (first) throw new CnlabError('invalid-input', `${source}: not valid ${what}: ${first.message.split('\n')[0] ?? 'parse error'}`);
  try {
    return document.toJS();
  } catch (error) {
    throw new CnlabError('invalid-input', `${source}: not valid ${what}: ${(error as Error).message.split('\n')[0] ?? 'alias error'}`);
  }
}
