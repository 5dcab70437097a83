// Applied labs recorded in the workspace (labs/<lab>.json): what was deployed where, with its
// expectations and timings. Verify and status read it; teardown never depends on it (ledgers do).
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import type { StepTiming } from './lab-runtime';
import { assertLabId, isLabId } from './naming';
import type { ControlPlanePlan, PlannedContainer, ReachabilityExpectation } from './plan';
import type { TopologySpec } from './topology-schema';

export interface LabRecord {
  formatVersion: 1;
  labId: string;
  fingerprint: string;
  appliedAt: string;
  hosts: string[];
  topology: TopologySpec;
  containers: PlannedContainer[];
  expectations: ReachabilityExpectation[];
  timings: StepTiming[];
  hostDurationsMs: Record<string, number>;
  /** Labs with an etcd or bgp control plane: their daemons, versions and configs (optional field). */
  controlPlanes?: ControlPlanePlan[];
}

export class LabStore {
  constructor(private readonly dir: string) {}

  async save(record: LabRecord): Promise<void> {
    await writeFileAtomic(this.file(record.labId), `${JSON.stringify(record, null, 2)}\n`);
  }

  async find(labId: string): Promise<LabRecord | null> {
    try {
      const record = JSON.parse(await readFile(this.file(labId), 'utf8')) as LabRecord;
      return record.formatVersion === 1 ? record : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CnlabError('io', `cannot read the record of lab ${labId} (${this.file(labId)}): ${(error as Error).message}`);
    }
  }

  async get(labId: string): Promise<LabRecord> {
    const record = await this.find(labId);
    if (!record) {
      const known = await this.list();
      throw new CnlabError('not-found', `lab ${labId} is not applied in this workspace (applied: ${known.join(', ') || 'none'}): apply it with \`cnlab topology apply FILE\``);
    }
    return record;
  }

  async list(): Promise<string[]> {
    try {
      // A file there under another name (a copy, a backup) is no lab record.
      return (await readdir(this.dir)).filter((file) => file.endsWith('.json')).map((file) => file.slice(0, -5)).filter(isLabId).sort();
    } catch {
      return [];
    }
  }

  async remove(labId: string): Promise<void> {
    await rm(this.file(labId), { force: true });
  }

  private file(labId: string): string {
    assertLabId(labId);
    return join(this.dir, `${labId}.json`);
  }
}
