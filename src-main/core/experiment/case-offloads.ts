// Offload settings (TSO, GSO, GRO) of a case's server endpoint, read with ethtool inside its
// namespace after the lab is applied: the run keeps them, and cases whose settings differ get a
// warning, since offloads alone can move throughput and CPU cost more than the modes do.
import { runAt } from '../workloads/run-command';
import type { WorkloadContext } from '../workloads/workload-context';
import { OFFLOAD_FEATURES } from './preflight-script';
import type { CaseLab } from './workload-dispatch';
import { NODE_PREFIX, SERVER_PREFIX } from './cell-topology';

/** ethtool -k output → { tso: 'on', gso: 'off', … } (the features cnlab compares). */
export function parseOffloads(text: string): Record<string, 'on' | 'off'> {
  const result: Record<string, 'on' | 'off'> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-z-]+):\s+(on|off)\b/.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    const name = (OFFLOAD_FEATURES as Record<string, string>)[match[1]];
    if (name) result[name] = match[2] as 'on' | 'off';
  }
  return result;
}

/** The server container's offloads, or null when ethtool is missing or the mode has no interface to ask. */
export async function readCaseOffloads(ctx: WorkloadContext, lab: CaseLab): Promise<Record<string, 'on' | 'off'> | null> {
  // node1 is the first server of an all-to-all lab (it has no srv1), on the server host as srv1 would be.
  const server = lab.record?.containers.find((container) => container.name === `${SERVER_PREFIX}1` || container.name === `${NODE_PREFIX}1`);
  const ifname = server?.interfaces[0]?.ifname;
  if (!server || !ifname) return null;
  const result = await runAt(ctx, server, ['sh', '-c', 'command -v ethtool >/dev/null || exit 127; exec ethtool -k "$1"', 'ethtool', ifname], { timeoutMs: 10_000 });
  if (result.code !== 0) return null;
  const offloads = parseOffloads(result.stdout);
  return Object.keys(offloads).length > 0 ? offloads : null;
}
