// run-command on this machine's real shell (LocalExecutor): commands logged with their exit codes, argv
// quoted, servers stopped with their whole process group, cancel and readiness waits bounded.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { rejectedCnlabError } from '../../../tests/support/cnlab-error';
import { LocalExecutor } from '../exec/local-executor';
import type { HostExecutor } from '../exec/executor';
import { endpointCommand, lineWatcher, runAt, runCleanupAt, SERVER_PORT_TRIES, startAt, startReadyServer } from './run-command';
import type { CommandRecord, WorkloadContext } from './workload-context';

const local = new LocalExecutor('here');
// runAt always asks for privileges; these commands need none, so the tests also run as a plain user.
const unprivileged: HostExecutor = {
  hostName: 'here',
  exec: (command, options) => local.exec(command, { ...options, privileged: false }),
  runScript: (script, options) => local.runScript(script, { ...options, privileged: false }),
  privilege: () => local.privilege(),
  close: () => Promise.resolve(),
};

function context(signal = new AbortController().signal): { ctx: WorkloadContext; commands: CommandRecord[] } {
  const commands: CommandRecord[] = [];
  const ctx: WorkloadContext = {
    executor: () => unprivileged,
    signal,
    logCommand: (record) => commands.push(record),
    sample: () => undefined,
    saveRaw: () => Promise.resolve(),
    allocatePort: () => 5201,
    toolVersion: () => null,
  };
  return { ctx, commands };
}

const HOST = { host: 'here', netns: null };

/** Running and not a zombie: a killed orphan stays in the table until init reaps it. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('endpointCommand', () => {
  it('runs in the namespace with every word quoted', () => {
    expect(endpointCommand({ netns: 'cnl-lab-c1' }, ['echo', "it's", '$HOME'])).toBe(`ip netns exec cnl-lab-c1 echo 'it'\\''s' '$HOME'`);
    expect(endpointCommand({ netns: null }, ['echo', 'a b'])).toBe(`echo 'a b'`);
  });
});

describe('runAt', () => {
  it('returns the result and logs the command with its exit code', async () => {
    const { ctx, commands } = context();
    const result = await runAt(ctx, HOST, ['sh', '-c', 'echo out; exit 3']);
    expect(result).toMatchObject({ code: 3, stdout: 'out\n' });
    expect(commands).toEqual([expect.objectContaining({ host: 'here', command: `sh -c 'echo out; exit 3'`, exitCode: 3 })]);
    expect(commands[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes arguments through untouched (no shell expansion)', async () => {
    const { ctx } = context();
    expect((await runAt(ctx, HOST, ['printf', '%s|', '$(id)', 'a b', "'"])).stdout).toBe(`$(id)|a b|'|`);
  });

  it('rejects with code cancelled when the context is cancelled, and logs it without an exit code', async () => {
    const controller = new AbortController();
    const { ctx, commands } = context(controller.signal);
    const started = Date.now();
    const pending = runAt(ctx, HOST, ['sleep', '30']);
    setTimeout(() => controller.abort(), 200);
    const error = await rejectedCnlabError(pending);
    expect(error.code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(commands[0]).toMatchObject({ exitCode: null, error: expect.stringContaining('cancelled') as string });
  });

  it('rejects with code timeout after timeoutMs', async () => {
    const { ctx } = context();
    expect((await rejectedCnlabError(runAt(ctx, HOST, ['sleep', '30'], { timeoutMs: 200 }))).code).toBe('timeout');
  });
});

describe('startAt', () => {
  it('stop() kills the whole process group, children included', async () => {
    const { ctx } = context();
    const pids: number[] = [];
    const watcher = lineWatcher('sleeper', 5000);
    const server = startAt(ctx, HOST, ['sh', '-c', 'sleep 301 & echo $!; sleep 302'], {
      onStdoutLine: (line) => {
        pids.push(Number(line));
        watcher.onLine(line);
      },
    });
    await watcher.ready((line) => /^\d+$/.test(line), server);
    expect(alive(pids[0] ?? 0)).toBe(true);
    await server.stop();
    expect(server.ended).toBe(false);
    expect(alive(pids[0] ?? 0)).toBe(false);
  });

  it('knows when a command ended by itself', async () => {
    const { ctx } = context();
    const server = startAt(ctx, HOST, ['true']);
    const outcome = await server.done;
    expect(outcome).toMatchObject({ code: 0 });
    expect(server.ended).toBe(true);
    await server.stop();
  });
});

describe('lineWatcher', () => {
  it('resolves on the first line that matches, also from lines printed before the wait began', async () => {
    const { ctx } = context();
    const watcher = lineWatcher('server', 5000);
    const server = startAt(ctx, HOST, ['sh', '-c', 'echo starting; echo listening; sleep 30'], { onStdoutLine: watcher.onLine });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await watcher.ready((line) => line === 'listening', server);
    await server.stop();
  });

  it('fails with the reason when the command ends before it is ready', async () => {
    const { ctx } = context();
    const watcher = lineWatcher('server on here', 5000);
    const server = startAt(ctx, HOST, ['sh', '-c', 'echo "address in use" >&2; exit 1'], { onStdoutLine: watcher.onLine });
    const error = await rejectedCnlabError(watcher.ready(() => false, server));
    expect(error.code).toBe('workload-failed');
    expect(error.message).toBe('server on here ended before it was ready (exit code 1: address in use)');
  });

  it('says the lab is gone when the command cannot enter its namespace (a host that rebooted under the run)', async () => {
    const { ctx } = context();
    const watcher = lineWatcher('iperf3 server on h2', 5000);
    const server = startAt(ctx, HOST, ['sh', '-c', 'echo \'Cannot open network namespace "cnl-x1-srv": No such file or directory\' >&2; exit 255'], { onStdoutLine: watcher.onLine });
    const error = await rejectedCnlabError(watcher.ready(() => false, server));
    expect(error.message).toBe('iperf3 server on h2 ended before it was ready (exit code 255: Cannot open network namespace "cnl-x1-srv": No such file or directory): the lab\'s namespace cnl-x1-srv is gone from that host (it rebooted, or something removed the lab); `cnlab runs resume` builds the case again');
  });

  it('gives up after its timeout while the command keeps running silently', async () => {
    const { ctx } = context();
    const watcher = lineWatcher('quiet server', 300);
    const server = startAt(ctx, HOST, ['sleep', '30'], { onStdoutLine: watcher.onLine });
    const started = Date.now();
    const error = await rejectedCnlabError(watcher.ready(() => false, server));
    expect(error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    await server.stop();
  });
});

describe('runCleanupAt', () => {
  it('still runs after the run was cancelled, and is logged', async () => {
    const controller = new AbortController();
    controller.abort();
    const { ctx, commands } = context(controller.signal);
    expect((await rejectedCnlabError(runAt(ctx, HOST, ['true']))).code).toBe('cancelled');
    const result = await runCleanupAt(ctx, HOST, ['echo', 'cleaned']);
    expect(result.stdout).toBe('cleaned\n');
    expect(commands.map((command) => command.exitCode)).toEqual([null, 0]);
  });
});

describe('startReadyServer', () => {
  /** A port this process holds open, as the run before may still hold one. */
  async function holdPort(): Promise<{ port: number; server: Server }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port, server };
  }

  function sockperfServer(ctx: WorkloadContext, port: number) {
    const watcher = lineWatcher(`the sockperf server (port ${port})`, 5000);
    const command = startAt(ctx, HOST, ['sockperf', 'server', '--tcp', '-i', '127.0.0.1', '-p', String(port)], { onStdoutLine: watcher.onLine, onStderrLine: watcher.onLine });
    return { command, ready: watcher.ready((line) => /to block on socket/.test(line), command) };
  }

  it('moves a real sockperf server on to the next port when its own is still held, and logs both tries', async () => {
    const held = await holdPort();
    const free = await holdPort();
    await new Promise((resolve) => free.server.close(resolve));
    const ports = [held.port, free.port];
    const { ctx, commands } = context();
    ctx.allocatePort = () => ports.shift() ?? 1;
    try {
      const { server, port } = await startReadyServer(ctx, 'here', (candidate) => sockperfServer(ctx, candidate), () => Promise.resolve(new Error('not expected')));
      expect(port).toBe(free.port);
      await server.command.stop();
      expect(commands.map((entry) => entry.command)).toEqual([expect.stringContaining(`-p ${held.port}`), expect.stringContaining(`-p ${free.port}`)]);
    } finally {
      held.server.close();
    }
  });

  it(`gives up after ${SERVER_PORT_TRIES} held ports, and throws any other failure at once, as the caller describes it`, async () => {
    const held = await Promise.all([holdPort(), holdPort(), holdPort(), holdPort()]);
    const { ctx } = context();
    const ports = held.map((entry) => entry.port);
    ctx.allocatePort = () => ports.shift() ?? 1;
    try {
      const error = await startReadyServer(ctx, 'here', (candidate) => sockperfServer(ctx, candidate), (cause, port) => Promise.resolve(new Error(`failed on ${port}: ${(cause as Error).message}`))).then(
        () => new Error('it started'),
        (caught: unknown) => caught as Error,
      );
      expect(error.message).toMatch(new RegExp(`^failed on ${held[2]?.port}: the sockperf server \\(port ${held[2]?.port}\\) ended before it was ready .*Address already in use`));
      expect(ports).toEqual([held[3]?.port]);
      const other = { ctx: context().ctx, tries: 0 };
      other.ctx.allocatePort = () => 5201 + other.tries++;
      const broken = await startReadyServer(other.ctx, 'here', (candidate) => {
        const watcher = lineWatcher(`server ${candidate}`, 5000);
        const command = startAt(other.ctx, HOST, ['sh', '-c', 'echo "no such option" >&2; exit 2'], { onStderrLine: watcher.onLine });
        return { command, ready: watcher.ready(() => false, command) };
      }, (cause) => Promise.resolve(cause as Error)).then(
        () => new Error('it started'),
        (caught: unknown) => caught as Error,
      );
      expect(broken.message).toBe('server 5201 ended before it was ready (exit code 2: no such option)');
      expect(other.tries).toBe(1);
    } finally {
      for (const entry of held) entry.server.close();
    }
  });
});
