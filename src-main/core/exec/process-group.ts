// Wrapping of a command so cnlab can kill exactly what it started: the command announces its
// process group on stderr first, and cancel kills that group (TERM, then KILL after a grace period).
import { quoteShellArg } from '../shell/quote';

export const PID_MARKER = '@@cnlab-pid:';

/**
 * sshd starts each non-pty session with setsid(), so the shell's PID is also its process group id;
 * `exec` keeps that PID for the real command. With sudo, sudo relays TERM to the command.
 */
export function wrapForProcessGroup(command: string, sudo: boolean): string {
  const body = sudo ? `exec sudo -n sh -c ${quoteShellArg(command)}` : `exec sh -c ${quoteShellArg(command)}`;
  return `printf '%s%s\\n' ${quoteShellArg(PID_MARKER)} "$$" >&2; ${body}`;
}

/** Reads the marker line; returns the pid or null when the line is not the marker. */
export function parsePidMarker(line: string): number | null {
  if (!line.startsWith(PID_MARKER)) return null;
  const pid = Number(line.slice(PID_MARKER.length));
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

/** A script that ends a process group: TERM, up to graceMs to exit, then KILL. Always exits 0. */
export function killProcessGroupScript(pgid: number, graceMs = 1000): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to kill process group ${String(pgid)}`);
  const rounds = Math.max(1, Math.ceil(graceMs / 100));
  return [
    `kill -TERM -- -${pgid} 2>/dev/null || exit 0`,
    `i=0; while kill -0 -- -${pgid} 2>/dev/null && [ "$i" -lt ${rounds} ]; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL -- -${pgid} 2>/dev/null; exit 0`,
  ].join('\n');
}
