// Public surface of the netperf workload parser; the runner imports only from here.
// Pure: the runner captures netperf's output (or learns it is missing), these give typed results and errors.

export { parseNetperfOmni } from './omni-parser';
export { netperfMissingError, looksLikeNetperfMissing } from './missing';
export { throughputScale, expectedKind, type ThroughputKind } from './units';
export * from './types';
