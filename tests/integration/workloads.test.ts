// The workload executors on real testbed hosts: iperf3, sockperf and ping between containers of a bridge and
// a VXLAN lab and between the hosts themselves (baseline), the host sampler around a run, netperf's clear
// "not installed" error, a cancel mid-run and an iperf3 server killed mid-run, with nothing left behind.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src-main/core/hosts/host-facts';
import { labNames } from '../../src-main/core/topology/naming';
import { LabService } from '../../src-main/core/topology/lab-service';
import type { LabRecord } from '../../src-main/core/topology/lab-store';
import { lineWatcher, runIperf3, runNetperf, runPing, runSockperf, startAt, startHostSampler } from '../../src-main/core/workloads';
import type { CommandRecord, Endpoint, LiveSample, WorkloadContext } from '../../src-main/core/workloads/workload-context';
import { iperf3ParamsSchema, netperfParamsSchema, pingParamsSchema, sockperfParamsSchema } from '../../src-main/core/workloads/workload-params';
import { rejectedCnlabError } from '../support/cnlab-error';
import { expectNothingLeft } from '../support/lab-checks';
import { testTopology } from '../support/lab-tools';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';

const LAB = 'wl';
let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
let record: LabRecord;
let facts: Record<string, HostFacts>;
let rawRoot: string;
const nextPort = new Map<string, number>();

interface Recorded {
  ctx: WorkloadContext;
  commands: CommandRecord[];
  samples: LiveSample[];
  rawDir: string;
}

/** A real WorkloadContext: pooled SSH executors, recorded commands and samples, raw files in a temp dir. */
function context(signal: AbortSignal = new AbortController().signal): Recorded {
  const commands: CommandRecord[] = [];
  const samples: LiveSample[] = [];
  const rawDir = mkdtempSync(join(rawRoot, 'run-'));
  const ctx: WorkloadContext = {
    executor: (host) => fixture.service.executor(host),
    signal,
    logCommand: (command) => commands.push(command),
    sample: (sample) => samples.push(sample),
    saveRaw: (name, text) => writeFile(join(rawDir, name), text),
    allocatePort: (host) => {
      const port = nextPort.get(host) ?? 5201;
      nextPort.set(host, port + 1);
      return port;
    },
    toolVersion: (host, tool) => facts[host]?.tools[tool] ?? null,
  };
  return { ctx, commands, samples, rawDir };
}

function container(name: string, network: string): Endpoint {
  const found = record.containers.find((candidate) => candidate.name === name);
  const address = found?.interfaces.find((entry) => entry.network === network)?.address?.split('/')[0];
  if (!found || !address) throw new Error(`no container ${name} on ${network}`);
  return { name, host: found.host, netns: found.netns, address };
}

function hostItself(name: string): Endpoint {
  return { name, host: name, netns: null, address: testbed.host(name).address };
}

async function running(host: string, program: string): Promise<string[]> {
  const result = await testbed.hostExec(host, ['sh', '-c', `pgrep -a -x ${program}; true`]);
  return result.stdout.split('\n').filter(Boolean);
}

function expectCommandsLogged(commands: readonly CommandRecord[], program: string): void {
  const runs = commands.filter((command) => command.command.includes(program));
  expect(runs.length).toBeGreaterThan(0);
  for (const command of commands) {
    expect(command.durationMs).toBeGreaterThanOrEqual(0);
    // Either an exit code, or no code and the reason it has none (stopped, cancelled).
    if (command.exitCode === null) expect(command.error ?? command.stopped).toBeTruthy();
  }
}

const mbit = (bitsPerSecond: number | undefined): string => `${((bitsPerSecond ?? 0) / 1e6).toFixed(0)} Mbit/s`;

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
  rawRoot = mkdtempSync(join(tmpdir(), 'cnlab-workloads-'));
  const spec = testTopology(
    `name: ${LAB}\nhosts: [h1, h2]\nnetworks:\n  - { name: lan, mode: bridge }\n  - { name: ov, mode: vxlan }\ncontainers:\n` +
      `  - { name: a, count: 2, host: h1, networks: [lan] }\n  - { name: b1, host: h1, networks: [ov] }\n  - { name: b2, host: h2, networks: [ov] }\n`,
  );
  const applied = await labs.apply(spec);
  expect(applied.status).toBe('applied');
  record = await labs.store.get(LAB);
  facts = await labs.factsFor(['h1', 'h2']);
}, 120_000);

afterAll(async () => {
  try {
    if (labs) await labs.teardown(LAB);
    if (testbed) expect(await expectNothingLeft(testbed, LAB)).toEqual([]);
  } finally {
    await fixture?.dispose();
    await testbed?.teardown();
    if (rawRoot) rmSync(rawRoot, { recursive: true, force: true });
  }
}, 60_000);

describe('run-command on a real host', () => {
  it('stops more background commands one after the other than a connection has channels (each kill frees its channel)', async () => {
    const { ctx, commands } = context();
    const started = Date.now();
    for (let round = 0; round < 12; round += 1) {
      const watcher = lineWatcher('sleeper', 10_000);
      const sleeper = startAt(ctx, { host: 'h1', netns: null }, ['sh', '-c', 'echo up; exec sleep 300'], { onStdoutLine: watcher.onLine });
      await watcher.ready((line) => line === 'up', sleeper);
      await sleeper.stop();
    }
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(commands.filter((command) => command.exitCode === null)).toHaveLength(12);
    // Only the sleepers: the kill scripts' own `sleep 0.1` may still be finishing.
    expect((await running('h1', 'sleep')).filter((line) => line.endsWith('sleep 300'))).toEqual([]);
  }, 60_000);
});

describe('iperf3', () => {
  it('measures TCP over the bridge with live per-second intervals, while the host sampler reads CPU and the lab links', async () => {
    const { ctx, commands, samples, rawDir } = context();
    const sampler = startHostSampler(ctx, 'h1', { interfacePrefixes: [labNames(LAB).link('v', '').slice(0, 5)] });
    const params = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 3 });
    const measurement = await runIperf3(ctx, { params, client: container('a1', 'lan'), server: container('a2', 'lan') });
    const summary = await sampler.stop();
    const { metrics } = measurement;
    console.info(`iperf3 tcp bridge: ${mbit(metrics.throughputBitsPerSecond)}, ${metrics.retransmits} retransmits; h1 busy ${summary.averageBusyPercent.toFixed(1)}% (${summary.busyCpuSeconds.toFixed(2)} CPU-s)`);
    expect(metrics.throughputBitsPerSecond).toBeGreaterThan(100e6);
    expect(metrics.senderBitsPerSecond).toBeGreaterThan(100e6);
    // bytes / duration agrees with the rate: units are bits/s and bytes.
    expect(((metrics.bytes ?? 0) * 8) / 3 / (metrics.throughputBitsPerSecond ?? 1)).toBeGreaterThan(0.9);
    expect(((metrics.bytes ?? 0) * 8) / 3 / (metrics.throughputBitsPerSecond ?? 1)).toBeLessThan(1.1);
    expect(metrics.retransmits).toBeGreaterThanOrEqual(0);
    expect(measurement.rawSamples?.intervalBitsPerSecond).toHaveLength(3);
    // 3.12 here: live intervals come from the server's --forceflush text.
    const live = samples.filter((sample) => sample.metric === 'throughputBitsPerSecond' && sample.source === 'pair');
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const sample of live) expect(sample.value).toBeGreaterThan(10e6);
    expect(readdirSync(rawDir).sort()).toEqual(['iperf3-client.json', 'iperf3-server.txt']);
    expectCommandsLogged(commands, 'iperf3');
    expect(commands.find((command) => command.command.includes('iperf3 -c'))?.exitCode).toBe(0);

    // The sampler: CPU of the host and the traffic on the containers' host-side veths.
    expect(summary.intervals).toBeGreaterThanOrEqual(2);
    expect(summary.averageBusyPercent).toBeGreaterThan(0);
    expect(summary.averageBusyPercent).toBeLessThanOrEqual(100);
    expect(summary.busyCpuSeconds).toBeGreaterThan(0);
    const moved = Math.max(...Object.values(summary.interfaces).map((counters) => counters.rxBytes));
    console.info(`sampler: ${Object.keys(summary.interfaces).length} lab links, most bytes in on one link ${(moved / 1e6).toFixed(0)} MB vs iperf3 ${((metrics.bytes ?? 0) / 1e6).toFixed(0)} MB`);
    expect(moved).toBeGreaterThan((metrics.bytes ?? 0) * 0.9);
    expect(samples.some((sample) => sample.metric === 'cpuPercent' && sample.source === 'h1')).toBe(true);
    expect(samples.some((sample) => sample.metric === 'softirqPercent' && sample.source.startsWith('h1/cpu'))).toBe(true);
    expect(samples.some((sample) => sample.metric === 'rxBytesPerSecond' && sample.source.startsWith(`h1/${labNames(LAB).link('v', '').slice(0, 5)}`))).toBe(true);
  });

  it('measures UDP across hosts over VXLAN with jitter and loss', async () => {
    const { ctx } = context();
    const params = iperf3ParamsSchema.parse({ tool: 'iperf3', protocol: 'udp', bitrate: '200M', duration: 2 });
    const { metrics } = await runIperf3(ctx, { params, client: container('b1', 'ov'), server: container('b2', 'ov') });
    console.info(`iperf3 udp vxlan at 200M: ${mbit(metrics.throughputBitsPerSecond)}, jitter ${metrics.jitterMs} ms, lost ${metrics.lostPercent}%`);
    expect(metrics.throughputBitsPerSecond).toBeGreaterThan(50e6);
    expect(metrics.throughputBitsPerSecond).toBeLessThan(250e6);
    expect(metrics.jitterMs).toBeGreaterThanOrEqual(0);
    expect(metrics.jitterMs).toBeLessThan(10);
    expect(metrics.lostPercent).toBeGreaterThanOrEqual(0);
    expect(metrics.retransmits).toBeUndefined();
  });

  it('measures the baseline between the hosts themselves, reverse', async () => {
    const { ctx, commands } = context();
    const params = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 2, reverse: true });
    const { metrics } = await runIperf3(ctx, { params, client: hostItself('h2'), server: hostItself('h1') });
    console.info(`iperf3 baseline h1 -> h2 (reverse): ${mbit(metrics.throughputBitsPerSecond)}`);
    expect(metrics.throughputBitsPerSecond).toBeGreaterThan(100e6);
    expect(commands.every((command) => !command.command.includes('ip netns exec'))).toBe(true);
  });

  it('stops at once on cancel, leaving no iperf3 on either host', async () => {
    const controller = new AbortController();
    const { ctx, commands } = context(controller.signal);
    const params = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 10 });
    const pending = runIperf3(ctx, { params, client: container('b1', 'ov'), server: container('b2', 'ov') });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await running('h1', 'iperf3')).toHaveLength(1);
    expect(await running('h2', 'iperf3')).toHaveLength(1);
    const aborted = Date.now();
    controller.abort();
    const error = await rejectedCnlabError(pending);
    const took = Date.now() - aborted;
    console.info(`cancel: rejected after ${took} ms with ${error.code}: ${error.message}`);
    expect(error.code).toBe('cancelled');
    expect(took).toBeLessThan(3000);
    expect(await running('h1', 'iperf3')).toEqual([]);
    expect(await running('h2', 'iperf3')).toEqual([]);
    expect(commands.filter((command) => command.command.includes('iperf3')).every((command) => command.exitCode === null && /cancelled/.test(command.error ?? ''))).toBe(true);
  });

  it('fails with the reason, not a hang, when its server is killed mid-run', async () => {
    const { ctx } = context();
    const params = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 10 });
    const started = Date.now();
    const pending = runIperf3(ctx, { params, client: container('b1', 'ov'), server: container('b2', 'ov') });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The server is the only iperf3 on h2 (the client runs on h1): killed by its PID, as a crash would.
    const [pid] = (await testbed.hostExec('h2', ['pgrep', '-x', 'iperf3'])).stdout.trim().split('\n');
    expect(pid).toMatch(/^\d+$/);
    await testbed.hostExec('h2', ['kill', '-KILL', pid ?? '']);
    const error = await rejectedCnlabError(pending);
    const took = Date.now() - started;
    console.info(`server killed: rejected after ${took} ms with ${error.code}: ${error.message}`);
    expect(error.code).toBe('workload-failed');
    expect(error.message).toMatch(/^iperf3 from b1 on h1 to b2 on h2 \(198\.19\.\S+ port \d+\) failed: /);
    expect(took).toBeLessThan(10_000);
    expect(await running('h1', 'iperf3')).toEqual([]);
    expect(await running('h2', 'iperf3')).toEqual([]);
  });
});

describe('sockperf', () => {
  it('measures UDP ping-pong latency over the bridge, with every sample from the full log and no temp dir left', async () => {
    const { ctx, commands, rawDir } = context();
    const params = sockperfParamsSchema.parse({ tool: 'sockperf', duration: 2 });
    const measurement = await runSockperf(ctx, { params, client: container('a1', 'lan'), server: container('a2', 'lan') });
    const { metrics } = measurement;
    const samples = measurement.rawSamples?.latencyUs ?? [];
    console.info(`sockperf ping-pong bridge: mean ${metrics.latencyMeanUs} µs, p50 ${metrics.latencyP50Us}, p99 ${metrics.latencyP99Us}, ${metrics.transactions} transactions, ${samples.length} raw samples; notes: ${(measurement.notes ?? []).join('; ')}`);
    expect(metrics.latencyMeanUs).toBeGreaterThan(0);
    expect(metrics.latencyMeanUs).toBeLessThan(10_000);
    expect(metrics.latencyP99Us).toBeGreaterThanOrEqual(metrics.latencyP50Us ?? Infinity);
    expect(metrics.latencyMinUs).toBeLessThanOrEqual(metrics.latencyMeanUs ?? 0);
    expect(metrics.transactions).toBeGreaterThan(100);
    expect(samples.length).toBeGreaterThan(100);
    const sorted = [...samples].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    // The log and the summary describe the same run in the same unit (µs, half round trip).
    expect(median / (metrics.latencyP50Us ?? 1)).toBeGreaterThan(0.5);
    expect(median / (metrics.latencyP50Us ?? 1)).toBeLessThan(2);
    expect(readdirSync(rawDir).sort()).toEqual(['sockperf-client.txt', 'sockperf-server.txt']);
    expectCommandsLogged(commands, 'sockperf');
    const tempDirs = await testbed.hostExec('h1', ['sh', '-c', 'ls -d /tmp/cnlab-sockperf.* 2>/dev/null; true']);
    expect(tempDirs.stdout.trim()).toBe('');
  });

  it('measures the baseline between the hosts themselves', async () => {
    const { ctx } = context();
    const params = sockperfParamsSchema.parse({ tool: 'sockperf', duration: 1 });
    const measurement = await runSockperf(ctx, { params, client: hostItself('h2'), server: hostItself('h1') });
    console.info(`sockperf ping-pong baseline h2 -> h1: mean ${measurement.metrics.latencyMeanUs} µs, ${measurement.rawSamples?.latencyUs?.length} raw samples`);
    expect(measurement.metrics.latencyMeanUs).toBeGreaterThan(0);
    expect(measurement.metrics.latencyMeanUs).toBeLessThan(10_000);
    expect(measurement.rawSamples?.latencyUs?.length).toBeGreaterThan(100);
  }, 40_000);

  it('measures TCP throughput across hosts over VXLAN', async () => {
    const { ctx } = context();
    const params = sockperfParamsSchema.parse({ tool: 'sockperf', test: 'throughput', protocol: 'tcp', duration: 2, messageSize: 1400 });
    const { metrics } = await runSockperf(ctx, { params, client: container('b1', 'ov'), server: container('b2', 'ov') });
    console.info(`sockperf tp tcp vxlan: ${metrics.messagesPerSecond} msg/s, ${mbit(metrics.throughputBitsPerSecond)}`);
    expect(metrics.messagesPerSecond).toBeGreaterThan(1000);
    // Payload rate = messages/s × size, in bits.
    expect((metrics.throughputBitsPerSecond ?? 0) / ((metrics.messagesPerSecond ?? 1) * 1400 * 8)).toBeCloseTo(1, 1);
    expect(metrics.bytes).toBeGreaterThan(0);
    expect(await running('h2', 'sockperf')).toEqual([]);
  });
});

describe('ping', () => {
  it('measures RTT across hosts over VXLAN, per reply live', async () => {
    const { ctx, samples } = context();
    const params = pingParamsSchema.parse({ tool: 'ping', count: 10, interval: 0.05 });
    const measurement = await runPing(ctx, { params, client: container('b2', 'ov'), server: container('b1', 'ov') });
    const { metrics } = measurement;
    console.info(`ping vxlan: avg ${metrics.rttAvgMs} ms, min ${metrics.rttMinMs}, max ${metrics.rttMaxMs}, loss ${metrics.lossPercent}%`);
    expect(metrics.lossPercent).toBe(0);
    expect(metrics.rttAvgMs).toBeGreaterThan(0);
    expect(metrics.rttAvgMs).toBeLessThan(10);
    expect(metrics.rttMinMs).toBeLessThanOrEqual(metrics.rttAvgMs ?? 0);
    expect(measurement.rawSamples?.rttMs).toHaveLength(10);
    expect(samples.filter((sample) => sample.metric === 'rttMs')).toHaveLength(10);
  });

  it('measures the baseline between the hosts', async () => {
    const { ctx } = context();
    const { metrics } = await runPing(ctx, { params: pingParamsSchema.parse({ tool: 'ping', count: 5, interval: 0.05 }), client: hostItself('h1'), server: hostItself('h2') });
    expect(metrics.received).toBe(5);
    expect(metrics.rttAvgMs).toBeLessThan(10);
  });
});

describe('netperf', () => {
  it('says clearly that netperf is not installed (Debian has it only in non-free), or measures where it is', async () => {
    const { ctx } = context();
    const installed = (await testbed.hostExec('h1', ['sh', '-c', 'command -v netperf || true'])).stdout.trim() !== '';
    const pending = runNetperf(ctx, { params: netperfParamsSchema.parse({ tool: 'netperf', duration: 2 }), client: container('a1', 'lan'), server: container('a2', 'lan') });
    if (installed) {
      expect((await pending).metrics.throughputBitsPerSecond).toBeGreaterThan(100e6);
      return;
    }
    const error = await rejectedCnlabError(pending);
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/^netperf is not installed on host h1: /);
  });
});
