// Daemons the dynamic control planes run on lab hosts (etcd, BIRD, the watch agent): how a step starts
// one detached from the SSH session, waits until it answers, writes its files, and how the ledger stops
// exactly that process again. Everything lives under the lab's folder, so teardown's `rm -rf` takes it.
import { createHash } from 'node:crypto';
import { quoteShellArg, shellCommand } from '../../shell/quote';
import type { LedgerEntry } from '../plan';

/** How long a step waits for a daemon it started (or depends on) to answer. */
export const DAEMON_ANSWER_SECONDS = 15;

/**
 * Helper functions every control-plane step defines first (inside its own subshell, where `exit` ends
 * the step, not the apply script):
 * - cnlab_need PROGRAM PACKAGE: refuse, with the Debian package to install, when PROGRAM is missing;
 * - cnlab_port_free PORT WHAT FIX: refuse when something on this host already listens on TCP PORT;
 * - cnlab_wait SECONDS WHAT PIDFILE LOG CMD...: run CMD until it succeeds, failing with the end of LOG
 *   when the daemon of PIDFILE has exited or SECONDS have passed (PIDFILE and LOG may be '');
 * - cnlab_running PID: the process runs (and is not a zombie).
 */
export const STEP_HELPERS = [
  `cnlab_need() { command -v "$1" >/dev/null 2>&1 || { printf '%s is not installed on this host: install it (Debian: apt-get install %s)\\n' "$1" "$2" >&2; exit 1; }; }`,
  `cnlab_port_free() { if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then printf 'TCP port %s (%s) is already in use on this host (see ss -ltnp): %s\\n' "$1" "$2" "$3" >&2; exit 1; fi; }`,
  'cnlab_tail() { if [ -n "$1" ]; then printf \'the end of %s:\\n\' "$1" >&2; tail -n 15 "$1" >&2 2>/dev/null || true; fi; }',
  // Running and not a zombie (a daemon that died stays one until this step's shell ends).
  `cnlab_running() { cnlab_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1); [ -n "$cnlab_st" ] && [ "$cnlab_st" != Z ]; }`,
  'cnlab_wait() {',
  '  cnlab_s=$1; cnlab_what=$2; cnlab_pid=$3; cnlab_log=$4; shift 4',
  '  cnlab_end=$(( $(date +%s) + cnlab_s ))',
  '  until "$@" </dev/null >/dev/null 2>&1; do',
  // An empty or missing pid file: the daemon is still starting (the wrapper writes it, BIRD rewrites it).
  '    cnlab_p=$(cat "$cnlab_pid" 2>/dev/null || true)',
  '    if [ -n "$cnlab_p" ] && ! cnlab_running "$cnlab_p"; then',
  `      printf '%s exited before it answered\\n' "$cnlab_what" >&2; cnlab_tail "$cnlab_log"; exit 1`,
  '    fi',
  '    if [ "$(date +%s)" -ge "$cnlab_end" ]; then',
  `      printf '%s did not answer within %s s\\n' "$cnlab_what" "$cnlab_s" >&2; cnlab_tail "$cnlab_log"; exit 1`,
  '    fi',
  '    sleep 0.1',
  '  done',
  '}',
].join('\n');

/** A step's shell text: a subshell with `set -e`, the helpers, then the body lines. */
export function stepScript(body: readonly string[]): string {
  return ['(', 'set -e', 'export ETCDCTL_API=3', STEP_HELPERS, ...body, ')'].join('\n');
}

/**
 * Writes `content` to `path` through a quoted heredoc: nothing in it is expanded by the shell. The
 * delimiter is derived from the content (plans are deterministic) and checked not to occur in it.
 */
export function writeFileCommand(path: string, content: string): string {
  const body = content.endsWith('\n') ? content.slice(0, -1) : content;
  const delimiter = `CNLAB_EOF_${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
  if (body.split('\n').includes(delimiter)) throw new Error(`internal: ${path} contains its own heredoc delimiter`);
  return `cat > ${quoteShellArg(path)} <<'${delimiter}'\n${body}\n${delimiter}`;
}

/**
 * Starts `argv` in its own session (so it outlives the SSH session and can be stopped as a group), with
 * no terminal, stdin from /dev/null and stdout/stderr appended to `logFile`. The wrapper writes its pid
 * to `pidFile` before it becomes the program, so the pid is known even if the program dies at once.
 */
export function startDetachedCommand(argv: readonly string[], pidFile: string, logFile: string): string {
  return `setsid sh -c 'echo $$ > "$1"; shift; exec "$@"' sh ${quoteShellArg(pidFile)} ${shellCommand(argv)} </dev/null >>${quoteShellArg(logFile)} 2>&1 &`;
}

/**
 * The ledger entry of a daemon: its undo stops the process group led by the pid in `pidFile`, and only
 * when that process's command line still contains `marker` (a path of this lab): a pid reused by some
 * other program is left alone. A leader that is gone while its group lives on (the agent's etcdctl)
 * still gets its group stopped: Linux does not reuse a pid while a group of that number exists.
 * TERM first (BIRD then withdraws its routes), KILL after 5 s.
 */
export function processEntry(program: string, pidFile: string, marker: string): LedgerEntry {
  const alive = `cat /proc/[0-9]*/stat 2>/dev/null | sed 's/.*) //' | awk -v g="$p" '$3 == g && $1 != "Z" { f = 1 } END { exit !f }'`;
  const undo = [
    `p=$(cat ${quoteShellArg(pidFile)} 2>/dev/null)`,
    `case "$p" in ''|*[!0-9]*) exit 0;; esac`,
    `c=$(tr '\\000' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)`,
    `case "$c" in ''|*${quoteShellArg(marker)}*) ;; *) exit 0;; esac`,
    `kill -s TERM -- "-$p" 2>/dev/null`,
    'i=0',
    `while [ "$i" -lt 50 ] && ${alive}; do sleep 0.1; i=$((i+1)); done`,
    `kill -s KILL -- "-$p" 2>/dev/null`,
    'true',
  ].join('; ');
  return { kind: 'process', name: `${program} ${pidFile}`, undo };
}

/**
 * Restarts a daemon in place (launch time's peer restart): stops it exactly as its ledger entry's undo
 * does, then starts `argv` again as the apply did, writing the new pid to the same `pidFile`, so the
 * ledger entry (which reads the pid file when it runs) stops the new process at teardown.
 */
export function restartDetachedCommand(program: string, argv: readonly string[], pidFile: string, logFile: string, marker: string): string {
  return `( ${processEntry(program, pidFile, marker).undo} ); ${startDetachedCommand(argv, pidFile, logFile)}`;
}

/**
 * Step lines that wait until every destination in `wanted` is among the first fields printed by
 * `installedCommand` (e.g. `ip -4 -o route show dev X`), polling every 50 ms; after `seconds` they run
 * `failureLines`, which may name what is still missing with "$(cnlab_missing)", and must exit 1.
 */
export function waitForRoutesBody(wanted: readonly string[], installedCommand: string, seconds: number, failureLines: readonly string[]): string[] {
  return [
    `cnlab_installed() { ${installedCommand}; }`,
    `cnlab_missing() { { printf '%s\\n' ${shellCommand(wanted)}; echo --; cnlab_installed; } | awk '/^--$/ { s = 1; next } !s { want[$1] = 1; next } { have[$1] = 1 } END { n = 0; for (w in want) if (!(w in have)) { if (n < 8) printf "%s ", w; n++ } if (n > 8) printf "(%d in all) ", n }'; }`,
    `cnlab_end=$(( $(date +%s) + ${seconds} ))`,
    'until [ -z "$(cnlab_missing)" ]; do',
    '  if [ "$(date +%s)" -ge "$cnlab_end" ]; then',
    ...failureLines.map((line) => `    ${line}`),
    '  fi',
    '  sleep 0.05',
    'done',
  ];
}
