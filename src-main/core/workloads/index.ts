// Public surface of the workload executors: one measurement of a client/server pair per call, through the
// WorkloadContext contract, plus the per-host CPU/link sampler the runner wraps around each measurement.
export { runIperf3 } from './iperf3/executor';
export { runSockperf } from './sockperf/executor';
export { runPing } from './ping/executor';
export { runNetperf } from './netperf/executor';
export { startHostSampler, type HostSampler, type HostSamplerOptions, type HostSamplerSummary } from './host-samplers';
export { runAt, startAt, lineWatcher, endpointCommand, runCleanupAt, type BackgroundCommand, type RunOptions } from './run-command';
export type { CommandRecord, Endpoint, LiveSample, Measurement, PairRun, PairWorkload, WorkloadContext } from './workload-context';
