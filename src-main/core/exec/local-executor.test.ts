// The "This machine" executor: same contract as SSH hosts — streaming, exit codes, scripts on
// stdin, and cancel/timeout that end every process the command started.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from './local-executor';
import { rejectedCnlabError as rejection } from '../../../tests/support/cnlab-error';

const local = new LocalExecutor('local');

function running(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args=']).toString();
  // Only the processes themselves, not the shell whose command line mentions them.
  return out.split('\n').filter((line) => line.trim().replace(/^\d+\s+/, '').startsWith(marker));
}


describe('LocalExecutor', () => {
  it('returns stdout, stderr and the exit code', async () => {
    expect(await local.exec('echo out; echo err >&2; exit 3')).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('streams lines as they arrive', async () => {
    const lines: string[] = [];
    await local.exec('printf "a\\nb"; sleep 0.1; printf "c\\n"', { onStdoutLine: (line) => lines.push(line) });
    expect(lines).toEqual(['a', 'bc']);
  });

  it('runs a script sent on stdin', async () => {
    const result = await local.runScript('x=41\necho $((x + 1))\n');
    expect(result.stdout).toBe('42\n');
  });

  it('cancel ends the whole process group, background children included', async () => {
    const marker = 'sleep 311.5';
    const controller = new AbortController();
    const pending = local.exec(`${marker} & ${marker}; wait`, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = running(marker);
    controller.abort();
    expect(before).toHaveLength(2);
    expect((await rejection(pending)).code).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running(marker)).toEqual([]);
  });

  it('times out with a message naming the host and the command', async () => {
    const error = await rejection(local.exec('sleep 312.5', { timeoutMs: 200 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toBe('host local: `sleep 312.5` did not finish within 0.2 s and was stopped');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running('sleep 312.5')).toEqual([]);
  });

  it('detects its privilege', async () => {
    const privilege = await local.privilege();
    const uid = process.getuid?.() ?? -1;
    if (uid === 0) expect(privilege).toEqual({ kind: 'root' });
    else expect(['sudo', 'none']).toContain(privilege.kind);
  });
});
