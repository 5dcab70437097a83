// Runs a workload's command at an endpoint (inside its namespace, or on the host), logged in
// commands.log and stopped with its whole process group on cancel, timeout or stop(). Servers run as
// background commands that the caller stops when the client is done.
import { CnlabError, toCnlabError } from '../errors';
import type { ExecResult } from '../exec/executor';
import { shellCommand } from '../shell/quote';
import type { Endpoint, WorkloadContext } from './workload-context';

export interface RunOptions {
  timeoutMs?: number;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
}

/** The command line that runs argv at the endpoint: `ip netns exec NS …` for a container. */
export function endpointCommand(endpoint: Pick<Endpoint, 'netns'>, argv: readonly string[]): string {
  return endpoint.netns ? shellCommand(['ip', 'netns', 'exec', endpoint.netns, ...argv]) : shellCommand(argv);
}

/** Runs argv at the endpoint and waits for it; cancelled by the context's signal or `signal`. */
export async function runAt(ctx: WorkloadContext, endpoint: Pick<Endpoint, 'host' | 'netns'>, argv: readonly string[], options: RunOptions & { signal?: AbortSignal } = {}): Promise<ExecResult> {
  const command = endpointCommand(endpoint, argv);
  const signal = options.signal ? AbortSignal.any([ctx.signal, options.signal]) : ctx.signal;
  const startedAt = new Date();
  try {
    const result = await ctx.executor(endpoint.host).exec(command, {
      privileged: true,
      signal,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
      ...(options.onStderrLine ? { onStderrLine: options.onStderrLine } : {}),
    });
    ctx.logCommand({ host: endpoint.host, command, exitCode: result.code, durationMs: result.durationMs, startedAt: startedAt.toISOString() });
    return result;
  } catch (error) {
    const failure = toCnlabError(error);
    // A server stopped because its run is over is not a failure: the log says it was stopped.
    const stopped = failure.code === 'cancelled' && options.signal?.aborted === true && !ctx.signal.aborted;
    ctx.logCommand({ host: endpoint.host, command, exitCode: null, durationMs: Date.now() - startedAt.getTime(), startedAt: startedAt.toISOString(), ...(stopped ? { stopped: true } : { error: failure.message }) });
    throw failure;
  }
}

/** A command left running (a server) until stop(). */
export interface BackgroundCommand {
  /** Resolves with the result once it ended (by itself or by stop()); never rejects. */
  readonly done: Promise<ExecResult | CnlabError>;
  /** True once it ended by itself (a server that died early). */
  readonly ended: boolean;
  /** Kills its process group and waits for it to be gone. */
  stop(): Promise<void>;
}

export function startAt(ctx: WorkloadContext, endpoint: Pick<Endpoint, 'host' | 'netns'>, argv: readonly string[], options: RunOptions = {}): BackgroundCommand {
  const stopper = new AbortController();
  let ended = false;
  let stopping = false;
  const done = runAt(ctx, endpoint, argv, { ...options, signal: stopper.signal }).then(
    (result) => result,
    (error: unknown) => toCnlabError(error),
  );
  void done.then(() => {
    ended = !stopping;
  });
  return {
    done,
    get ended() {
      return ended;
    },
    async stop() {
      stopping = true;
      stopper.abort();
      await done;
    },
  };
}

/**
 * What to tell when a command could not enter its container's namespace: the lab is gone from the host
 * under the run (a reboot, or someone's cleanup), which `ip` alone says as a missing file.
 */
export function labGoneHint(reason: string): string {
  const netns = /Cannot open network namespace "([^"]+)": No such file or directory/.exec(reason)?.[1];
  return netns ? `: the lab's namespace ${netns} is gone from that host (it rebooted, or something removed the lab); \`cnlab runs resume\` builds the case again` : '';
}

/** Waits until `predicate` holds for a line the command prints, or fails when it ends first or the time runs out. */
export function lineWatcher(what: string, timeoutMs: number): { onLine: (line: string) => void; ready: (predicate: (line: string) => boolean, background: BackgroundCommand) => Promise<void> } {
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  return {
    onLine(line) {
      lines.push(line);
      wake?.();
    },
    async ready(predicate, background) {
      const deadline = Date.now() + timeoutMs;
      let seen = 0;
      for (;;) {
        while (seen < lines.length) if (predicate(lines[seen++] ?? '')) return;
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([
          background.done.then((outcome) => ({ ended: outcome })),
          new Promise<null>((resolve) => {
            wake = () => resolve(null);
            timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
          }),
        ]);
        // Every line wakes this loop: a timer left behind per line would keep the process alive until the deadline.
        clearTimeout(timer);
        wake = null;
        if (result && seen >= lines.length) {
          const reason = result.ended instanceof CnlabError ? result.ended.message : `exit code ${String(result.ended.code)}: ${(result.ended.stderr || result.ended.stdout).trim().split('\n').slice(-2).join(' ')}`;
          throw new CnlabError('workload-failed', `${what} ended before it was ready (${reason})${labGoneHint(reason)}`);
        }
        if (Date.now() >= deadline && seen >= lines.length) throw new CnlabError('timeout', `${what} was not ready within ${timeoutMs} ms`);
      }
    },
  };
}

/**
 * Runs a clean-up command (remove a temp dir) even after the run was cancelled: the context's signal
 * would kill it at once, so it gets only its own time limit.
 */
export function runCleanupAt(ctx: WorkloadContext, endpoint: Pick<Endpoint, 'host' | 'netns'>, argv: readonly string[], timeoutMs = 15_000): Promise<ExecResult> {
  return runAt({ ...ctx, signal: new AbortController().signal }, endpoint, argv, { timeoutMs });
}

/** A server's own words when its port is taken: errno 98, as sockperf, netserver and the kernel print it. */
const PORT_TAKEN = /Address already in use|errno=98|EADDRINUSE/i;

/** How many ports a server is tried on before its failure counts (each try takes the allocator's next). */
export const SERVER_PORT_TRIES = 3;

/**
 * Starts a one-off server and waits until it is ready, on the next allocated port when the one it got is
 * still held: in a namespace runs share (the host's, for the baseline and host mode) the previous run's
 * connection may sit in TIME_WAIT on it, and not every tool sets SO_REUSEADDR. Any other failure is the
 * server's own: `fail` turns it (with the port and the stopped server) into what the run throws.
 */
export async function startReadyServer<T extends { command: BackgroundCommand; ready: Promise<void> }>(
  ctx: WorkloadContext,
  host: string,
  start: (port: number) => T,
  fail: (error: unknown, port: number, server: T) => Promise<Error>,
): Promise<{ server: T; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = ctx.allocatePort(host);
    const server = start(port);
    try {
      await server.ready;
      return { server, port };
    } catch (error) {
      await server.command.stop();
      if (ctx.signal.aborted) throw error;
      if (attempt >= SERVER_PORT_TRIES || !PORT_TAKEN.test(toCnlabError(error).message)) throw await fail(error, port, server);
    }
  }
}
