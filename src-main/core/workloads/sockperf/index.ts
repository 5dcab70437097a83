// Public surface of the sockperf workload parsers; the runner imports only from here.
// Everything is pure: the runner captures output and files, these turn them into typed results.

export { parseSockperfLatency, type SockperfLatencyOptions } from './latency-parser';
export { parseSockperfThroughput, mibPerSecondToBits, BYTES_PER_MIB } from './throughput-parser';
export { parseSockperfFullLog, type SockperfFullLogOptions } from './full-log-parser';
export * from './types';
