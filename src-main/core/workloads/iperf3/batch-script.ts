// The host scripts of batched iperf3 (one command per host for all its servers, one for all its clients)
// and the parsers of what they print. Pure: no I/O. The scripts are constant text; every value (flow ids,
// namespaces, addresses, ports, iperf3 options) reaches them as argv words (quoted by run-command's
// shellCommand), never as script text.
import { CnlabError } from '../../errors';

/** One flow as a host script sees it; `netns` null runs on the host itself (baseline, host mode). */
export interface ScriptFlow {
  id: string;
  netns: string | null;
  /** The server's address (client scripts only). */
  address?: string;
  port: number;
}

/** Frames each flow's output in a client script's stdout. */
export const FLOW_MARKER = '@@cnlab-flow';
const STDERR_MARKER = '@@cnlab-stderr';
const DONE_MARKER = '@@cnlab-done';
/** A server script prints it (prefixed by the flow id) when that flow's one-off server has ended. */
export const SERVER_EXIT_MARKER = '@@cnlab-exit';

/** The words of a flow line are read by `read` in sh: only characters that can never split or expand. */
const SAFE_WORD = /^[A-Za-z0-9_.:%-]+$/;

function word(value: string | number, what: string): string {
  const text = String(value);
  if (!SAFE_WORD.test(text)) throw new CnlabError('internal', `batched iperf3: ${what} ${JSON.stringify(text)} cannot be passed to the host script`);
  return text;
}

/** Runs "$@" in namespace $1 ("-" = the host's own namespace). */
const IN_NS = 'in_ns() { _ns=$1; shift; if [ "$_ns" = - ]; then "$@"; else ip netns exec "$_ns" "$@"; fi; }';

/**
 * $1: one flow a line, "id netns port". Starts every one-off server at once, each line it prints prefixed
 * with its flow id (so the caller sees each "Server listening"), and a final exit marker per server.
 */
export const SERVER_SCRIPT = [
  IN_NS,
  'while read -r id ns port; do',
  '  [ -n "$id" ] || continue',
  `  { in_ns "$ns" iperf3 -s -1 -p "$port" --forceflush 2>&1; echo "${SERVER_EXIT_MARKER} $?"; } </dev/null | while IFS= read -r line; do printf '%s %s\\n' "$id" "$line"; done &`,
  'done <<EOF',
  '$1',
  'EOF',
  'wait',
].join('\n');

/**
 * $1: a private directory, $2: one flow a line "id netns address port", then iperf3's client options.
 * Starts every client at once, each writing its -J result to a file of the directory, waits for all,
 * then prints each flow's exit code, JSON and stderr between markers (the directory is removed by the caller).
 */
export const CLIENT_SCRIPT = [
  'dir=$1 flows=$2; shift 2',
  IN_NS,
  'while read -r id ns addr port; do',
  '  [ -n "$id" ] || continue',
  '  { in_ns "$ns" iperf3 -c "$addr" -p "$port" "$@" >"$dir/$id.json" 2>"$dir/$id.err"; echo $? >"$dir/$id.rc"; } </dev/null &',
  'done <<EOF',
  '$flows',
  'EOF',
  'wait',
  'while read -r id ns addr port; do',
  '  [ -n "$id" ] || continue',
  `  printf '\\n${FLOW_MARKER} %s %s\\n' "$id" "$(cat "$dir/$id.rc" 2>/dev/null)"`,
  '  cat "$dir/$id.json" 2>/dev/null',
  `  printf '\\n${STDERR_MARKER} %s\\n' "$id"`,
  '  cat "$dir/$id.err" 2>/dev/null',
  'done <<EOF',
  '$flows',
  'EOF',
  `printf '\\n${DONE_MARKER}\\n'`,
].join('\n');

export function serverFlowLines(flows: readonly ScriptFlow[]): string {
  return flows.map((flow) => [word(flow.id, 'flow id'), word(flow.netns ?? '-', 'namespace'), word(flow.port, 'port')].join(' ')).join('\n');
}

export function clientFlowLines(flows: readonly ScriptFlow[]): string {
  return flows.map((flow) => [word(flow.id, 'flow id'), word(flow.netns ?? '-', 'namespace'), word(flow.address ?? '', 'address'), word(flow.port, 'port')].join(' ')).join('\n');
}

/** argv of the command that starts every server of one host. */
export function serverBatchArgv(flows: readonly ScriptFlow[]): string[] {
  return ['sh', '-c', SERVER_SCRIPT, 'iperf3-servers', serverFlowLines(flows)];
}

/** argv of the command that runs every client of one host; `options` are iperf3's after -c/-p. */
export function clientBatchArgv(dir: string, flows: readonly ScriptFlow[], options: readonly string[]): string[] {
  return ['sh', '-c', CLIENT_SCRIPT, 'iperf3-clients', dir, clientFlowLines(flows), ...options];
}

/** What one client printed: its exit code (null when the script never recorded one), -J output and stderr. */
export interface FlowOutput {
  id: string;
  exitCode: number | null;
  json: string;
  stderr: string;
}

/** Splits a client script's stdout into its flows; `complete` is false when the done marker is missing (killed). */
export function parseClientBatchOutput(stdout: string): { flows: Map<string, FlowOutput>; complete: boolean } {
  const flows = new Map<string, FlowOutput>();
  let current: FlowOutput | null = null;
  let section: 'json' | 'stderr' = 'json';
  const parts: { json: string[]; stderr: string[] } = { json: [], stderr: [] };
  const close = (): void => {
    if (current) flows.set(current.id, { ...current, json: parts.json.join('\n').trim(), stderr: parts.stderr.join('\n').trim() });
    parts.json = [];
    parts.stderr = [];
  };
  let complete = false;
  for (const line of stdout.split('\n')) {
    const flow = new RegExp(`^${FLOW_MARKER} (\\S+) ?(\\d*)$`).exec(line);
    if (flow?.[1]) {
      close();
      current = { id: flow[1], exitCode: flow[2] ? Number(flow[2]) : null, json: '', stderr: '' };
      section = 'json';
    } else if (line.startsWith(`${STDERR_MARKER} `)) section = 'stderr';
    else if (line === DONE_MARKER) {
      close();
      current = null;
      complete = true;
    } else if (current) parts[section].push(line);
  }
  if (current) close();
  return { flows, complete };
}

/** A server script's line: its flow id and what that server printed. */
export function parseServerBatchLine(line: string): { id: string; text: string } | null {
  const match = /^(\S+) ?(.*)$/.exec(line);
  return match?.[1] ? { id: match[1], text: match[2] ?? '' } : null;
}

/** A server's exit code from its exit marker line, or null for any other line. */
export function serverExitCode(text: string): number | null {
  const match = new RegExp(`^${SERVER_EXIT_MARKER} (\\d+)$`).exec(text);
  return match ? Number(match[1]) : null;
}
