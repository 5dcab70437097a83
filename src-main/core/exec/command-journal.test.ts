// The journal records each command's host, lab (from the async context), exit code and duration, keeps
// a bounded history, filters newest first, and still records commands that could not run.
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from './local-executor';
import { CommandJournal, JournalingExecutor, journalContext, summarizeCommand } from './command-journal';

describe('CommandJournal', () => {
  it('records real commands with exit codes, the lab of the context, and a script summary', async () => {
    const journal = new CommandJournal();
    const executor = new JournalingExecutor(new LocalExecutor('local'), journal);
    await executor.exec('true');
    await journalContext.run({ lab: 'demo' }, () => executor.exec('exit 3'));
    await journalContext.run({ lab: 'demo' }, () => executor.runScript('# comment\nset -eu\necho hi\necho there\n'));
    const entries = journal.list();
    expect(entries.map((entry) => [entry.lab, entry.exitCode])).toEqual([['demo', 0], ['demo', 3], [null, 0]]);
    expect(entries[0]?.summary).toBe('script (5 lines): echo hi');
    expect(journal.list({ lab: 'demo', limit: 1 })).toHaveLength(1);
    expect(journal.list({ host: 'other' })).toEqual([]);
  });

  it('records a command that could not run, with its error', async () => {
    const journal = new CommandJournal();
    const executor = new JournalingExecutor(new LocalExecutor('local'), journal);
    const controller = new AbortController();
    controller.abort();
    await expect(executor.exec('sleep 5', { signal: controller.signal })).rejects.toThrow();
    expect(journal.list()[0]).toMatchObject({ exitCode: null, error: expect.any(String) });
  });

  it('stays bounded', () => {
    const journal = new CommandJournal(100);
    for (let n = 0; n < 1000; n += 1) journal.record({ startedAt: '', host: 'h', lab: null, summary: `${n}`, text: '', exitCode: 0, durationMs: 1 });
    expect(journal.list({ limit: 10_000 }).length).toBeLessThanOrEqual(100);
    expect(journal.list({ limit: 1 })[0]?.seq).toBe(1000);
  });

  it('summarises long commands on one line', () => {
    expect(summarizeCommand('ip   link\n show')).toBe('ip link show');
    expect(summarizeCommand('x'.repeat(500)).length).toBe(200);
  });
});
