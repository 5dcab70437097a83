// Runs one iperf3 measurement of a pair: a one-off server (-s -1 --forceflush) at the server endpoint, the
// client with -J at the other, live per-second intervals from the client's --json-stream (iperf3 ≥ 3.17) or
// else from the server's flushed text, and the run's metrics from the client's JSON result.
import { CnlabError, toCnlabError, type ErrorCode } from '../../errors';
import type { ExecResult } from '../../exec/executor';
import { lineWatcher, runAt, startAt, type BackgroundCommand } from '../run-command';
import type { Measurement, PairRun, PairWorkload, WorkloadContext } from '../workload-context';
import { sizeBytes, type Iperf3Params } from '../workload-params';
import { parseIperf3Json } from './json-parser';
import { Iperf3StreamParser } from './json-stream-parser';
import { Iperf3TextParser } from './text-parser';
import type { Iperf3Direction, Iperf3Event, Iperf3Interval, Iperf3Result } from './types';

const SERVER_READY_MS = 10_000;
/** After the server ended, how long the client may take to notice before it is stopped. */
const SERVER_GONE_GRACE_MS = 5_000;
/** iperf3 gives up connecting after this (3.12 would otherwise retry SYNs for minutes). */
const CONNECT_TIMEOUT_MS = 5_000;
const UDP_DEFAULT_BITRATE = '1G';

/** `--json-stream` exists from iperf3 3.17 on; "unknown" or a missing version means an older one. */
export function supportsJsonStream(version: string | null): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 3 || (major === 3 && minor >= 17);
}

export function iperf3ServerArgv(port: number): string[] {
  return ['iperf3', '-s', '-1', '-p', String(port), '--forceflush'];
}

export function iperf3ClientArgv(params: Iperf3Params, address: string, port: number, jsonStream: boolean): string[] {
  return ['iperf3', '-c', address, '-p', String(port), ...iperf3ClientOptions(params, jsonStream)];
}

/** The client's options after `-c ADDRESS -p PORT`: shared by the per-pair and the batched executor. */
export function iperf3ClientOptions(params: Iperf3Params, jsonStream: boolean): string[] {
  const argv = ['-t', String(params.duration), '--connect-timeout', String(CONNECT_TIMEOUT_MS)];
  if (params.omit > 0) argv.push('-O', String(params.omit));
  if (params.protocol === 'udp') argv.push('-u', '-b', String(params.bitrate ?? UDP_DEFAULT_BITRATE));
  else if (params.bitrate !== undefined) argv.push('-b', String(params.bitrate));
  if (params.blockSize !== undefined) argv.push('-l', String(sizeBytes(params.blockSize)));
  if (params.parallel > 1) argv.push('-P', String(params.parallel));
  if (params.reverse) argv.push('-R');
  argv.push('-J');
  if (jsonStream) argv.push('--json-stream');
  return argv;
}

/** The client's bound: the whole transfer plus connecting, the result exchange and a margin. */
export function iperf3ClientTimeoutMs(params: Pick<Iperf3Params, 'duration' | 'omit'>): number {
  return (params.duration + params.omit) * 1000 + 15_000;
}

function put(metrics: Record<string, number>, name: string, value: number | null | undefined): void {
  if (typeof value === 'number' && Number.isFinite(value)) metrics[name] = value;
}

/** The run's metrics from the client's result: the receiver's rate first, as iperf3's own summary. */
export function iperf3Measurement(result: Iperf3Result, params: Iperf3Params): Measurement {
  const direction: Iperf3Direction = params.reverse ? 'server-to-client' : 'client-to-server';
  const summary = result.directions.find((candidate) => candidate.direction === direction) ?? result.directions[0];
  if (!summary) throw new CnlabError('workload-failed', 'iperf3 printed a result without an end summary');
  const metrics: Record<string, number> = {};
  put(metrics, 'throughputBitsPerSecond', summary.received?.bitsPerSecond ?? summary.bitsPerSecond);
  put(metrics, 'senderBitsPerSecond', summary.sent?.bitsPerSecond);
  put(metrics, 'bytes', summary.received?.bytes ?? summary.sent?.bytes);
  if (params.protocol === 'tcp') put(metrics, 'retransmits', summary.retransmits);
  else {
    put(metrics, 'jitterMs', summary.jitterMs);
    put(metrics, 'lostPercent', summary.lostPercent);
  }
  // iperf3's own CPU figures (client = its "host", server = "remote"); the runner's /proc/stat CPU is separate.
  put(metrics, 'iperf3CpuClientPercent', result.cpu?.hostTotal);
  put(metrics, 'iperf3CpuServerPercent', result.cpu?.remoteTotal);
  const intervalBitsPerSecond = result.intervals.map((interval) => interval.bitsPerSecond).filter((value): value is number => typeof value === 'number');
  const notes = result.omittedIntervals > 0 ? [`iperf3 omitted ${params.omit} s of warm-up (${result.omittedIntervals} interval${result.omittedIntervals === 1 ? "" : "s"})`] : [];
  return { metrics, rawSamples: { intervalBitsPerSecond }, ...(notes.length > 0 ? { notes } : {}) };
}

/** Emits the per-second live values of a measured interval (warm-up intervals are not samples). */
function emitInterval(ctx: WorkloadContext, interval: Iperf3Interval): void {
  if (interval.omitted) return;
  if (interval.bitsPerSecond !== null) ctx.sample({ t: interval.end, metric: 'throughputBitsPerSecond', value: interval.bitsPerSecond, source: 'pair' });
  if (interval.retransmits !== null) ctx.sample({ t: interval.end, metric: 'retransmits', value: interval.retransmits, source: 'pair' });
}

function onIntervals(ctx: WorkloadContext, events: readonly Iperf3Event[]): void {
  for (const event of events) if (event.type === 'interval') emitInterval(ctx, event.interval);
}

const describePair = (run: PairRun<Iperf3Params>, port: number): string =>
  `iperf3 from ${run.client.name} on ${run.client.host} to ${run.server.name} on ${run.server.host} (${run.server.address} port ${port})`;

function lastLines(text: string, count = 2): string {
  return text.trim().split('\n').slice(-count).join(' ').trim();
}

/** Why the server ended on its own, for messages. */
function serverEnd(outcome: ExecResult | CnlabError, host: string): string {
  if (outcome instanceof CnlabError) return `the iperf3 server on ${host} failed: ${outcome.message}`;
  const how = outcome.code === null ? `was killed (${outcome.signal ?? 'signal'})` : `exited with code ${outcome.code}`;
  const said = lastLines(outcome.stdout + outcome.stderr);
  return `the iperf3 server on ${host} ${how}${said ? `: ${said}` : ''}`;
}

interface ServerSide {
  command: BackgroundCommand;
  lines: string[];
}

function startServer(ctx: WorkloadContext, run: PairRun<Iperf3Params>, port: number, liveFromText: boolean): ServerSide & { ready: Promise<void> } {
  const lines: string[] = [];
  const watcher = lineWatcher(`the iperf3 server on ${run.server.host} (port ${port})`, SERVER_READY_MS);
  const text = new Iperf3TextParser({ reverse: run.params.reverse });
  const onLine = (line: string): void => {
    lines.push(line);
    watcher.onLine(line);
    if (liveFromText) onIntervals(ctx, text.push(line));
  };
  const command = startAt(ctx, run.server, iperf3ServerArgv(port), {
    onStdoutLine: onLine,
    onStderrLine: onLine,
    // Never outlives a hung client by much, even if stop() were never reached.
    timeoutMs: iperf3ClientTimeoutMs(run.params) + SERVER_READY_MS + SERVER_GONE_GRACE_MS,
  });
  return { command, lines, ready: watcher.ready((line) => line.startsWith('Server listening on'), command) };
}

async function runClient(ctx: WorkloadContext, run: PairRun<Iperf3Params>, port: number, server: ServerSide, jsonStream: boolean, raw: { client: string | null }): Promise<Iperf3Result> {
  const stop = new AbortController();
  let serverGone: string | null = null;
  let clientDone = false;
  // A server that dies mid-run usually makes the client fail at once; if it does not, stop it.
  void server.command.done.then((outcome) => {
    if (clientDone || !server.command.ended) return;
    serverGone = serverEnd(outcome, run.server.host);
    setTimeout(() => stop.abort(), SERVER_GONE_GRACE_MS).unref();
  });
  const stream = new Iperf3StreamParser();
  try {
    const output = await runAt(ctx, run.client, iperf3ClientArgv(run.params, run.server.address, port, jsonStream), {
      signal: stop.signal,
      timeoutMs: iperf3ClientTimeoutMs(run.params),
      ...(jsonStream ? { onStdoutLine: (line: string) => onIntervals(ctx, stream.push(line)) } : {}),
    });
    clientDone = true;
    raw.client = output.stdout;
    return parseClientOutput(output, jsonStream, stream);
  } catch (error) {
    clientDone = true;
    if (ctx.signal.aborted) throw error;
    const serverReason = serverGone ?? (server.command.ended ? serverEnd(await server.command.done, run.server.host) : null);
    // Stopped by us, not by the user: say why instead of "cancelled".
    if (stop.signal.aborted) throw failure(new CnlabError('workload-failed', `the client did not end within ${SERVER_GONE_GRACE_MS / 1000} s after its server ended`), run, port, serverReason);
    throw failure(error, run, port, serverReason);
  }
}

function parseClientOutput(output: ExecResult, jsonStream: boolean, stream: Iperf3StreamParser): Iperf3Result {
  try {
    return jsonStream ? stream.finish() : parseIperf3Json(output.stdout);
  } catch (error) {
    const stderr = lastLines(output.stderr);
    // The JSON said nothing useful: what iperf3 printed on stderr and its exit code are the reason then.
    if (output.code !== 0 && stderr) throw new CnlabError('workload-failed', `iperf3 client exited with code ${String(output.code)}: ${stderr}`, {}, { cause: error });
    throw error;
  }
}

function failure(error: unknown, run: PairRun<Iperf3Params>, port: number, serverReason: string | null): CnlabError {
  const cause = toCnlabError(error);
  const code: ErrorCode = cause.code === 'timeout' || cause.code === 'connection-lost' ? cause.code : 'workload-failed';
  const reason = serverReason && !cause.message.includes(serverReason) ? `${cause.message} (${serverReason})` : cause.message;
  return new CnlabError(code, `${describePair(run, port)} failed: ${reason}`, { client: run.client.host, server: run.server.host, port, ...cause.details }, { cause });
}

async function saveOutputs(ctx: WorkloadContext, client: string | null, server: readonly string[]): Promise<void> {
  if (client !== null) await ctx.saveRaw('iperf3-client.json', client);
  await ctx.saveRaw('iperf3-server.txt', server.join('\n'));
}

export const runIperf3: PairWorkload<Iperf3Params> = async (ctx, run) => {
  const port = ctx.allocatePort(run.server.host);
  const jsonStream = supportsJsonStream(ctx.toolVersion(run.client.host, 'iperf3'));
  const server = startServer(ctx, run, port, !jsonStream);
  const raw: { client: string | null } = { client: null };
  let measurement: Measurement;
  try {
    await server.ready.catch((error: unknown) => {
      throw ctx.signal.aborted ? error : failure(error, run, port, null);
    });
    measurement = iperf3Measurement(await runClient(ctx, run, port, server, jsonStream, raw), run.params);
  } catch (error) {
    await server.command.stop();
    // The outputs of a failed run help to see why; failing to keep them must not hide that reason.
    if (!ctx.signal.aborted) await saveOutputs(ctx, raw.client, server.lines).catch(() => undefined);
    throw error;
  }
  await server.command.stop();
  await saveOutputs(ctx, raw.client, server.lines);
  return measurement;
};
