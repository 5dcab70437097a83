// Timeout and AbortSignal handling shared by the local and remote executors: both turn either
// into one "stop this process group" call and a specific error naming the host and the command.
import { CnlabError } from '../errors';
import type { ExecOptions } from './executor';

/** A short, single-line description of a command for error messages. */
export function describeCommand(command: string): string {
  const firstLine = command.trim().split('\n')[0] ?? '';
  return firstLine.length > 80 ? `${firstLine.slice(0, 77)}...` : firstLine;
}

/**
 * Calls `stop` once when the timeout fires or the signal aborts, with the error to report.
 * Returns a disposer that must be called when the command ends.
 */
export function watchCancellation(
  hostName: string,
  command: string,
  options: Pick<ExecOptions, 'timeoutMs' | 'signal'>,
  stop: (reason: CnlabError) => void,
): () => void {
  let fired = false;
  const fire = (reason: CnlabError): void => {
    if (fired) return;
    fired = true;
    stop(reason);
  };
  const what = describeCommand(command);
  const onAbort = (): void =>
    fire(new CnlabError('cancelled', `host ${hostName}: cancelled \`${what}\``, { host: hostName }));
  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(
          () =>
            fire(
              new CnlabError('timeout', `host ${hostName}: \`${what}\` did not finish within ${(options.timeoutMs as number) / 1000} s and was stopped`, { host: hostName }),
            ),
          options.timeoutMs,
        )
      : undefined;
  if (options.signal?.aborted) queueMicrotask(onAbort);
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  };
}

export function notPrivilegedError(hostName: string, user: string): CnlabError {
  return new CnlabError(
    'not-privileged',
    `host ${hostName}: user ${user} needs root or passwordless sudo to manage network namespaces: log in as root or allow ${user} \`sudo -n\``,
    { host: hostName, user },
  );
}

/** One round trip that tells root, passwordless sudo, or neither. */
export const PRIVILEGE_PROBE = 'id -un; id -u; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo sudo-ok; fi';

export function parsePrivilegeProbe(stdout: string): { user: string; uid: number; sudo: boolean } {
  const [user = '', uid = '', sudo = ''] = stdout.trim().split('\n');
  return { user: user.trim(), uid: Number(uid.trim()), sudo: sudo.trim() === 'sudo-ok' };
}
