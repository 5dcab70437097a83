// Runs one netperf measurement of a pair: checks both hosts have netperf (Debian ships it only in non-free),
// starts netserver in the foreground on an allocated port at the server endpoint, runs the test from the
// client with omni `-k` output selectors and turns the result into the run's metrics.
import { CnlabError, toCnlabError, type ErrorCode } from '../../errors';
import { lineWatcher, runAt, startAt, startReadyServer } from '../run-command';
import type { Measurement, PairRun, PairWorkload, WorkloadContext } from '../workload-context';
import type { NetperfParams } from '../workload-params';
import { looksLikeNetperfMissing, netperfMissingError } from './missing';
import { parseNetperfOmni } from './omni-parser';
import type { NetperfResult } from './types';

const SERVER_READY_MS = 5_000;
const CHECK_TIMEOUT_MS = 15_000;

/** What cnlab asks netperf to print; keys netperf did not measure come back as -1 and are left out. */
export const NETPERF_KEYS = [
  'THROUGHPUT',
  'THROUGHPUT_UNITS',
  'ELAPSED_TIME',
  'MEAN_LATENCY',
  'P50_LATENCY',
  'P90_LATENCY',
  'P99_LATENCY',
  'RT_LATENCY',
  'LOCAL_BYTES_SENT',
  'REMOTE_BYTES_RECVD',
  'LOCAL_TRANSPORT_RETRANS',
] as const;

/** -D keeps netserver in the foreground, so its process group is ours to stop. */
export function netserverArgv(port: number): string[] {
  return ['netserver', '-D', '-p', String(port)];
}

export function netperfArgv(params: NetperfParams, address: string, port: number): string[] {
  const argv = ['netperf', '-H', address, '-p', String(port), '-l', String(params.duration), '-t', params.test, '-P', '0', '--', '-k', NETPERF_KEYS.join(',')];
  if (params.messageSize !== undefined) argv.push(...(params.test === 'TCP_STREAM' ? ['-m', String(params.messageSize)] : ['-r', `${params.messageSize},${params.messageSize}`]));
  return argv;
}

export function netperfTimeoutMs(params: Pick<NetperfParams, 'duration'>): number {
  return params.duration * 1000 + 15_000;
}

/** A count netperf measured (it prints -1 for what it did not). */
function counted(fields: Record<string, string>, key: string): number | null {
  const value = Number.parseFloat(fields[key] ?? '');
  return Number.isFinite(value) && value >= 0 ? value : null;
}

function put(metrics: Record<string, number>, name: string, value: number | null | undefined): void {
  if (typeof value === 'number' && Number.isFinite(value)) metrics[name] = value;
}

export function netperfMeasurement(result: NetperfResult, params: NetperfParams): Measurement {
  const metrics: Record<string, number> = {};
  const elapsed = counted(result.fields, 'ELAPSED_TIME') ?? params.duration;
  if (params.test === 'TCP_STREAM') {
    const bitsPerSecond = result.throughput.bitsPerSecond;
    put(metrics, 'throughputBitsPerSecond', bitsPerSecond);
    put(metrics, 'bytes', counted(result.fields, 'REMOTE_BYTES_RECVD') ?? counted(result.fields, 'LOCAL_BYTES_SENT') ?? (bitsPerSecond === null ? null : (bitsPerSecond * elapsed) / 8));
    put(metrics, 'retransmits', counted(result.fields, 'LOCAL_TRANSPORT_RETRANS'));
  } else {
    const perSecond = result.throughput.transactionsPerSecond;
    put(metrics, 'transactionsPerSecond', perSecond);
    put(metrics, 'transactions', perSecond === null ? null : Math.round(perSecond * elapsed));
    // MEAN_LATENCY needs a netperf built with histograms; RT_LATENCY (1/rate) is always there.
    put(metrics, 'latencyMeanUs', result.latencyUs.mean ?? counted(result.fields, 'RT_LATENCY'));
    put(metrics, 'latencyP50Us', result.latencyUs.p50);
    put(metrics, 'latencyP90Us', result.latencyUs.p90);
    put(metrics, 'latencyP99Us', result.latencyUs.p99);
  }
  return { metrics };
}

/** Fails with the install hint when a host lacks the program, before anything is started. */
async function requireProgram(ctx: WorkloadContext, host: string, program: 'netperf' | 'netserver'): Promise<void> {
  const result = await runAt(ctx, { host, netns: null }, ['sh', '-c', `command -v ${program}`], { timeoutMs: CHECK_TIMEOUT_MS });
  if (result.code !== 0) throw netperfMissingError(host);
}

const describePair = (run: PairRun<NetperfParams>, port: number): string =>
  `netperf ${run.params.test} from ${run.client.name} on ${run.client.host} to ${run.server.name} on ${run.server.host} (${run.server.address} port ${port})`;

function failure(error: unknown, run: PairRun<NetperfParams>, port: number): CnlabError {
  const cause = toCnlabError(error);
  const code: ErrorCode = cause.code === 'timeout' || cause.code === 'connection-lost' ? cause.code : 'workload-failed';
  return new CnlabError(code, `${describePair(run, port)} failed: ${cause.message}`, { client: run.client.host, server: run.server.host, port, ...cause.details }, { cause });
}

function startServer(ctx: WorkloadContext, run: PairRun<NetperfParams>, port: number) {
  const lines: string[] = [];
  const watcher = lineWatcher(`netserver on ${run.server.host} (port ${port})`, SERVER_READY_MS);
  const onLine = (line: string): void => {
    lines.push(line);
    watcher.onLine(line);
  };
  const command = startAt(ctx, run.server, netserverArgv(port), { onStdoutLine: onLine, onStderrLine: onLine, timeoutMs: netperfTimeoutMs(run.params) + SERVER_READY_MS + 10_000 });
  // netserver announces "Starting netserver with host … port …" once it listens; a netserver still running
  // after the wait without saying so (another version's wording) is taken as listening too.
  const ready = watcher.ready((line) => line.startsWith('Starting netserver'), command).catch((error: unknown) => {
    if (error instanceof CnlabError && error.code === 'timeout' && !command.ended) return;
    throw error;
  });
  return { command, lines, ready };
}

async function measure(ctx: WorkloadContext, run: PairRun<NetperfParams>, port: number, raw: { client: string | null }): Promise<Measurement> {
  const result = await runAt(ctx, run.client, netperfArgv(run.params, run.server.address, port), { timeoutMs: netperfTimeoutMs(run.params) });
  raw.client = result.stderr ? `${result.stdout}\n${result.stderr}` : result.stdout;
  if (result.code !== 0 && looksLikeNetperfMissing(result.code ?? 0, result.stderr)) throw netperfMissingError(run.client.host);
  return netperfMeasurement(parseNetperfOmni(raw.client, run.params.test), run.params);
}

async function saveOutputs(ctx: WorkloadContext, client: string | null, server: readonly string[]): Promise<void> {
  if (client !== null) await ctx.saveRaw('netperf-client.txt', client);
  await ctx.saveRaw('netserver.txt', server.join('\n'));
}

export const runNetperf: PairWorkload<NetperfParams> = async (ctx, run) => {
  await Promise.all([requireProgram(ctx, run.client.host, 'netperf'), requireProgram(ctx, run.server.host, 'netserver')]);
  const raw: { client: string | null } = { client: null };
  const failed = async (error: unknown, port: number, lines: readonly string[]): Promise<Error> => {
    await saveOutputs(ctx, raw.client, lines).catch(() => undefined);
    return error instanceof CnlabError && error.code === 'not-found' ? error : failure(error, run, port);
  };
  const { server, port } = await startReadyServer(ctx, run.server.host, (candidate) => startServer(ctx, run, candidate), (error, candidate, started) => failed(error, candidate, started.lines));
  let measurement: Measurement;
  try {
    measurement = await measure(ctx, run, port, raw);
  } catch (error) {
    await server.command.stop();
    if (ctx.signal.aborted) throw error;
    throw await failed(error, port, server.lines);
  }
  await server.command.stop();
  await saveOutputs(ctx, raw.client, server.lines);
  return measurement;
};
