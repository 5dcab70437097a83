// The daemon helpers run for real on this machine, in a scratch folder: files written through quoted
// heredocs arrive verbatim, the step helpers fail with their messages, and a process entry's undo stops
// exactly the process group it recorded and leaves a process with another command line alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processEntry, restartDetachedCommand, startDetachedCommand, stepScript, writeFileCommand } from './daemons';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnlab-daemons-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function groupAlive(pgid: number): boolean {
  return sh(`kill -s 0 -- -${pgid} 2>/dev/null`).status === 0 && !/^Z/.test(sh(`sed 's/.*) //' /proc/${pgid}/stat 2>/dev/null`).stdout);
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('writeFileCommand', () => {
  it('writes the content verbatim: nothing in it is expanded', () => {
    const content = 'a $(id) `id` $HOME \\n \'q\' "d"\n\ttab\nCNLAB_EOF\nlast';
    const path = join(dir, 'f.conf');
    const result = sh(writeFileCommand(path, content));
    expect(result.status).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(`${content}\n`);
  });

  it('is deterministic for the same content', () => {
    expect(writeFileCommand('/x', 'one')).toBe(writeFileCommand('/x', 'one'));
    expect(writeFileCommand('/x', 'one')).not.toBe(writeFileCommand('/x', 'two'));
  });
});

describe('step helpers', () => {
  it('names the missing program and its Debian package', () => {
    const result = sh(stepScript(['cnlab_need cnlab-no-such-program bird2', 'echo not reached']));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('cnlab-no-such-program is not installed on this host: install it (Debian: apt-get install bird2)\n');
  });

  it('waits until the check succeeds', () => {
    const flag = join(dir, 'flag');
    const result = sh(stepScript([`( sleep 0.3; touch '${flag}' ) &`, `cnlab_wait 5 thing '' '' test -e '${flag}'`, 'echo answered']));
    expect(result).toMatchObject({ status: 0, stdout: 'answered\n' });
  });

  it('gives up after the bound with the end of the log', () => {
    const log = join(dir, 'thing.log');
    writeFileSync(log, 'line one\nbind: address already in use\n');
    const started = Date.now();
    const result = sh(stepScript([`cnlab_wait 1 'thing of lab x' '' '${log}' false`, 'echo not reached']));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('thing of lab x did not answer within 1 s\n');
    expect(result.stderr).toContain('bind: address already in use');
  });

  it('fails at once when the daemon has exited, zombie or gone', () => {
    const log = join(dir, 'd.log');
    const pid = join(dir, 'd.pid');
    const start = startDetachedCommand(['sh', '-c', 'echo starting; echo fatal: bad config >&2; exit 3'], pid, log);
    const started = Date.now();
    const result = sh(stepScript([start, `cnlab_wait 10 daemon '${pid}' '${log}' false`]));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('daemon exited before it answered');
    expect(result.stderr).toContain('fatal: bad config');
  });
});

describe('process entries', () => {
  it('start a daemon in its own session that outlives the starting shell, and stop its whole group', async () => {
    const marker = join(dir, 'daemon.conf');
    const pidFile = join(dir, 'daemon.pid');
    const log = join(dir, 'daemon.log');
    expect(sh(startDetachedCommand(['sh', '-c', 'sleep 30 & sleep 31', 'sh', marker], pidFile, log)).status).toBe(0);
    await waitFor(() => /^\d+\n$/.test(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : ''));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => sh(`ps -o pid= -g ${pid}`).stdout.trim().split(/\s+/).length >= 3);
    expect(sh(`ps -o sid= -p ${pid}`).stdout.trim()).toBe(String(pid));

    const entry = processEntry('daemon', pidFile, marker);
    expect(entry).toMatchObject({ kind: 'process', name: `daemon ${pidFile}` });
    expect(entry.undo).not.toMatch(/[\t\n]/);
    expect(sh(entry.undo).status).toBe(0);
    await waitFor(() => !groupAlive(pid));
    // Harmless when run again.
    expect(sh(entry.undo).status).toBe(0);
  });

  it('leave a process alone whose command line does not carry the marker (a reused pid)', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const pidFile = join(dir, 'other.pid');
      writeFileSync(pidFile, `${String(child.pid)}\n`);
      const entry = processEntry('bird', pidFile, '/run/cnlab/lab/bird/bird.conf');
      expect(sh(entry.undo).status).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(groupAlive(child.pid as number)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('do nothing for a missing or garbled pid file', () => {
    for (const content of [null, '', 'abc', '12; reboot', '-1']) {
      const pidFile = join(dir, 'x.pid');
      rmSync(pidFile, { force: true });
      if (content !== null) writeFileSync(pidFile, content);
      expect(sh(`( ${processEntry('x', pidFile, '/nowhere').undo} ); echo done`).stdout).toBe('done\n');
    }
  });

  it('restart in place: the old group stops, the same command line starts again, and the entry stops the new pid', async () => {
    const marker = join(dir, 'daemon.conf');
    const pidFile = join(dir, 'daemon.pid');
    const log = join(dir, 'daemon.log');
    const argv = ['sh', '-c', 'sleep 30 & sleep 31', 'sh', marker];
    expect(sh(startDetachedCommand(argv, pidFile, log)).status).toBe(0);
    await waitFor(() => /^\d+\n$/.test(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : ''));
    const old = Number(readFileSync(pidFile, 'utf8'));
    expect(sh(restartDetachedCommand('daemon', argv, pidFile, log, marker)).status).toBe(0);
    await waitFor(() => !groupAlive(old));
    await waitFor(() => /^\d+\n$/.test(readFileSync(pidFile, 'utf8')) && Number(readFileSync(pidFile, 'utf8')) !== old);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => groupAlive(pid));
    expect(sh(`tr '\\000' ' ' < /proc/${pid}/cmdline`).stdout).toContain(marker);
    expect(sh(processEntry('daemon', pidFile, marker).undo).status).toBe(0);
    await waitFor(() => !groupAlive(pid));
  });
});
