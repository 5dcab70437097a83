// The recommendation's criteria as the page names and explains them: one table, so the priority picker and
// the ranked modes' evidence say the same words.
import type { RecommendationCriterion } from '@contract/lab-api';

/** Every criterion of the contract, in the order shown (a Record, so a new criterion cannot be forgotten). */
export const CRITERIA: Record<RecommendationCriterion, { label: string; help: string }> = {
  throughput: { label: 'Throughput', help: 'Bulk transfer rate (iperf3, netperf TCP_STREAM, sockperf throughput), relative to each run’s reference.' },
  latency: { label: 'Latency', help: 'Round-trip time (sockperf ping-pong, ping, netperf RR), relative to each run’s reference.' },
  isolation: { label: 'Isolation', help: 'How far a container’s network is kept from others and from the host (Suo et al. 2018, Table II).' },
  startup: { label: 'Startup time', help: 'Time until a new container answers on its network (launch experiments).' },
  multiHost: { label: 'Multi-host', help: 'Whether the mode connects containers on different hosts (cnlab’s reachability model).' },
  encryption: { label: 'Encryption', help: 'Whether the mode encrypts traffic between hosts (none of cnlab’s modes does).' },
};
