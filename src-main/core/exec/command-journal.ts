// Every command cnlab runs on a host, with its exit code and duration, for the console's log drawer:
// a bounded in-memory journal fed by a decorator around each host's executor. The lab a command worked
// for comes from the async context the caller set (journalContext.run), so no signature changes.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ExecOptions, ExecResult, HostExecutor, Privilege } from './executor';

export interface JournalEntry {
  seq: number;
  startedAt: string;
  host: string;
  lab: string | null;
  summary: string;
  text: string;
  exitCode: number | null;
  durationMs: number;
  error?: string;
}

export interface JournalFilter {
  host?: string;
  lab?: string;
  limit?: number;
}

const MAX_TEXT = 64 * 1024;
const MAX_SUMMARY = 200;

/** Which lab the commands started inside `run` belong to. */
export const journalContext = new AsyncLocalStorage<{ lab: string | null }>();

/** One line for the log: the command, or a script's first meaningful line and its length. */
export function summarizeCommand(command: string, script?: string): string {
  const clip = (text: string): string => (text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text);
  if (script === undefined) return clip(command.replace(/\s+/g, ' ').trim());
  const lines = script.split('\n');
  const first = lines.map((line) => line.trim()).find((line) => line !== '' && !line.startsWith('#') && !line.startsWith('set ')) ?? '';
  return clip(`script (${lines.length} lines): ${first}`);
}

export class CommandJournal {
  private entries: JournalEntry[] = [];
  private nextSeq = 1;
  private readonly listeners = new Set<(entry: JournalEntry) => void>();

  constructor(private readonly capacity = 5000) {}

  record(entry: Omit<JournalEntry, 'seq'>): JournalEntry {
    const full = { ...entry, seq: this.nextSeq++ };
    this.entries.push(full);
    // Drop the oldest tenth at once rather than one by one: cheap amortised, still bounded.
    if (this.entries.length > this.capacity) this.entries = this.entries.slice(Math.ceil(this.capacity / 10));
    for (const listener of this.listeners) listener(full);
    return full;
  }

  /** Newest first. */
  list(filter: JournalFilter = {}): JournalEntry[] {
    const limit = filter.limit ?? 500;
    const result: JournalEntry[] = [];
    for (let index = this.entries.length - 1; index >= 0 && result.length < limit; index -= 1) {
      const entry = this.entries[index] as JournalEntry;
      if (filter.host !== undefined && entry.host !== filter.host) continue;
      if (filter.lab !== undefined && entry.lab !== filter.lab) continue;
      result.push(entry);
    }
    return result;
  }

  subscribe(listener: (entry: JournalEntry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** An executor that records every command and script it runs in the journal, then behaves as the inner one. */
export class JournalingExecutor implements HostExecutor {
  constructor(
    private readonly inner: HostExecutor,
    private readonly journal: CommandJournal,
  ) {}

  get hostName(): string {
    return this.inner.hostName;
  }

  exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return this.recorded(command, options?.stdin, () => this.inner.exec(command, options));
  }

  runScript(script: string, options?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult> {
    return this.recorded('sh -s', script, () => this.inner.runScript(script, options));
  }

  privilege(): Promise<Privilege> {
    return this.inner.privilege();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async recorded(command: string, script: string | undefined, run: () => Promise<ExecResult>): Promise<ExecResult> {
    const startedAt = new Date().toISOString();
    const started = performance.now();
    const base = {
      startedAt,
      host: this.inner.hostName,
      lab: journalContext.getStore()?.lab ?? null,
      summary: summarizeCommand(command, script),
      text: (script ?? command).slice(0, MAX_TEXT),
    };
    try {
      const result = await run();
      this.journal.record({ ...base, exitCode: result.code, durationMs: result.durationMs });
      return result;
    } catch (error) {
      this.journal.record({ ...base, exitCode: null, durationMs: performance.now() - started, error: (error as Error).message });
      throw error;
    }
  }
}
