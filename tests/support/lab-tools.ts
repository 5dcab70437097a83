// Shared helpers of the topology integration tests: a topology from a YAML body, a container's
// address from an applied lab, and a real iperf3 transfer between two containers.
import type { LabService } from '../../src-main/core/topology/lab-service';
import { parseTopologyText, type TopologySpec } from '../../src-main/core/topology/topology-schema';

/** A v1 topology on the tests' pool from the rest of its YAML. */
export function testTopology(yaml: string): TopologySpec {
  return parseTopologyText(`v: 1\naddressPool: 198.19.0.0/16\n${yaml}`, 'test topology');
}

/** The address (without prefix length) of a container's first interface. */
export function addressOf(record: { containers: { name: string; interfaces: { address: string | null }[] }[] }, name: string): string {
  const address = record.containers.find((c) => c.name === name)?.interfaces[0]?.address;
  if (!address) throw new Error(`container ${name} has no address`);
  return address.split('/')[0] ?? address;
}

export interface IperfOptions {
  /** Port the client connects to (a published host port for nat); the server listens on 5301. */
  port?: number;
  seconds?: number;
  reverse?: boolean;
}

/** An iperf3 TCP transfer from one container to another, one-off server; returns received bits/s. */
export async function iperf(labs: LabService, labId: string, client: string, server: string, address: string, options: IperfOptions = {}): Promise<number> {
  const seconds = options.seconds ?? 1;
  const serving = labs.exec(labId, server, ['timeout', String(seconds + 15), 'iperf3', '-s', '-1', '-p', '5301']);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const result = await labs.exec(labId, client, ['iperf3', '-c', address, '-p', String(options.port ?? 5301), '-t', String(seconds), '-J', ...(options.reverse ? ['-R'] : [])]);
  await serving;
  const report = JSON.parse(result.stdout) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  if (report.error) throw new Error(`iperf3: ${report.error}`);
  return report.end?.sum_received?.bits_per_second ?? 0;
}
