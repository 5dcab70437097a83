// The netperf executor against scripted hosts. A test double on purpose: netperf cannot be installed on this
// machine (Debian ships it only in non-free, which these apt sources lack; see fixtures/README.md), so the
// real-host test in tests/integration/workloads.test.ts can only check the "not installed" error. Here the
// hosts answer `command -v`, netserver and netperf the way netperf 2.7 is documented to.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rejectedCnlabError } from '../../../../tests/support/cnlab-error';
import { CnlabError } from '../../errors';
import type { ExecOptions, ExecResult, HostExecutor } from '../../exec/executor';
import type { CommandRecord, Endpoint, WorkloadContext } from '../workload-context';
import { netperfParamsSchema } from '../workload-params';
import { netperfArgv, netperfMeasurement, NETPERF_KEYS, runNetperf } from './executor';
import { parseNetperfOmni } from './omni-parser';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const params = (input: object) => netperfParamsSchema.parse({ tool: 'netperf', ...input });

const result = (code: number, stdout = '', stderr = ''): ExecResult => ({ code, signal: null, stdout, stderr, durationMs: 1 });

interface HostScript {
  installed: boolean;
  /** What netserver prints before it runs until stopped; null: it exits at once with this text on stderr. */
  netserverSays?: string;
  netserverFails?: string;
  netperfOutput?: string;
}

class ScriptedHost implements HostExecutor {
  readonly commands: string[] = [];
  netserverStopped = false;

  constructor(
    readonly hostName: string,
    private readonly script: HostScript,
  ) {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    if (command.includes('command -v')) return Promise.resolve(this.script.installed ? result(0, '/usr/bin/netperf\n') : result(127));
    if (command.includes('netserver')) return this.netserver(options);
    if (command.includes('netperf ')) return Promise.resolve(result(0, this.script.netperfOutput ?? ''));
    return Promise.reject(new Error(`unexpected command ${command}`));
  }

  runScript(): Promise<ExecResult> {
    return Promise.reject(new Error('not used'));
  }

  privilege() {
    return Promise.resolve({ kind: 'root' } as const);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private netserver(options: ExecOptions): Promise<ExecResult> {
    if (this.script.netserverFails !== undefined) return Promise.resolve(result(1, '', this.script.netserverFails));
    options.onStderrLine?.(this.script.netserverSays ?? "Starting netserver with host 'IN(6)ADDR_ANY' port '5201' and family AF_UNSPEC");
    return new Promise((_, reject) =>
      options.signal?.addEventListener('abort', () => {
        this.netserverStopped = true;
        reject(new CnlabError('cancelled', `host ${this.hostName}: cancelled`));
      }),
    );
  }
}

function context(hosts: Record<string, ScriptedHost>): { ctx: WorkloadContext; commands: CommandRecord[]; raw: Map<string, string> } {
  const commands: CommandRecord[] = [];
  const raw = new Map<string, string>();
  const ctx: WorkloadContext = {
    executor: (host) => hosts[host] as HostExecutor,
    signal: new AbortController().signal,
    logCommand: (record) => commands.push(record),
    sample: () => undefined,
    saveRaw: (name, text) => {
      raw.set(name, text);
      return Promise.resolve();
    },
    allocatePort: () => 5201,
    toolVersion: () => null,
  };
  return { ctx, commands, raw };
}

const client: Endpoint = { name: 'c1', host: 'h1', netns: 'cnl-lab-c1', address: '198.19.0.2' };
const server: Endpoint = { name: 's1', host: 'h2', netns: 'cnl-lab-s1', address: '198.19.1.2' };

describe('command lines', () => {
  it('ask for the omni keys, with -m for streams and -r for request/response sizes', () => {
    expect(netperfArgv(params({ test: 'TCP_STREAM', duration: 5, messageSize: 16384 }), '198.19.1.2', 5201)).toEqual(
      ['netperf', '-H', '198.19.1.2', '-p', '5201', '-l', '5', '-t', 'TCP_STREAM', '-P', '0', '--', '-k', NETPERF_KEYS.join(','), '-m', '16384'],
    );
    expect(netperfArgv(params({ test: 'UDP_RR', messageSize: 64 }), 'a', 1).slice(-2)).toEqual(['-r', '64,64']);
  });
});

describe('metrics', () => {
  it('stream: bits/s and bytes from the rate when netperf did not count them', () => {
    const metrics = netperfMeasurement(parseNetperfOmni(fixture('netperf-2.7-tcp-stream-k-handmade.txt'), 'TCP_STREAM'), params({ duration: 10 })).metrics;
    expect(metrics).toEqual({ throughputBitsPerSecond: 9387.12e6, bytes: (9387.12e6 * 10) / 8 });
  });

  it('stream: bytes received and retransmits when printed', () => {
    const text = 'THROUGHPUT=100\nTHROUGHPUT_UNITS=10^6bits/s\nELAPSED_TIME=10.00\nREMOTE_BYTES_RECVD=125000000\nLOCAL_TRANSPORT_RETRANS=7\n';
    expect(netperfMeasurement(parseNetperfOmni(text, 'TCP_STREAM'), params({})).metrics).toEqual({ throughputBitsPerSecond: 1e8, bytes: 125000000, retransmits: 7 });
  });

  it('request/response: transactions and latencies in µs', () => {
    const metrics = netperfMeasurement(parseNetperfOmni(fixture('netperf-2.7-tcp-rr-k-handmade.txt'), 'TCP_RR'), params({ test: 'TCP_RR', duration: 10 })).metrics;
    expect(metrics).toEqual({ transactionsPerSecond: 31250.44, transactions: 312504, latencyMeanUs: 31.87, latencyP50Us: 30, latencyP90Us: 35, latencyP99Us: 48 });
  });
});

describe('runNetperf on scripted hosts', () => {
  it('runs netserver, then netperf, stops netserver and keeps both outputs', async () => {
    const hosts = { h1: new ScriptedHost('h1', { installed: true, netperfOutput: fixture('netperf-2.7-tcp-rr-k-handmade.txt') }), h2: new ScriptedHost('h2', { installed: true }) };
    const { ctx, commands, raw } = context(hosts);
    const measurement = await runNetperf(ctx, { params: params({ test: 'TCP_RR', duration: 10 }), client, server });
    expect(measurement.metrics.transactionsPerSecond).toBe(31250.44);
    expect(hosts.h2.commands.at(-1)).toBe('ip netns exec cnl-lab-s1 netserver -D -p 5201');
    expect(hosts.h1.commands.at(-1)).toContain('ip netns exec cnl-lab-c1 netperf -H 198.19.1.2 -p 5201 -l 10 -t TCP_RR');
    expect(hosts.h2.netserverStopped).toBe(true);
    expect(commands.map((command) => `${command.host} ${command.exitCode ?? 'null'}`).sort()).toEqual(['h1 0', 'h1 0', 'h2 0', 'h2 null']);
    expect([...raw.keys()].sort()).toEqual(['netperf-client.txt', 'netserver.txt']);
  });

  it('says netperf is missing on the client host before starting anything', async () => {
    const hosts = { h1: new ScriptedHost('h1', { installed: false }), h2: new ScriptedHost('h2', { installed: true }) };
    const error = await rejectedCnlabError(runNetperf(context(hosts).ctx, { params: params({}), client, server }));
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/^netperf is not installed on host h1: install it \(Debian: enable the non-free component/);
    expect(hosts.h2.commands.some((command) => command.includes('netserver -D'))).toBe(false);
  });

  it('says netperf is missing on the server host when only netserver is absent there', async () => {
    const hosts = { h1: new ScriptedHost('h1', { installed: true }), h2: new ScriptedHost('h2', { installed: false }) };
    expect((await rejectedCnlabError(runNetperf(context(hosts).ctx, { params: params({}), client, server }))).message).toMatch(/^netperf is not installed on host h2/);
  });

  it('names the pair and netserver\'s complaint when it cannot start', async () => {
    const hosts = { h1: new ScriptedHost('h1', { installed: true }), h2: new ScriptedHost('h2', { installed: true, netserverFails: 'Unable to start netserver with  \'IN(6)ADDR_ANY\' port \'5201\' and family AF_UNSPEC' }) };
    const error = await rejectedCnlabError(runNetperf(context(hosts).ctx, { params: params({}), client, server }));
    expect(error.code).toBe('workload-failed');
    expect(error.message).toContain('netperf TCP_STREAM from c1 on h1 to s1 on h2 (198.19.1.2 port 5201) failed: netserver on h2 (port 5201) ended before it was ready (exit code 1: Unable to start netserver');
  });
});
