// Batched iperf3 end to end on this machine's real sh (LocalExecutor), with a fake `iperf3` first on PATH
// that prints real 3.12 captures: one command per host for the servers and one for the clients, the
// aggregate and fairness, live sums, failures naming the flow, and nothing left (temp dirs, processes)
// after success, failure and cancel. The real iperf3 runs in tests/integration/experiment-scale.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectedCnlabError } from '../../../../tests/support/cnlab-error';
import { LocalExecutor } from '../../exec/local-executor';
import type { HostExecutor } from '../../exec/executor';
import { quoteShellArg } from '../../shell/quote';
import type { CommandRecord, Endpoint, LiveSample, WorkloadContext } from '../workload-context';
import { iperf3ParamsSchema } from '../workload-params';
import { runIperf3Flows } from './batch-executor';
import { iperf3Measurement } from './executor';
import { parseIperf3Json } from './json-parser';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
/** What one flow printing this capture measures, by the per-pair executor's own rules. */
const flowMetrics = (name: string) => iperf3Measurement(parseIperf3Json(readFileSync(fixture(name), 'utf8')), params).metrics as { throughputBitsPerSecond: number; bytes: number };

/**
 * A stand-in for iperf3: the server says it listens, waits for its client, prints a real server capture;
 * the client prints a real -J capture chosen by port (odd: -P 2, even: one stream), or the file
 * `client-PORT.json` when a test put one there. `server-fail-PORT` makes that server fail like a port in use.
 */
const FAKE_IPERF3 = `#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -s) mode=server;; -c) mode=client; shift;; -p) shift; port=$1;; esac; shift; done
if [ "$mode" = server ]; then
  if [ -f "$FAKE_DIR/server-fail-$port" ]; then echo "iperf3: error - unable to start listener for connections: Address already in use"; exit 1; fi
  echo "-----------------------------------------------------------"
  echo "Server listening on $port (test #1)"
  while [ ! -f "$FAKE_DIR/done-$port" ]; do sleep 0.05; done
  tail -n +3 "$FAKE_SERVER_TEXT"
  exit 0
fi
sleep "$(cat "$FAKE_DIR/client-sleep" 2>/dev/null || echo 0.1)"
touch "$FAKE_DIR/done-$port"
if [ -f "$FAKE_DIR/client-$port.json" ]; then cat "$FAKE_DIR/client-$port.json"
elif [ $((port % 2)) = 1 ]; then cat "$FAKE_P2"
else cat "$FAKE_P1"; fi
`;

let fakeDir: string;
let executor: HostExecutor;
const local = new LocalExecutor('here');

beforeAll(() => {
  fakeDir = mkdtempSync(join(tmpdir(), 'cnlab-fake-iperf3-'));
  writeFileSync(join(fakeDir, 'iperf3'), FAKE_IPERF3);
  chmodSync(join(fakeDir, 'iperf3'), 0o755);
  const env = [
    `PATH=${quoteShellArg(fakeDir)}:"$PATH"`,
    `FAKE_DIR=${quoteShellArg(fakeDir)}`,
    `FAKE_SERVER_TEXT=${quoteShellArg(fixture('iperf3-3.12-server-tcp-forceflush.txt'))}`,
    `FAKE_P1=${quoteShellArg(fixture('iperf3-3.12-tcp.json'))}`,
    `FAKE_P2=${quoteShellArg(fixture('iperf3-3.12-tcp-p2.json'))}`,
  ].join(' ');
  // The fake needs no privileges, so the tests also run as a plain user.
  executor = {
    hostName: 'here',
    exec: (command, options) => local.exec(`export ${env}; ${command}`, { ...options, privileged: false }),
    runScript: (script, options) => local.runScript(script, { ...options, privileged: false }),
    privilege: () => local.privilege(),
    close: () => Promise.resolve(),
  };
});

afterAll(() => rmSync(fakeDir, { recursive: true, force: true }));

function context(signal = new AbortController().signal) {
  // The fake's "client connected" marks of earlier tests must not release this test's servers.
  for (const entry of readdirSync(fakeDir)) if (entry.startsWith('done-')) rmSync(join(fakeDir, entry));
  const commands: CommandRecord[] = [];
  const samples: LiveSample[] = [];
  const raw = new Map<string, string>();
  const ports = new Map<string, number>();
  const ctx: WorkloadContext = {
    executor: () => executor,
    signal,
    logCommand: (record) => commands.push(record),
    sample: (sample) => samples.push(sample),
    saveRaw: (name, text) => {
      raw.set(name, text);
      return Promise.resolve();
    },
    // Distinct per test run: the fake's marker files are named by port.
    allocatePort: (host) => {
      const port = ports.get(host) ?? 5202 + Math.floor(Math.random() * 300) * 2;
      ports.set(host, port + 1);
      return port;
    },
    toolVersion: () => '3.12',
  };
  return { ctx, commands, samples, raw };
}

const endpoint = (name: string, host: string): Endpoint => ({ name, host, netns: null, address: '127.0.0.1' });
const params = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 3 });

/** The temp dirs the run removed (the rm commands name them). */
function removedDirs(commands: readonly CommandRecord[]): string[] {
  return commands.filter((command) => command.command.startsWith('rm -rf -- ')).map((command) => command.command.slice('rm -rf -- '.length));
}

/** Processes still running the fake (by its unique path in their command line). */
function fakeProcesses(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return cmdline.includes(fakeDir) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? [`${pid} ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

describe('runIperf3Flows', () => {
  it('runs every server of a host in one command and every client of a host in one, and sums the flows', async () => {
    const { ctx, commands, samples, raw } = context();
    const flows = [
      { client: endpoint('cli1', 'b'), server: endpoint('srv1', 'a') },
      { client: endpoint('cli2', 'b'), server: endpoint('srv2', 'a') },
      { client: endpoint('cli3', 'b'), server: endpoint('srv3', 'a') },
    ];
    const measurement = await runIperf3Flows(ctx, { params, flows });
    // Ports on host a start even: f1 and f3 print the one-stream capture, f2 the -P 2 one.
    const one = flowMetrics('iperf3-3.12-tcp.json');
    const two = flowMetrics('iperf3-3.12-tcp-p2.json');
    expect(measurement.metrics.flows).toBe(3);
    expect(measurement.metrics.throughputBitsPerSecond).toBeCloseTo(2 * one.throughputBitsPerSecond + two.throughputBitsPerSecond, 0);
    expect(measurement.metrics.bytes).toBe(2 * one.bytes + two.bytes);
    expect(measurement.metrics.minFlowBitsPerSecond).toBe(Math.min(one.throughputBitsPerSecond, two.throughputBitsPerSecond));
    expect(measurement.metrics.maxFlowBitsPerSecond).toBe(Math.max(one.throughputBitsPerSecond, two.throughputBitsPerSecond));
    expect(measurement.metrics.fairnessIndex).toBeGreaterThan(0.5);
    expect(measurement.metrics.fairnessIndex).toBeLessThanOrEqual(1);
    expect(measurement.rawSamples?.flowBitsPerSecond).toEqual([one.throughputBitsPerSecond, two.throughputBitsPerSecond, one.throughputBitsPerSecond]);

    const shapes = commands.map((command) => `${command.host} ${command.command.split(' ').slice(0, 2).join(' ')}`);
    expect(shapes.sort()).toEqual(['a sh -c', 'b mktemp -d', 'b rm -rf', 'b sh -c'].sort());
    expect(commands.every((command) => command.exitCode === 0 || command.stopped)).toBe(true);
    for (const dir of removedDirs(commands)) expect(existsSync(dir)).toBe(false);
    // Live: the servers' intervals summed over the three flows, once per second.
    const live = samples.filter((sample) => sample.source === 'flows');
    expect(live.map((sample) => sample.t)).toEqual([1, 2, 3]);
    expect(live[0]?.value).toBeCloseTo(3 * 28.9e9, -7);
    expect([...raw.keys()].sort()).toEqual(['iperf3-clients-b.txt', 'iperf3-servers-a.txt']);
    expect(fakeProcesses()).toEqual([]);
  });

  it('batches per host when flows go both ways between two hosts (all-to-all)', async () => {
    const { ctx, commands } = context();
    const nodes = [endpoint('node1', 'a'), endpoint('node2', 'b')];
    const measurement = await runIperf3Flows(ctx, { params, flows: [{ client: nodes[0] as Endpoint, server: nodes[1] as Endpoint }, { client: nodes[1] as Endpoint, server: nodes[0] as Endpoint }] });
    expect(measurement.metrics.flows).toBe(2);
    expect(commands.filter((command) => command.command.startsWith('sh -c')).map((command) => command.host).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('fails naming the flow whose server could not listen, and leaves nothing behind', async () => {
    const { ctx, commands } = context();
    const port = ctx.allocatePort('a');
    const fail = join(fakeDir, `server-fail-${port + 2}`);
    writeFileSync(fail, '');
    try {
      const flows = [
        { client: endpoint('cli1', 'b'), server: endpoint('srv1', 'a') },
        { client: endpoint('cli2', 'b'), server: endpoint('srv2', 'a') },
      ];
      const error = await rejectedCnlabError(runIperf3Flows(ctx, { params, flows }));
      expect(error.code).toBe('workload-failed');
      expect(error.message).toContain(`iperf3 flow f2 from cli2 on b to srv2 on a (127.0.0.1 port ${port + 2})`);
      expect(error.message).toContain('Address already in use');
    } finally {
      rmSync(fail, { force: true });
    }
    expect(commands.some((command) => command.host === 'b' && command.command.startsWith('sh -c'))).toBe(false);
    for (const dir of removedDirs(commands)) expect(existsSync(dir)).toBe(false);
    expect(fakeProcesses()).toEqual([]);
  });

  it('fails naming a flow whose client reported an iperf3 error', async () => {
    const { ctx } = context();
    const port = ctx.allocatePort('a');
    const file = join(fakeDir, `client-${port + 2}.json`);
    writeFileSync(file, readFileSync(fixture('iperf3-3.12-closed-port.json')));
    try {
      const flows = [
        { client: endpoint('cli1', 'b'), server: endpoint('srv1', 'a') },
        { client: endpoint('cli2', 'b'), server: endpoint('srv2', 'a') },
      ];
      const error = await rejectedCnlabError(runIperf3Flows(ctx, { params, flows }));
      expect(error.message).toMatch(new RegExp(`^iperf3 flow f2 from cli2 on b to srv2 on a \\(127\\.0\\.0\\.1 port ${port + 2}\\) failed: iperf3: `));
    } finally {
      rmSync(file, { force: true });
    }
    expect(fakeProcesses()).toEqual([]);
  });

  it('cancel kills every server and client and still removes the temp dir', async () => {
    const controller = new AbortController();
    const { ctx, commands } = context(controller.signal);
    writeFileSync(join(fakeDir, 'client-sleep'), '30');
    try {
      const flows = Array.from({ length: 4 }, (_, index) => ({ client: endpoint(`cli${index + 1}`, 'b'), server: endpoint(`srv${index + 1}`, 'a') }));
      const running = runIperf3Flows(ctx, { params, flows });
      // Cancel once the clients run.
      for (let waited = 0; waited < 10_000 && fakeProcesses().filter((line) => /iperf3 -c 127\.0\.0\.1/.test(line)).length < 4; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fakeProcesses().filter((line) => /iperf3 -c 127\.0\.0\.1/.test(line))).toHaveLength(4);
      const started = Date.now();
      controller.abort();
      const error = await rejectedCnlabError(running);
      expect(error.code).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      rmSync(join(fakeDir, 'client-sleep'), { force: true });
    }
    const dirs = removedDirs(commands);
    expect(dirs).toHaveLength(1);
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    expect(fakeProcesses()).toEqual([]);
  }, 20_000);
});
