// Runs commands and batched scripts on an SSH host over its pooled connection, streaming lines,
// and really stops the remote process group on timeout or cancel.
import type { ClientChannel } from 'ssh2';
import { CnlabError } from '../errors';
import type { SshConnection } from '../ssh/ssh-connection';
import type { SshConnectionPool } from '../ssh/connection-pool';
import { describeCommand, notPrivilegedError, parsePrivilegeProbe, PRIVILEGE_PROBE, watchCancellation } from './cancellation';
import type { ExecOptions, ExecResult, HostExecutor, Privilege } from './executor';
import { LineCollector } from './line-splitter';
import { quoteShellArg } from '../shell/quote';
import { killProcessGroupScript, parsePidMarker, wrapForProcessGroup } from './process-group';

/** How long cancel waits for the command to announce its process group before giving up on it. */
const PID_WAIT_MS = 5_000;
/** The kill script takes about a second (TERM, grace, KILL); a cancel never waits longer than this for it. */
const KILL_WAIT_MS = 10_000;

export class RemoteExecutor implements HostExecutor {
  private privilegeProbe?: Promise<Privilege>;

  constructor(
    readonly hostName: string,
    private readonly pool: SshConnectionPool,
  ) {}

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const sudo = options.privileged ? await this.sudoNeeded() : false;
    const connection = await this.pool.connection(this.hostName);
    return runOnChannel(connection, command, sudo, options);
  }

  runScript(script: string, options: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    return this.exec('sh -s', { ...options, stdin: script });
  }

  privilege(): Promise<Privilege> {
    this.privilegeProbe ??= this.probePrivilege().catch((error: unknown) => {
      this.privilegeProbe = undefined;
      throw error;
    });
    return this.privilegeProbe;
  }

  async close(): Promise<void> {
    await this.pool.disconnect(this.hostName);
  }

  private async probePrivilege(): Promise<Privilege> {
    const connection = await this.pool.connection(this.hostName);
    const result = await runOnChannel(connection, PRIVILEGE_PROBE, false, { timeoutMs: 15_000 });
    const { user, uid, sudo } = parsePrivilegeProbe(result.stdout);
    if (uid === 0) return { kind: 'root' };
    return sudo ? { kind: 'sudo', user } : { kind: 'none', user };
  }

  private async sudoNeeded(): Promise<boolean> {
    const privilege = await this.privilege();
    if (privilege.kind === 'none') throw notPrivilegedError(this.hostName, privilege.user);
    return privilege.kind === 'sudo';
  }
}

function runOnChannel(connection: SshConnection, command: string, sudo: boolean, options: ExecOptions): Promise<ExecResult> {
  const hostName = connection.host.name;
  const started = performance.now();
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    // Once a cancel or timeout fired, that is the outcome, even if the command exits on our TERM first.
    let stopReason: CnlabError | null = null;
    let channel: ClientChannel | undefined;
    let pgid: number | null = null;
    let pidWaiters: ((pid: number | null) => void)[] = [];
    let exit: { code: number | null; signal: string | null } | null = null;
    let pidSeen = false;

    const stdout = new LineCollector({ onLine: options.onStdoutLine });
    const stderr = new LineCollector({
      onLine: options.onStderrLine,
      keep: (line) => {
        if (pidSeen) return true;
        pidSeen = true;
        pgid = parsePidMarker(line);
        for (const wake of pidWaiters) wake(pgid);
        pidWaiters = [];
        return pgid === null;
      },
    });

    const finish = (error: CnlabError | null): void => {
      if (settled) return;
      settled = true;
      disposeCancel();
      stopWatchingConnection();
      const result = { code: exit?.code ?? null, signal: exit?.signal ?? null, stdout: stdout.end(), stderr: stderr.end(), durationMs: performance.now() - started };
      const failure = stopReason ?? error;
      if (failure) reject(failure);
      else resolve(result);
    };

    const waitForPid = (): Promise<number | null> =>
      pidSeen
        ? Promise.resolve(pgid)
        : new Promise((wake) => {
            pidWaiters.push(wake);
            setTimeout(() => wake(null), PID_WAIT_MS);
          });

    const stopRemote = async (reason: CnlabError): Promise<void> => {
      stopReason = reason;
      const pid = await waitForPid();
      if (pid !== null && connection.isOpen) {
        try {
          const killer = await connection.exec(sudo ? `sudo -n sh -c ${quoteShellArg(killProcessGroupScript(pid))}` : killProcessGroupScript(pid), { forKill: true });
          // An ssh2 channel emits 'close' only once its output was read: unread, the wait never ended and
          // each kill kept one of the connection's channel slots until the host ran out of them.
          killer.resume();
          killer.stderr.resume();
          killer.end();
          await new Promise<void>((done) => {
            const timer = setTimeout(() => {
              killer.close();
              done();
            }, KILL_WAIT_MS);
            killer.once('close', () => {
              clearTimeout(timer);
              done();
            });
          });
        } catch {
          // The connection is gone: sshd closes our session and the kernel ends the group with it.
        }
      }
      channel?.close();
      finish(reason);
    };

    const disposeCancel = watchCancellation(hostName, command, options, (reason) => void stopRemote(reason));
    const lostError = (): CnlabError =>
      new CnlabError('connection-lost', `host ${hostName}: the SSH connection was lost while running \`${describeCommand(command)}\`: check that the host is up; cnlab reconnects on the next command`, { host: hostName });
    const stopWatchingConnection = connection.onClose(() => finish(lostError()));

    connection
      .exec(wrapForProcessGroup(command, sudo))
      .then((opened) => {
        channel = opened;
        if (settled) {
          opened.close();
          return;
        }
        opened.on('data', (chunk: Buffer) => stdout.push(chunk));
        opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        opened.on('exit', (code: number | null, signal?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
        });
        // ssh2 emits 'exit' while it reads the packets, and a fast command's exit status can arrive in the
        // same read as the exec reply: before the promise above handed us the channel, so no listener heard
        // it (CI saw `hostname` "exit null" with its output). 'close' comes later and repeats the status.
        opened.on('close', (code?: number | null, signal?: string) => {
          if (!exit && (typeof code === 'number' || typeof signal === 'string')) exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
          if (exit) return finish(null);
          // No exit status: the session died with its connection (sshd killed, host gone).
          setImmediate(() => finish(connection.isOpen ? null : lostError()));
        });
        opened.end(options.stdin ?? undefined);
      })
      .catch((error: unknown) => finish(error instanceof CnlabError ? error : new CnlabError('connection-lost', `host ${hostName}: ${String(error)}`)));
  });
}

