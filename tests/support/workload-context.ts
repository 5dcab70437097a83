// A WorkloadContext for tests and benchmarks outside the experiment runner: real executors from a
// HostService, every command, live sample and raw output kept in memory or a temp folder to assert on.
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostService } from '../../src-main/core/hosts/host-service';
import type { CommandRecord, LiveSample, WorkloadContext } from '../../src-main/core/workloads/workload-context';

export interface RecordingContext {
  ctx: WorkloadContext;
  commands: CommandRecord[];
  samples: LiveSample[];
  rawDir: string;
}

export interface RecordingOptions {
  signal?: AbortSignal;
  /** First port handed out; each call gets the next one. */
  firstPort?: number;
  /** Tool versions from the hosts' facts cache (null when unknown). */
  versions?: boolean;
  /** Collects the commands here (e.g. across several runs) instead of in a fresh array. */
  commands?: CommandRecord[];
  /** Folder the raw-output folder is made in (the caller removes it); the system temp folder by default. */
  rawRoot?: string;
}

export function recordingContext(service: HostService, options: RecordingOptions = {}): RecordingContext {
  const commands = options.commands ?? [];
  const samples: LiveSample[] = [];
  const rawDir = mkdtempSync(join(options.rawRoot ?? tmpdir(), 'cnlab-raw-'));
  let port = options.firstPort ?? 5201;
  const versions = new Map<string, Record<string, string | null>>();
  if (options.versions) {
    for (const host of service.inventory.list()) {
      void service.facts.load(host.name).then((facts) => facts && versions.set(host.name, facts.tools as unknown as Record<string, string | null>));
    }
  }
  const ctx: WorkloadContext = {
    executor: (host) => service.executor(host),
    signal: options.signal ?? new AbortController().signal,
    logCommand: (record) => commands.push(record),
    sample: (sample) => samples.push(sample),
    saveRaw: (name, text) => writeFile(join(rawDir, name), text),
    allocatePort: () => port++,
    toolVersion: (host, tool) => versions.get(host)?.[tool] ?? null,
  };
  return { ctx, commands, samples, rawDir };
}
