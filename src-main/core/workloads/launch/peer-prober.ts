// The prober of peer reachability: a small sh loop in the peer container's namespace on the peer host.
// It waits for a "go" written into its FIFO (the console writes it when the measured host's apply
// starts), reads its own monotonic clock, pings every measured address at once in tight loops and
// prints, per address, the time from go to the first reply — one host, one clock, no SSH round trip
// inside the interval. The only cross-host part is when go arrives: see signalBiasMs.
import { CnlabError } from '../../errors';
import { clockText } from '../../topology/apply-script';
import { shellCommand } from '../../shell/quote';
import { lineWatcher, runAt, startAt, type BackgroundCommand } from '../run-command';
import type { WorkloadContext } from '../workload-context';

/** ping's interval while probing (root may go below 0.2 s): the resolution of the measurement. */
export const PROBE_INTERVAL_S = 0.002;
const FIFO_DIR_PREFIX = '/tmp/cnlab-launch-probe.';

/** The prober's script; $1 is the bound in ms, the rest are the addresses to probe. */
export function proberScript(): string {
  return [
    'set -u',
    ...clockText(),
    `d=$(mktemp -d ${FIFO_DIR_PREFIX}XXXXXX) || exit 1`,
    `trap 'rm -rf "$d"' EXIT`,
    "trap 'exit 143' TERM INT HUP",
    'mkfifo "$d/go" || exit 1',
    `printf 'ready %s\\n' "$d/go"`,
    'read -r _ < "$d/go"',
    'now; g=$clk; end=$(( g + $1 * 1000000 )); shift',
    'printf "go\\n"',
    'for a in "$@"; do',
    '  (',
    // -w keeps one ping sending every interval until a reply; it exits at once without a route, hence the loop.
    `    until ping -n -q -c 1 -i ${PROBE_INTERVAL_S} -w 1 "$a" >/dev/null 2>&1; do`,
    `      now; [ "$clk" -lt "$end" ] || { printf 'noreply %s\\n' "$a"; exit 0; }`,
    '      sleep 0.01',
    '    done',
    `    now; printf 'reply %s %s\\n' "$a" "$(( clk - g ))"`,
    '  ) &',
    'done',
    'wait',
  ].join('\n');
}

export interface ProbeReply {
  address: string;
  /** ms from go to the first reply, on the peer's clock; null when none came within the bound. */
  ms: number | null;
}

export function parseProbeLines(lines: readonly string[]): { clock: string | null; replies: ProbeReply[] } {
  const replies: ProbeReply[] = [];
  let clock: string | null = null;
  for (const line of lines) {
    const [word, address = '', nanos] = line.trim().split(' ');
    if (word === '@@cnlab-clock') clock = address;
    if (word === 'reply' && nanos !== undefined) replies.push({ address, ms: Number(nanos) / 1e6 });
    if (word === 'noreply') replies.push({ address, ms: null });
  }
  return { clock, replies };
}

export interface PeerProber {
  /** Writes go; resolves with the console's round trip of the go command (ms) once it has run. */
  go(): Promise<number>;
  /** Waits until every address got a reply or a noreply (bounded), then returns them. */
  results(timeoutMs: number): Promise<{ clock: string | null; replies: ProbeReply[] }>;
  /** Stops the prober's process group and removes its FIFO folder. */
  stop(): Promise<void>;
}

export async function startPeerProber(ctx: WorkloadContext, where: { host: string; netns: string }, addresses: readonly string[], boundMs: number): Promise<PeerProber> {
  const lines: string[] = [];
  const watcher = lineWatcher(`the launch prober on ${where.host}`, 15_000);
  let fifo: string | null = null;
  const background: BackgroundCommand = startAt(ctx, where, ['sh', '-c', proberScript(), 'sh', String(boundMs), ...addresses], {
    onStdoutLine: (line) => {
      lines.push(line);
      if (line.startsWith('ready ')) fifo = line.slice(6);
      watcher.onLine(line);
    },
  });
  const stop = async (): Promise<void> => {
    await background.stop();
    // TERM lets the prober remove its folder; a KILL would not, so it is removed here too (only ours).
    const dir = fifo?.slice(0, fifo.lastIndexOf('/'));
    if (dir?.startsWith(FIFO_DIR_PREFIX)) await runAt({ ...ctx, signal: new AbortController().signal }, { host: where.host, netns: null }, ['rm', '-rf', '--', dir], { timeoutMs: 15_000 }).catch(() => undefined);
  };
  try {
    await watcher.ready((line) => line.startsWith('ready '), background);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    async go() {
      const started = performance.now();
      // timeout: a writer of a FIFO nobody reads would block forever.
      const result = await runAt(ctx, { host: where.host, netns: null }, ['timeout', '5', 'sh', '-c', 'printf "go\\n" > "$1"', 'sh', fifo ?? '']);
      if (result.code !== 0) {
        throw new CnlabError('workload-failed', `host ${where.host}: could not signal the launch prober (exit code ${String(result.code)}${result.signal ? `, ${result.signal}` : ''}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').slice(-1).join('')}` : ''})`);
      }
      return performance.now() - started;
    },
    async results(timeoutMs) {
      const done = (): boolean => parseProbeLines(lines).replies.length >= addresses.length;
      const deadline = Date.now() + timeoutMs;
      while (!done() && !background.ended && Date.now() < deadline && !ctx.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 20));
      if (ctx.signal.aborted) throw new CnlabError('cancelled', 'launch time was cancelled');
      return parseProbeLines(lines);
    },
    stop,
  };
}

/** Quoted form of the prober's command, for tests and logs. */
export function proberCommand(boundMs: number, addresses: readonly string[]): string {
  return shellCommand(['sh', '-c', proberScript(), 'sh', String(boundMs), ...addresses]);
}
