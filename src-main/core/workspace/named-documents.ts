// A folder of a workspace holding named YAML documents (topologies/<name>.yaml, experiments/<name>.yaml):
// listed, read, and saved atomically as typed (even when not valid yet: a user's work is never lost to a
// validation error). Names are checked, so a name never becomes a path.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { OBJECT_NAME_PATTERN as NAME } from '../topology/topology-schema';

export class NamedDocuments {
  constructor(
    private readonly dir: string,
    /** What the documents are, for messages: "topology", "experiment". */
    private readonly kind: string,
  ) {}

  private file(name: string): string {
    if (!NAME.test(name)) throw new CnlabError('invalid-input', `${JSON.stringify(name)} is not a ${this.kind} name: 1-31 lower-case letters, digits or "-", starting with a letter`);
    return join(this.dir, `${name}.yaml`);
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((file) => file.endsWith('.yaml') && NAME.test(file.slice(0, -5))).map((file) => file.slice(0, -5)).sort();
  }

  async read(name: string): Promise<string> {
    try {
      return await readFile(this.file(name), 'utf8');
    } catch (error) {
      if (error instanceof CnlabError) throw error;
      const known = await this.list();
      throw new CnlabError('not-found', `${this.kind} ${name} is not saved in this workspace (saved: ${known.join(', ') || 'none'})`);
    }
  }

  async save(name: string, text: string): Promise<void> {
    const file = this.file(name);
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(file, text.endsWith('\n') ? text : `${text}\n`);
  }
}
