// The connectivity check, run on the hosts themselves: each expectation whose source lives on a host
// becomes one ping from that source's namespace, run in parallel batches; the answers come back as
// marker lines and are compared with what the topology says must (or must not) reach.
import { quoteShellArg } from '../shell/quote';
import type { PlannedContainer, ReachabilityExpectation } from './plan';

const MARK_PING = '@@cnlab-ping';
/** Pings in flight at once per host: enough to be quick, few enough not to load the host. */
const PARALLEL = 32;

export interface VerifyOutcome extends ReachabilityExpectation {
  replied: boolean;
  ok: boolean;
}

export function renderVerifyScript(expectations: readonly ReachabilityExpectation[], containers: ReadonlyMap<string, PlannedContainer>, indices: readonly number[]): string {
  // probe INDEX NETNS ADDRESS TRIES: a pair that must answer gets a second ping 0.2 s after a miss (on a
  // loaded host a single echo can be lost: seen with vxlan at load 20), one that must not gets one ping,
  // so isolation checks cost no more time.
  const lines = [
    'set -u',
    `probe() { tries=0; while :; do if [ "$2" = - ]; then ping -n -c 1 -W 1 -q "$3" >/dev/null 2>&1; else ip netns exec "$2" ping -n -c 1 -W 1 -q "$3" >/dev/null 2>&1; fi; rc=$?; tries=$((tries + 1)); { [ "$rc" = 0 ] || [ "$tries" -ge "$4" ]; } && break; sleep 0.2; done; printf '%s %s %s\\n' ${quoteShellArg(MARK_PING)} "$1" "$rc"; }`,
  ];
  indices.forEach((index, position) => {
    const expectation = expectations[index];
    if (!expectation) return;
    const netns = containers.get(expectation.from)?.netns ?? null;
    lines.push(`probe ${index} ${quoteShellArg(netns ?? '-')} ${quoteShellArg(expectation.address)} ${expectation.reachable ? 2 : 1} &`);
    if ((position + 1) % PARALLEL === 0) lines.push('wait');
  });
  lines.push('wait', 'exit 0', '');
  return lines.join('\n');
}

export function parsePings(stdout: string): Map<number, boolean> {
  const replies = new Map<number, boolean>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${MARK_PING} `)) continue;
    const [, index = '', code = ''] = line.split(' ');
    replies.set(Number(index), code === '0');
  }
  return replies;
}
