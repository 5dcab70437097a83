// Peer daemon restart, the third case of peer convergence: after the timed apply, the peer host's
// control-plane daemon that carries the route to the measured container (the etcd watch agent, or BIRD)
// is restarted in place, and one script on the peer host times, with that host's own clock, from the
// moment the stop begins until the measured container answers the peer container again. Start and
// reply are read on the same host, so no clock is compared with another. The daemon is stopped only
// through the pid in cnlab's pid file (the ledger's own undo) and started with the apply's command line,
// writing the new pid there, so teardown stops the new process.
import { CnlabError } from '../../errors';
import { daemonRestartCommand } from '../../topology/modes/control-planes';
import type { ControlPlanePlan } from '../../topology/plan';
import { quoteShellArg } from '../../shell/quote';
import { clockText } from '../../topology/apply-script';
import { runAt } from '../run-command';
import type { WorkloadContext } from '../workload-context';
import { PROBE_INTERVAL_S } from './peer-prober';

/** The daemon whose restart is timed: the one on the peer host that programs the peer's routes. */
const ROUTE_DAEMON = { etcd: 'watch-agent', bgp: 'bird' } as const;

export interface RestartTarget {
  /** Shell text that stops the daemon by its pid file and starts it again (daemonRestartCommand). */
  restart: string;
  /** A log line that says the daemon has programmed the measured host's routes again, and its log; or null. */
  relearned: { logFile: string; text: string } | null;
  program: string;
}

/** The daemon of the peer host to restart, with what says it has re-learned the measured host's block. */
export function restartTarget(controlPlane: ControlPlanePlan, peerHost: string, measuredAddress: string): RestartTarget {
  const program = ROUTE_DAEMON[controlPlane.kind];
  const daemon = controlPlane.daemons.find((candidate) => candidate.host === peerHost && candidate.program === program);
  if (!daemon) throw new CnlabError('internal', `launch time: the ${controlPlane.kind} control plane has no ${program} on host ${peerHost}`);
  // The agent logs each lease it programs ("lease 198.19.1.0-24: programmed ..."); blocks are /24s.
  const lease = `${measuredAddress.split('.').slice(0, 3).join('.')}.0-24`;
  return {
    restart: daemonRestartCommand(controlPlane, daemon),
    relearned: program === 'watch-agent' ? { logFile: daemon.logFile, text: `lease ${lease}: programmed` } : null,
    program,
  };
}

/**
 * The timing script; $1 is the bound in ms, $2 the peer container's namespace, $3 the measured address.
 * Prints "started N" (stop and start done), "relearned N" (the log says so; agent only), then "reply N"
 * or "noreply": ns after the stop began, all on this host's clock. A route that outlives its daemon
 * (the agent leaves its entries, as flanneld does) makes the reply come at once; the log line then
 * tells when the routes were programmed again.
 */
export function restartScript(target: RestartTarget): string {
  const log = target.relearned ? quoteShellArg(target.relearned.logFile) : "''";
  const giveUp = `now; [ "$clk" -lt "$end" ] || { printf 'noreply\\n'; exit 0; }; sleep 0.01`;
  return [
    'set -u',
    ...clockText(),
    `n=0; [ -z ${log} ] || n=$(wc -l < ${log} 2>/dev/null || echo 0)`,
    'now; r=$clk; end=$(( r + $1 * 1000000 ))',
    `{ ${target.restart}\n} </dev/null >/dev/null 2>&1`,
    `now; printf 'started %s\\n' "$(( clk - r ))"`,
    ...(target.relearned
      ? [
          `until tail -n "+$(( n + 1 ))" ${log} 2>/dev/null | grep -qF -e ${quoteShellArg(target.relearned.text)}; do ${giveUp}; done`,
          `now; printf 'relearned %s\\n' "$(( clk - r ))"`,
        ]
      : []),
    // As the prober: -w 1 keeps one ping sending every interval until a reply; without a route it exits at once.
    `until nsenter --net="/run/netns/$2" ping -n -q -c 1 -i ${PROBE_INTERVAL_S} -w 1 "$3" >/dev/null 2>&1; do ${giveUp}; done`,
    `now; printf 'reply %s\\n' "$(( clk - r ))"`,
  ].join('\n');
}

export interface RestartTimes {
  clock: string | null;
  /** ms from the stop to the new daemon started. */
  startedMs: number | null;
  /** ms from the stop to the agent's log saying it programmed the measured block again (agent only). */
  relearnedMs: number | null;
  /** ms from the stop to the measured container's first reply; null when none within the bound. */
  replyMs: number | null;
}

export function parseRestartLines(lines: readonly string[]): RestartTimes {
  const times: RestartTimes = { clock: null, startedMs: null, relearnedMs: null, replyMs: null };
  for (const line of lines) {
    const [word, value = ''] = line.trim().split(' ');
    const ms = Number(value) / 1e6;
    if (word === '@@cnlab-clock') times.clock = value;
    if (word === 'started' && value) times.startedMs = ms;
    if (word === 'relearned' && value) times.relearnedMs = ms;
    if (word === 'reply' && value) times.replyMs = ms;
  }
  return times;
}

/** Restarts the daemon on the peer host and times it there; throws when the restart script itself fails. */
export async function timePeerRestart(ctx: WorkloadContext, where: { host: string; netns: string }, target: RestartTarget, address: string, boundMs: number): Promise<RestartTimes> {
  const result = await runAt(ctx, { host: where.host, netns: null }, ['sh', '-c', restartScript(target), 'sh', String(boundMs), where.netns, address], { timeoutMs: boundMs + 30_000 });
  if (result.code !== 0) throw new CnlabError('workload-failed', `host ${where.host}: restarting the ${target.program} for launch time failed (exit code ${String(result.code)}): ${result.stderr.trim()}`);
  return parseRestartLines(result.stdout.split('\n'));
}
