// Runs one sockperf measurement of a pair: a server (`sockperf sr`) at the server endpoint, the client
// (ping-pong or throughput) at the other; ping-pong keeps every latency sample with --full-log in a private
// temp dir on the client host, read back (thinned on the host when huge) for percentiles pooled across runs.
import { CnlabError, toCnlabError, type ErrorCode } from '../../errors';
import type { ExecResult } from '../../exec/executor';
import { lineWatcher, runAt, runCleanupAt, startAt, startReadyServer } from '../run-command';
import type { Endpoint, Measurement, PairRun, PairWorkload, WorkloadContext } from '../workload-context';
import type { SockperfParams } from '../workload-params';
import { parseSockperfFullLog } from './full-log-parser';
import { parseSockperfLatency } from './latency-parser';
import { parseSockperfThroughput } from './throughput-parser';
import type { SockperfLatencyResult, SockperfThroughputResult } from './types';

const SERVER_READY_MS = 10_000;
const READ_LOG_TIMEOUT_MS = 60_000;
/** Raw samples kept per run: a 10 s loopback ping-pong logs ~2 million; every k-th keeps the distribution. */
export const MAX_RAW_SAMPLES = 100_000;
const TEMP_DIR = /^\/tmp\/cnlab-sockperf\.[A-Za-z0-9]+$/;
const FULL_LOG_NAME = 'full-log.csv';

export function sockperfServerArgv(params: Pick<SockperfParams, 'protocol'>, address: string, port: number): string[] {
  return ['sockperf', 'server', ...(params.protocol === 'tcp' ? ['--tcp'] : []), '-i', address, '-p', String(port)];
}

export function sockperfClientArgv(params: SockperfParams, address: string, port: number, fullLogFile: string | null): string[] {
  const argv = ['sockperf', params.test, ...(params.protocol === 'tcp' ? ['--tcp'] : []), '-i', address, '-p', String(port), '-t', String(params.duration), '-m', String(params.messageSize)];
  if (params.test === 'ping-pong' && params.fullRtt) argv.push('--full-rtt');
  if (fullLogFile !== null) argv.push('--full-log', fullLogFile);
  return argv;
}

export function sockperfClientTimeoutMs(params: Pick<SockperfParams, 'duration'>): number {
  return params.duration * 1000 + 15_000;
}

/**
 * Prints the log with only every k-th sample row (k chosen so at most `max` remain) and a last
 * `# cnlab kept N of M samples` line; the table's header and summary lines pass as they are.
 */
export function thinFullLogScript(max: number): string {
  const row = String.raw`/^[0-9]+[ \t]*,/`;
  return [
    `NR == FNR { if ($0 ~ ${row}) rows++; next }`,
    `FNR == 1 { step = rows > ${max} ? int((rows + ${max} - 1) / ${max}) : 1 }`,
    `$0 ~ ${row} { if (seen++ % step == 0) print; next }`,
    '{ print }',
    'END { if (step < 1) step = 1; print "# cnlab kept " int((rows + step - 1) / step) " of " rows " samples" }',
  ].join('\n');
}

const KEPT = /^# cnlab kept (\d+) of (\d+) samples$/m;

function put(metrics: Record<string, number>, name: string, value: number | null | undefined): void {
  if (typeof value === 'number' && Number.isFinite(value)) metrics[name] = value;
}

const PERCENTILE_METRICS: readonly [number, string][] = [
  [50, 'latencyP50Us'],
  [90, 'latencyP90Us'],
  [99, 'latencyP99Us'],
  [99.9, 'latencyP999Us'],
  [99.99, 'latencyP9999Us'],
];

export function latencyMetrics(result: SockperfLatencyResult): Record<string, number> {
  const metrics: Record<string, number> = {};
  put(metrics, 'latencyMeanUs', result.avgUs);
  put(metrics, 'latencyStdDevUs', result.stdDevUs);
  put(metrics, 'latencyMinUs', result.minUs);
  put(metrics, 'latencyMaxUs', result.maxUs);
  for (const [p, name] of PERCENTILE_METRICS) put(metrics, name, result.percentiles.find((entry) => Math.abs(entry.p - p) < 1e-9)?.valueUs);
  // Each received reply is one request/response: the unit of service demand per transaction.
  put(metrics, 'transactions', result.validDuration.receivedMessages);
  if (result.validDuration.durationSec > 0) put(metrics, 'transactionsPerSecond', result.validDuration.receivedMessages / result.validDuration.durationSec);
  return metrics;
}

export function throughputMetrics(result: SockperfThroughputResult, messageSize: number): Record<string, number> {
  return {
    messagesPerSecond: result.messagesPerSecond,
    throughputBitsPerSecond: result.payloadBitsPerSecond,
    bytes: result.messagesSent * (result.messageSizeBytes ?? messageSize),
  };
}

const describePair = (run: PairRun<SockperfParams>, port: number): string =>
  `sockperf ${run.params.test} from ${run.client.name} on ${run.client.host} to ${run.server.name} on ${run.server.host} (${run.server.address} port ${port})`;

function failure(error: unknown, run: PairRun<SockperfParams>, port: number): CnlabError {
  const cause = toCnlabError(error);
  const code: ErrorCode = cause.code === 'timeout' || cause.code === 'connection-lost' ? cause.code : 'workload-failed';
  return new CnlabError(code, `${describePair(run, port)} failed: ${cause.message}`, { client: run.client.host, server: run.server.host, port, ...cause.details }, { cause });
}

/** A private directory on the client host for the full log; its path is checked before anything removes it. */
async function makeTempDir(ctx: WorkloadContext, host: string): Promise<string> {
  const result = await runAt(ctx, { host, netns: null }, ['mktemp', '-d', '/tmp/cnlab-sockperf.XXXXXXXXXX']);
  const dir = result.stdout.trim();
  if (result.code !== 0 || !TEMP_DIR.test(dir)) throw new CnlabError('command-failed', `host ${host}: cannot make a temp dir for sockperf's full log: ${(result.stderr || result.stdout).trim()}`, { host });
  return dir;
}

async function readFullLog(ctx: WorkloadContext, host: string, file: string, fullRtt: boolean): Promise<{ samples: number[]; note: string | null }> {
  const result = await runAt(ctx, { host, netns: null }, ['awk', thinFullLogScript(MAX_RAW_SAMPLES), file, file], { timeoutMs: READ_LOG_TIMEOUT_MS });
  if (result.code !== 0) throw new CnlabError('command-failed', `host ${host}: cannot read sockperf's full log ${file}: ${result.stderr.trim()}`, { host });
  const samples = parseSockperfFullLog(result.stdout, { fullRtt }).samplesUs;
  const kept = KEPT.exec(result.stdout);
  const note = kept && kept[1] !== kept[2] ? `sockperf logged ${kept[2]} latency samples; every ${Math.ceil(Number(kept[2]) / MAX_RAW_SAMPLES)}th (${kept[1]}) is kept for pooled percentiles` : null;
  return { samples, note };
}

function startServer(ctx: WorkloadContext, run: PairRun<SockperfParams>, port: number) {
  const lines: string[] = [];
  const watcher = lineWatcher(`the sockperf server on ${run.server.host} (port ${port})`, SERVER_READY_MS);
  const onLine = (line: string): void => {
    lines.push(line);
    watcher.onLine(line);
  };
  const command = startAt(ctx, run.server, sockperfServerArgv(run.params, run.server.address, port), {
    onStdoutLine: onLine,
    onStderrLine: onLine,
    timeoutMs: sockperfClientTimeoutMs(run.params) + SERVER_READY_MS + READ_LOG_TIMEOUT_MS,
  });
  // Printed by the server thread once its sockets are bound ("using recvfrom() to block on socket(s)").
  return { command, lines, ready: watcher.ready((line) => /to block on socket/.test(line), command) };
}

function clientOutput(result: ExecResult): string {
  return result.stderr ? `${result.stdout}\n${result.stderr}` : result.stdout;
}

async function measure(ctx: WorkloadContext, run: PairRun<SockperfParams>, port: number, logDir: string | null, raw: { client: string | null }): Promise<Measurement> {
  const logFile = logDir === null ? null : `${logDir}/${FULL_LOG_NAME}`;
  const result = await runAt(ctx, run.client, sockperfClientArgv(run.params, run.server.address, port, logFile), { timeoutMs: sockperfClientTimeoutMs(run.params) });
  raw.client = clientOutput(result);
  if (run.params.test === 'throughput') return { metrics: throughputMetrics(parseSockperfThroughput(raw.client), run.params.messageSize), notes: ['sockperf throughput counts what the client sent'] };
  const latency = parseSockperfLatency(raw.client, { fullRtt: run.params.fullRtt });
  const notes = [run.params.fullRtt ? 'sockperf latency is the full round trip (--full-rtt)' : 'sockperf latency is half the round trip'];
  if (logFile === null) return { metrics: latencyMetrics(latency), notes };
  const log = await readFullLog(ctx, run.client.host, logFile, run.params.fullRtt);
  return { metrics: latencyMetrics(latency), rawSamples: { latencyUs: log.samples }, notes: log.note ? [...notes, log.note] : notes };
}

async function saveOutputs(ctx: WorkloadContext, client: string | null, server: readonly string[]): Promise<void> {
  if (client !== null) await ctx.saveRaw('sockperf-client.txt', client);
  await ctx.saveRaw('sockperf-server.txt', server.join('\n'));
}

async function removeTempDir(ctx: WorkloadContext, endpoint: Pick<Endpoint, 'host'>, dir: string | null): Promise<void> {
  if (dir === null || !TEMP_DIR.test(dir)) return;
  await runCleanupAt(ctx, { host: endpoint.host, netns: null }, ['rm', '-rf', '--', dir]).catch(() => undefined);
}

export const runSockperf: PairWorkload<SockperfParams> = async (ctx, run) => {
  const raw: { client: string | null } = { client: null };
  // The outputs of a failed run help to see why; failing to keep them must not hide that reason.
  const failed = async (error: unknown, port: number, lines: readonly string[]): Promise<Error> => {
    await saveOutputs(ctx, raw.client, lines).catch(() => undefined);
    return failure(error, run, port);
  };
  const { server, port } = await startReadyServer(ctx, run.server.host, (candidate) => startServer(ctx, run, candidate), (error, candidate, started) => failed(error, candidate, started.lines));
  let logDir: string | null = null;
  let measurement: Measurement;
  try {
    if (run.params.test === 'ping-pong' && run.params.fullLog) logDir = await makeTempDir(ctx, run.client.host);
    measurement = await measure(ctx, run, port, logDir, raw);
  } catch (error) {
    await server.command.stop();
    await removeTempDir(ctx, run.client, logDir);
    if (ctx.signal.aborted) throw error;
    throw await failed(error, port, server.lines);
  }
  await server.command.stop();
  await removeTempDir(ctx, run.client, logDir);
  await saveOutputs(ctx, raw.client, server.lines);
  return measurement;
};
