// Runs F iperf3 flows at once with ONE command per host for all the one-off servers on it and ONE per host
// for all the clients on it, so the number of flows is bounded by the hosts, not by the SSH channels
// cnlab opens per host (a command per server and per client would need 2·F channels). Every command goes
// through run-command (logged, process group killed on cancel); the clients' private temp dir is removed
// on every path. Metrics: aggregate of the flows plus their fairness (batch-metrics.ts).
import { CnlabError, toCnlabError, type ErrorCode } from '../../errors';
import { lineWatcher, runAt, runCleanupAt, startAt, type BackgroundCommand } from '../run-command';
import type { Endpoint, Measurement, WorkloadContext } from '../workload-context';
import type { Iperf3Params } from '../workload-params';
import { flowsMeasurement, LiveFlowSum } from './batch-metrics';
import { clientBatchArgv, parseClientBatchOutput, parseServerBatchLine, serverBatchArgv, serverExitCode, type FlowOutput, type ScriptFlow } from './batch-script';
import { iperf3ClientOptions, iperf3ClientTimeoutMs, iperf3Measurement } from './executor';
import { parseIperf3Json } from './json-parser';
import { Iperf3TextParser } from './text-parser';

const SERVER_READY_MS = 10_000;
/** Starting and reporting each flow takes a little host time; the bounds grow with the flows on a host. */
const PER_FLOW_MS = 200;
/** After the clients, how long the one-off servers may take to print their summary and exit by themselves. */
const SERVER_END_GRACE_MS = 3_000;
const TEMP_DIR = /^\/tmp\/cnlab-iperf3\.[A-Za-z0-9]+$/;

/** One flow: a client sending to (or with -R receiving from) a server. */
export interface FlowPair {
  client: Endpoint;
  server: Endpoint;
}

interface PlacedFlow extends FlowPair {
  id: string;
  port: number;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const describeFlow = (flow: PlacedFlow): string =>
  `iperf3 flow ${flow.id} from ${flow.client.name} on ${flow.client.host} to ${flow.server.name} on ${flow.server.host} (${flow.server.address} port ${flow.port})`;

function lastLines(text: string, count = 2): string {
  return text.trim().split('\n').slice(-count).join(' ').trim();
}

/** Every one-off server of one host, its lines per flow, and whether each listens or has ended. */
class HostServers {
  readonly lines: string[] = [];
  readonly listening = new Set<string>();
  readonly exited = new Map<string, number>();
  readonly command: BackgroundCommand;
  readonly ready: Promise<void>;
  private readonly textByFlow = new Map<string, string[]>();

  constructor(
    ctx: WorkloadContext,
    readonly host: string,
    private readonly flows: readonly PlacedFlow[],
    params: Iperf3Params,
    live: LiveFlowSum,
  ) {
    const watcher = lineWatcher(`the ${flows.length} iperf3 servers on ${host}`, SERVER_READY_MS + PER_FLOW_MS * flows.length);
    const parsers = new Map(flows.map((flow) => [flow.id, new Iperf3TextParser({ reverse: params.reverse })]));
    const onLine = (line: string): void => {
      this.lines.push(line);
      const parsed = parseServerBatchLine(line);
      const parser = parsed && parsers.get(parsed.id);
      if (parsed && parser) this.track(parsed.id, parsed.text, parser, live);
      watcher.onLine(line);
    };
    this.command = startAt(ctx, { host, netns: null }, serverBatchArgv(flows.map((flow): ScriptFlow => ({ id: flow.id, netns: flow.server.netns, port: flow.port }))), {
      onStdoutLine: onLine,
      onStderrLine: onLine,
      // Never outlives hung clients by much, even if stop() were never reached.
      timeoutMs: clientBoundMs(params, flows.length) + SERVER_READY_MS + PER_FLOW_MS * flows.length + SERVER_END_GRACE_MS,
    });
    this.ready = watcher.ready(() => this.allListening(), this.command);
    // Awaited by the run; a run failing before it gets there must not leave it an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  private track(id: string, text: string, parser: Iperf3TextParser, live: LiveFlowSum): void {
    const code = serverExitCode(text);
    if (code !== null) {
      this.exited.set(id, code);
      return;
    }
    this.textByFlow.set(id, [...(this.textByFlow.get(id) ?? []), text]);
    if (text.startsWith('Server listening on')) this.listening.add(id);
    for (const event of parser.push(text)) {
      if (event.type === 'interval' && !event.interval.omitted && event.interval.bitsPerSecond !== null) live.add(id, event.interval.end, event.interval.bitsPerSecond);
    }
  }

  /** Throws as soon as a server ended before listening (a port in use, iperf3 missing in the namespace). */
  private allListening(): boolean {
    for (const flow of this.flows) {
      const code = this.exited.get(flow.id);
      if (code !== undefined && !this.listening.has(flow.id)) {
        throw new CnlabError('workload-failed', `${describeFlow(flow)}: its server ended with code ${code} before it listened: ${this.said(flow.id) || 'no output'}`);
      }
    }
    return this.listening.size === this.flows.length;
  }

  /** What a flow's server printed last, for messages. */
  said(id: string): string {
    return lastLines((this.textByFlow.get(id) ?? []).join('\n'));
  }

  /** Waits a little for the servers to end by themselves (their summaries), then stops what is left. */
  async finish(): Promise<void> {
    await Promise.race([this.command.done, new Promise((resolve) => setTimeout(resolve, SERVER_END_GRACE_MS).unref())]);
    await this.command.stop();
  }
}

function clientBoundMs(params: Iperf3Params, flows: number): number {
  return iperf3ClientTimeoutMs(params) + PER_FLOW_MS * flows;
}

/** A private directory on a client host for the flows' -J files; its path is checked before anything removes it. */
async function makeTempDir(ctx: WorkloadContext, host: string): Promise<string> {
  const result = await runAt(ctx, { host, netns: null }, ['mktemp', '-d', '/tmp/cnlab-iperf3.XXXXXXXXXX'], { timeoutMs: 15_000 });
  const dir = result.stdout.trim();
  if (result.code === 0 && TEMP_DIR.test(dir)) return dir;
  throw new CnlabError('command-failed', `host ${host}: cannot make a temp dir for the iperf3 clients' results (exit ${String(result.code)}${result.signal ? `, ${result.signal}` : ''}): ${(result.stderr || result.stdout).trim()}`, { host });
}

/** The flow's measurement from its client's output, or the reason it failed (its server's last words too). */
function flowResult(flow: PlacedFlow, output: FlowOutput | undefined, params: Iperf3Params, serverSaid: string): Measurement {
  if (!output) throw new CnlabError('workload-failed', `${describeFlow(flow)} failed: its client printed no result`);
  try {
    return iperf3Measurement(parseIperf3Json(output.json), params);
  } catch (error) {
    const cause = toCnlabError(error);
    const stderr = lastLines(output.stderr);
    const reason = output.exitCode !== 0 && stderr ? `iperf3 client exited with code ${String(output.exitCode)}: ${stderr}` : cause.message;
    throw new CnlabError('workload-failed', `${describeFlow(flow)} failed: ${reason}${serverSaid ? ` (its server said: ${serverSaid})` : ''}`, { client: flow.client.host, server: flow.server.host, port: flow.port }, { cause });
  }
}

/** Runs every client of one host in one command and returns its flows' outputs. */
async function runHostClients(ctx: WorkloadContext, host: string, dir: string, flows: readonly PlacedFlow[], params: Iperf3Params, raw: Map<string, string>): Promise<Map<string, FlowOutput>> {
  const argv = clientBatchArgv(dir, flows.map((flow): ScriptFlow => ({ id: flow.id, netns: flow.client.netns, address: flow.server.address, port: flow.port })), iperf3ClientOptions(params, false));
  let result;
  try {
    result = await runAt(ctx, { host, netns: null }, argv, { timeoutMs: clientBoundMs(params, flows.length) });
  } catch (error) {
    const cause = toCnlabError(error);
    if (ctx.signal.aborted) throw cause;
    const code: ErrorCode = cause.code === 'timeout' || cause.code === 'connection-lost' ? cause.code : 'workload-failed';
    throw new CnlabError(code, `the ${flows.length} iperf3 clients on ${host} failed: ${cause.message}`, { host, ...cause.details }, { cause });
  }
  raw.set(`iperf3-clients-${host}.txt`, result.stdout + (result.stderr ? `\n${result.stderr}` : ''));
  const parsed = parseClientBatchOutput(result.stdout);
  if (!parsed.complete) throw new CnlabError('workload-failed', `the iperf3 clients on ${host} ended before reporting every flow (exit code ${String(result.code)}): ${lastLines(result.stderr || result.stdout)}`, { host });
  return parsed.flows;
}

/** Gives each flow an id and a port on its server's host. */
function placeFlows(ctx: WorkloadContext, flows: readonly FlowPair[]): PlacedFlow[] {
  return flows.map((flow, index) => ({ ...flow, id: `f${index + 1}`, port: ctx.allocatePort(flow.server.host) }));
}

async function saveRaw(ctx: WorkloadContext, raw: Map<string, string>, servers: readonly HostServers[]): Promise<void> {
  for (const server of servers) raw.set(`iperf3-servers-${server.host}.txt`, server.lines.join('\n'));
  for (const [name, text] of raw) await ctx.saveRaw(name, text);
}

/** The last words of a flow's server when it failed (exit code other than 0), for the flow's message. */
function serverReason(servers: readonly HostServers[], flow: PlacedFlow): string {
  const server = servers.find((candidate) => candidate.host === flow.server.host);
  const code = server?.exited.get(flow.id);
  return server && code !== undefined && code !== 0 ? server.said(flow.id) : '';
}

async function measureFlows(ctx: WorkloadContext, params: Iperf3Params, flows: readonly PlacedFlow[], dirs: Map<string, string>, servers: readonly HostServers[], raw: Map<string, string>): Promise<Measurement> {
  await Promise.all(servers.map((server) => server.ready));
  const outputs = await Promise.all([...groupBy(flows, (flow) => flow.client.host)].map(([host, mine]) => runHostClients(ctx, host, dirs.get(host) ?? '', mine, params, raw)));
  const byId = new Map(outputs.flatMap((map) => [...map]));
  const measurements: Measurement[] = [];
  const failures: CnlabError[] = [];
  for (const flow of flows) {
    try {
      measurements.push(flowResult(flow, byId.get(flow.id), params, serverReason(servers, flow)));
    } catch (error) {
      failures.push(toCnlabError(error));
    }
  }
  const first = failures[0];
  if (first) throw failures.length === 1 ? first : new CnlabError(first.code, `${failures.length} of ${flows.length} iperf3 flows failed; the first: ${first.message}`, first.details, { cause: first });
  return flowsMeasurement(measurements);
}

/**
 * Runs the flows concurrently (all servers listening before any client starts) and returns their
 * aggregate. Stops every process it started and removes its temp dirs before returning or throwing.
 */
export async function runIperf3Flows(ctx: WorkloadContext, run: { params: Iperf3Params; flows: readonly FlowPair[] }): Promise<Measurement> {
  if (run.flows.length === 0) throw new CnlabError('internal', 'batched iperf3 needs at least one flow');
  const flows = placeFlows(ctx, run.flows);
  const live = new LiveFlowSum(flows.length, (t, value) => ctx.sample({ t, metric: 'throughputBitsPerSecond', value, source: 'flows' }));
  const dirs = new Map<string, string>();
  const servers: HostServers[] = [];
  const raw = new Map<string, string>();
  try {
    // Each dir is kept as soon as it exists, so one host failing never leaves another host's dir behind.
    // allSettled, not all: all() would reject at the first failure while another host's mktemp is still on its
    // way, and that dir would be made after the cleanup below ran.
    const made = await Promise.allSettled([...groupBy(flows, (flow) => flow.client.host).keys()].map(async (host) => dirs.set(host, await makeTempDir(ctx, host))));
    const failed = made.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [host, mine] of groupBy(flows, (flow) => flow.server.host)) servers.push(new HostServers(ctx, host, mine, run.params, live));
    const measurement = await measureFlows(ctx, run.params, flows, dirs, servers, raw);
    await Promise.all(servers.map((server) => server.finish()));
    await saveRaw(ctx, raw, servers);
    return measurement;
  } catch (error) {
    await Promise.all(servers.map((server) => server.command.stop()));
    // The outputs of a failed run help to see why; failing to keep them must not hide that reason.
    if (!ctx.signal.aborted) await saveRaw(ctx, raw, servers).catch(() => undefined);
    throw error;
  } finally {
    await Promise.all([...dirs].map(([host, dir]) => runCleanupAt(ctx, { host, netns: null }, ['rm', '-rf', '--', dir]).catch(() => undefined)));
  }
}
