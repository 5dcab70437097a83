// Probed host facts cached in the workspace, one JSON file per host, with the time they were taken;
// a cached entry that no longer matches the schema is treated as absent, never trusted.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';
import { hostFactsSchema, type HostFacts } from './host-facts';

export class FactsCache {
  constructor(private readonly dir: string) {}

  async save(hostName: string, facts: HostFacts): Promise<void> {
    await writeFileAtomic(this.file(hostName), `${JSON.stringify(facts, null, 2)}\n`);
  }

  async load(hostName: string): Promise<HostFacts | null> {
    try {
      const parsed = hostFactsSchema.safeParse(JSON.parse(await readFile(this.file(hostName), 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async remove(hostName: string): Promise<void> {
    await rm(this.file(hostName), { force: true });
  }

  private file(hostName: string): string {
    return join(this.dir, `${hostName}.json`);
  }
}
