// The "This machine" host: the same executor contract over child_process, so cnlab can manage
// the local machine without SSH. Each command runs in its own process group so cancel ends all of it.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { CnlabError } from '../errors';
import { quoteShellArg } from '../shell/quote';
import { notPrivilegedError, parsePrivilegeProbe, PRIVILEGE_PROBE, watchCancellation } from './cancellation';
import type { ExecOptions, ExecResult, HostExecutor, Privilege } from './executor';
import { LineCollector } from './line-splitter';

const KILL_GRACE_MS = 1000;

export class LocalExecutor implements HostExecutor {
  private privilegeProbe?: Promise<Privilege>;

  constructor(readonly hostName: string) {}

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const sudo = options.privileged ? await this.sudoNeeded() : false;
    return runLocal(this.hostName, sudo ? `exec sudo -n sh -c ${quoteShellArg(command)}` : command, options, command);
  }

  runScript(script: string, options: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    return this.exec('sh -s', { ...options, stdin: script });
  }

  privilege(): Promise<Privilege> {
    this.privilegeProbe ??= runLocal(this.hostName, PRIVILEGE_PROBE, { timeoutMs: 15_000 }, 'privilege probe').then((result) => {
      const { user, uid, sudo } = parsePrivilegeProbe(result.stdout);
      if (uid === 0) return { kind: 'root' } as const;
      return sudo ? ({ kind: 'sudo', user } as const) : ({ kind: 'none', user: user || userInfo().username } as const);
    });
    return this.privilegeProbe;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async sudoNeeded(): Promise<boolean> {
    const privilege = await this.privilege();
    if (privilege.kind === 'none') throw notPrivilegedError(this.hostName, privilege.user);
    return privilege.kind === 'sudo';
  }
}

function runLocal(hostName: string, shellText: string, options: ExecOptions, shownCommand: string): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // detached: the child leads a new process group, so one kill reaches everything it started.
    const child = spawn('/bin/sh', ['-c', shellText], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout = new LineCollector({ onLine: options.onStdoutLine });
    const stderr = new LineCollector({ onLine: options.onStderrLine });
    let failure: CnlabError | null = null;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const dispose = watchCancellation(hostName, shownCommand, options, (reason) => {
      failure = reason;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    });

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {
      // The command may exit without reading its stdin; that is its business.
    });
    child.once('error', (error) => {
      dispose();
      reject(new CnlabError('command-failed', `host ${hostName}: cannot start /bin/sh: ${error.message}`, { host: hostName }));
    });
    child.once('close', (code, signal) => {
      dispose();
      if (killTimer) clearTimeout(killTimer);
      // Children that outlived the shell (background jobs) must not outlive a cancel either.
      if (failure) killGroup('SIGKILL');
      const result: ExecResult = { code, signal, stdout: stdout.end(), stderr: stderr.end(), durationMs: performance.now() - started };
      if (failure) reject(failure);
      else resolve(result);
    });
    child.stdin.end(options.stdin ?? '');
  });
}
