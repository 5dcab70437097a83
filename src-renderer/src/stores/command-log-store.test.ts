// The command log store merges the fetched log with streamed command events, newest first, without
// duplicates, capped in memory, and filters by host and lab.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CommandLogEntry } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { COMMAND_LOG_KEPT, useCommandLogStore } from './command-log-store';

export function logEntry(seq: number, host: string, lab: string | null, exitCode: number | null = 0): CommandLogEntry {
  return { seq, startedAt: '2026-11-22T08:00:00.000Z', host, lab, summary: `cmd ${seq}`, text: `full text of command ${seq}`, exitCode, durationMs: seq * 3 };
}

let api: FakeLabApi;

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeLabApi({ getCommandLog: () => Promise.resolve([logEntry(2, 'node1', 'lab1'), logEntry(1, 'node2', null)]) });
  setLabApi(api);
});

describe('command log store', () => {
  it('loads the recent 500 and keeps events that arrive meanwhile, newest first, once each', async () => {
    const log = useCommandLogStore();
    const loading = log.load();
    log.applyEvent({ type: 'command', entry: logEntry(3, 'node1', 'lab1') });
    log.applyEvent({ type: 'command', entry: logEntry(2, 'node1', 'lab1') });
    await loading;
    expect(api.getCommandLog).toHaveBeenCalledWith({ limit: 500 });
    expect(log.entries.map((entry) => entry.seq)).toEqual([3, 2, 1]);
  });

  it('filters by host and by lab', async () => {
    const log = useCommandLogStore();
    await log.load();
    log.applyEvent({ type: 'command', entry: logEntry(3, 'node2', 'lab2', 1) });
    expect(log.hostNames).toEqual(['node1', 'node2']);
    expect(log.labNames).toEqual(['lab1', 'lab2']);
    log.hostFilter = 'node2';
    expect(log.filtered.map((entry) => entry.seq)).toEqual([3, 1]);
    log.labFilter = 'lab2';
    expect(log.filtered.map((entry) => entry.seq)).toEqual([3]);
  });

  it(`keeps at most ${COMMAND_LOG_KEPT} entries, dropping the oldest`, () => {
    const log = useCommandLogStore();
    for (let seq = 1; seq <= COMMAND_LOG_KEPT + 10; seq++) log.applyEvent({ type: 'command', entry: logEntry(seq, 'node1', null) });
    expect(log.entries).toHaveLength(COMMAND_LOG_KEPT);
    expect(log.entries[0]?.seq).toBe(COMMAND_LOG_KEPT + 10);
    expect(log.entries.at(-1)?.seq).toBe(11);
  });
});
