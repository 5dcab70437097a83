// Runs one ping measurement of a pair: iputils ping from the client endpoint to the server's address
// (nothing to start on the server side), each reply a live sample, the summary and per-reply RTTs parsed.
import { CnlabError, toCnlabError, type ErrorCode } from '../../errors';
import { runAt } from '../run-command';
import type { Measurement, PairRun, PairWorkload } from '../workload-context';
import type { PingParams } from '../workload-params';
import { parsePing } from './parser';
import type { PingResult } from './types';

/** Seconds ping waits for the last replies when none came back (-W); with replies it waits two RTTs. */
const REPLY_WAIT_S = 2;
const LIVE_REPLY = /icmp_seq=(\d+)(?: ttl=\d+)? time=([0-9.]+) ms/;

export function pingArgv(params: PingParams, address: string): string[] {
  // -n: numeric output, no DNS lookups of the lab's addresses; no -w, which would keep sending past -c on loss.
  return ['ping', '-n', '-c', String(params.count), '-i', String(params.interval), '-s', String(params.size), '-W', String(REPLY_WAIT_S), address];
}

/** The whole series plus the wait for the last replies and a margin. */
export function pingTimeoutMs(params: Pick<PingParams, 'count' | 'interval'>): number {
  return Math.ceil((params.count * params.interval + REPLY_WAIT_S) * 1000) + 10_000;
}

export function pingMeasurement(result: PingResult, target: string): Measurement {
  const metrics: Record<string, number> = { lossPercent: result.lossPercent, transmitted: result.transmitted, received: result.received };
  if (result.rtt) {
    metrics.rttMinMs = result.rtt.minMs;
    metrics.rttAvgMs = result.rtt.avgMs;
    metrics.rttMaxMs = result.rtt.maxMs;
    if (result.rtt.mdevMs !== null) metrics.rttMdevMs = result.rtt.mdevMs;
  }
  const notes: string[] = [];
  if (!result.rtt) notes.push(`no reply from ${target}: 100% loss, no round-trip times`);
  if (result.duplicates > 0) notes.push(`${result.duplicates} duplicate replies (not counted as round trips)`);
  return { metrics, rawSamples: { rttMs: result.samplesMs }, ...(notes.length > 0 ? { notes } : {}) };
}

function failure(error: unknown, run: PairRun<PingParams>): CnlabError {
  const cause = toCnlabError(error);
  const code: ErrorCode = cause.code === 'timeout' || cause.code === 'connection-lost' ? cause.code : 'workload-failed';
  return new CnlabError(code, `ping from ${run.client.name} on ${run.client.host} to ${run.server.name} (${run.server.address}) failed: ${cause.message}`, { client: run.client.host, server: run.server.host, ...cause.details }, { cause });
}

export const runPing: PairWorkload<PingParams> = async (ctx, run) => {
  const { params } = run;
  let output: string;
  try {
    const result = await runAt(ctx, run.client, pingArgv(params, run.server.address), {
      timeoutMs: pingTimeoutMs(params),
      onStdoutLine: (line) => {
        const reply = LIVE_REPLY.exec(line);
        if (reply && !line.includes('DUP!')) ctx.sample({ t: (Number(reply[1]) - 1) * params.interval, metric: 'rttMs', value: Number(reply[2]), source: 'pair' });
      },
    });
    // Exit 1 means some replies were missing: still a result. Only the parser decides whether there is one.
    output = result.stderr ? `${result.stdout}\n${result.stderr}` : result.stdout;
    await ctx.saveRaw('ping.txt', output);
    return pingMeasurement(parsePing(output), run.server.address);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw failure(error, run);
  }
};
