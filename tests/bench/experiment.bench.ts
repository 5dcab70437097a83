// Fidelity of the experiment engine (issue 4): the same two containers measured by the console and
// by hand, alternating, for iperf3 throughput and sockperf latency; launch-time medians against a
// hand-written on-host script doing the same steps; and the CPU the console itself costs a measured
// host during a run (its sampler loop and SSH session), against a quiet interval of the same length.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellTable, launchTable } from '../../src-main/cli/run-report';
import { ExperimentService } from '../../src-main/core/experiment/experiment-service';
import { LabService } from '../../src-main/core/topology/lab-service';
import { runIperf3 } from '../../src-main/core/workloads/iperf3/executor';
import { parseIperf3Json } from '../../src-main/core/workloads/iperf3';
import { runLaunch } from '../../src-main/core/workloads/launch/launch-workload';
import { parseSockperfLatency } from '../../src-main/core/workloads/sockperf';
import { runSockperf } from '../../src-main/core/workloads/sockperf/executor';
import { startHostSampler } from '../../src-main/core/workloads/host-samplers';
import { runAt } from '../../src-main/core/workloads/run-command';
import type { Endpoint } from '../../src-main/core/workloads/workload-context';
import { iperf3ParamsSchema, launchParamsSchema, sockperfParamsSchema } from '../../src-main/core/workloads/workload-params';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { testTopology } from '../support/lab-tools.ts';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts.ts';
import { recordingContext } from '../support/workload-context.ts';
import { summarise } from './stats.ts';

const ALTERNATIONS = 7;
/** Latency drifts by tens of percent over minutes on a shared machine: more rounds, each its own ratio. */
const LATENCY_ROUNDS = 11;
const SECONDS = 3;

interface Pair {
  client: Endpoint;
  server: Endpoint;
}

/** Console and hand values of the same rounds; each round's ratio cancels the machine's drift between rounds. */
interface Paired {
  console: number[];
  hand: number[];
}

function ratioLine(what: string, paired: Paired, unit: string, scale: number, target: string): string {
  const ratios = paired.console.map((value, index) => value / (paired.hand[index] ?? NaN));
  const ratio = summarise(ratios);
  const format = (value: number): string => (value / scale).toFixed(2);
  return `| ${what} | ${format(summarise(paired.console).median)} ${unit} | ${format(summarise(paired.hand).median)} ${unit} | ${ratio.median.toFixed(3)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}) | ${target} |`;
}

/** Runs console and hand measurements in rounds, ABBA order (console first in even rounds), after one warm-up round. */
async function pairedRounds(rounds: number, byConsole: () => Promise<number>, byHand: () => Promise<number>): Promise<Paired> {
  const paired: Paired = { console: [], hand: [] };
  for (let round = 0; round <= rounds; round++) {
    let consoleValue: number;
    let handValue: number;
    if (round % 2 === 0) {
      consoleValue = await byConsole();
      handValue = await byHand();
    } else {
      handValue = await byHand();
      consoleValue = await byConsole();
    }
    if (round === 0) continue; // warm-up round
    paired.console.push(consoleValue);
    paired.hand.push(handValue);
  }
  return paired;
}

/** Background command inside a testbed host, started the way a user would in a second terminal. */
function handServer(testbed: Testbed, host: string, netns: string, argv: string[]): Promise<unknown> {
  return testbed.hostExec(host, ['ip', 'netns', 'exec', netns, 'timeout', '30', ...argv]);
}

async function handIperf3(testbed: Testbed, pair: Pair, port: number): Promise<number> {
  const server = handServer(testbed, pair.server.host, pair.server.netns ?? '', ['iperf3', '-s', '-1', '-p', String(port)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const client = await testbed.hostExec(pair.client.host, ['ip', 'netns', 'exec', pair.client.netns ?? '', 'iperf3', '-c', pair.server.address, '-p', String(port), '-t', String(SECONDS), '-J']);
  await server;
  return parseIperf3Json(client.stdout).directions[0]?.bitsPerSecond ?? NaN;
}

async function handSockperf(testbed: Testbed, pair: Pair, port: number): Promise<number> {
  const server = handServer(testbed, pair.server.host, pair.server.netns ?? '', ['sockperf', 'sr', '-i', pair.server.address, '-p', String(port)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const client = await testbed.hostExec(pair.client.host, ['ip', 'netns', 'exec', pair.client.netns ?? '', 'sockperf', 'ping-pong', '-i', pair.server.address, '-p', String(port), '-t', String(SECONDS), '-m', '64']);
  // The hand server has no end of its own: stopped by its PID, found by its port.
  await testbed.hostExec(pair.server.host, ['sh', '-c', `for pid in $(pgrep -f "sockperf sr -i ${pair.server.address} -p ${port}"); do kill "$pid"; done`]);
  await server.catch(() => undefined);
  return parseSockperfLatency(client.stdout, { fullRtt: false }).avgUs;
}

type LaunchMode = 'none' | 'bridge' | 'macvlan' | 'vxlan';
const LAUNCH_MODES: readonly LaunchMode[] = ['none', 'bridge', 'macvlan', 'vxlan'];

/** What each mode builds once before its containers, by hand: the bridge (and VXLAN device), or macvlan's anchor. */
const HAND_SETUP: Record<LaunchMode, string[]> = {
  none: [],
  bridge: ['ip link add hbr0 type bridge && ip addr add 198.19.200.1/24 dev hbr0 && ip link set hbr0 up'],
  vxlan: ['ip link add hbr0 mtu 1450 type bridge && ip addr add 198.19.200.1/24 dev hbr0 && ip link set hbr0 up', 'ip link add hvx0 type vxlan id 4242 dstport 4790 dev eth0 nolearning && ip link set hvx0 up'],
  // macvlan has no gateway: like cnlab's timed apply, each container pings an anchor container on the host.
  macvlan: ['ip netns add hand0 && ip -n hand0 link set lo up', 'ip link add eth0 link eth0 netns hand0 type macvlan mode bridge', 'ip -n hand0 addr add 198.19.200.254/24 dev eth0 && ip -n hand0 link set eth0 up'],
};

/** The per-container link, by hand: a veth on the bridge, or a macvlan made inside the namespace (as cnlab does). */
function handLink(mode: LaunchMode): string {
  if (mode === 'macvlan') return '  ip link add eth0 link eth0 netns hand$i type macvlan mode bridge';
  const mtu = mode === 'vxlan' ? ' mtu 1450' : '';
  return `  printf "link add hv$i${mtu} type veth peer name eth0 netns hand$i${mtu}\\nlink set hv$i master hbr0\\nlink set hv$i up\\n" | ip -batch -`;
}

/**
 * The hand-written launch script of one mode: the same per-container commands as cnlab's timed apply
 * (one `ip` call per step, the gratuitous ARP in the background, ping until the first reply from the
 * gateway, or from the anchor on macvlan; none is the namespace alone), each container timed with
 * bash's $EPOCHREALTIME (no fork, so the clock costs the hand script as little as the console's).
 */
function handLaunchScript(mode: LaunchMode, containers: number): string {
  const target = mode === 'macvlan' ? '198.19.200.254' : '198.19.200.1';
  const perContainer = mode === 'none'
    ? ['  ip netns add hand$i && ip -n hand$i link set lo up']
    : [
        '  ip netns add hand$i && ip -n hand$i link set lo up',
        handLink(mode),
        '  ip -n hand$i addr add 198.19.200.$((i+1))/24 dev eth0',
        '  ip -n hand$i link set eth0 up',
        '  ( nsenter --net=/run/netns/hand$i arping -q -U -c 1 -I eth0 198.19.200.$((i+1)) </dev/null >/dev/null 2>&1 & )',
        `  until nsenter --net=/run/netns/hand$i ping -n -q -c 1 -W 1 ${target} >/dev/null 2>&1; do sleep 0.02; done`,
      ];
  return [
    'set -e',
    ...HAND_SETUP[mode],
    `for i in $(seq 1 ${containers}); do`,
    '  t0=$EPOCHREALTIME',
    ...perContainer,
    '  t1=$EPOCHREALTIME',
    '  echo launch $(( (${t1/./} - ${t0/./}) ))',
    'done',
    // The arpings are ours and linger a second: end them so the namespaces (and links) go at once.
    `for i in $(seq 0 ${containers}); do [ -e /run/netns/hand$i ] || continue; ip netns pids hand$i | xargs -r kill -KILL; ip netns del hand$i; done`,
    'ip link del hbr0 2>/dev/null || true',
    'ip link del hvx0 2>/dev/null || true',
  ].join('\n');
}

async function benchLaunch(testbed: Testbed, fixture: ServiceFixture, labs: LabService, rawRoot: string): Promise<string[]> {
  const CONTAINERS = 5;
  const median = (values: readonly number[]): number => summarise(values).median;
  const rows: string[] = [];
  for (const mode of LAUNCH_MODES) {
    const launches = await pairedRounds(
      ALTERNATIONS,
      async () => {
        const { ctx } = recordingContext(fixture.service, { rawRoot });
        const measured = await runLaunch(ctx, { params: launchParamsSchema.parse({ tool: 'launch', containers: CONTAINERS }), labs, network: { name: 'net', mode }, labId: 'benchlaunch', addressPool: '198.19.0.0/16', host: 'h1', peerHost: null });
        return median(measured.rawSamples?.launchMs ?? []);
      },
      async () => {
        const hand = await testbed.hostExec('h1', ['bash', '-c', handLaunchScript(mode, CONTAINERS)]);
        if (hand.code !== 0) throw new Error(`hand launch script (${mode}) failed: ${hand.stderr.trim()}`);
        return median(hand.stdout.split('\n').filter((line) => line.startsWith('launch ')).map((line) => Number(line.split(' ')[1]) / 1000));
      },
    );
    rows.push(ratioLine(`launch time, ${mode}, median of ${CONTAINERS} containers per round, ${ALTERNATIONS} rounds`, launches, 'ms', 1, '±10%'));
  }
  return rows;
}

/** CPU ticks of every process of a testbed host (its own pid namespace), children reaped included. */
async function hostTicks(testbed: Testbed, host: string): Promise<number> {
  const result = await testbed.hostExec(host, ['sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null']);
  let ticks = 0;
  for (const line of result.stdout.split('\n')) {
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14-17 of stat, 12-15 after the command.
    ticks += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
  }
  return ticks;
}

async function benchConsoleCpu(testbed: Testbed, fixture: ServiceFixture, pair: Pair, rawRoot: string): Promise<string> {
  const WINDOW_S = 20;
  const hz = Number((await testbed.hostExec('h1', ['getconf', 'CLK_TCK'])).stdout.trim()) || 100;
  const quietStart = await hostTicks(testbed, 'h1');
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000));
  const quiet = (await hostTicks(testbed, 'h1')) - quietStart;
  // A console run with nothing but its own machinery: the host sampler and one idle command over SSH.
  const { ctx } = recordingContext(fixture.service, { rawRoot });
  const start = await hostTicks(testbed, 'h1');
  const sampler = startHostSampler(ctx, 'h1', { interfacePrefixes: ['c'] });
  await runAt(ctx, pair.server, ['sleep', String(WINDOW_S)]);
  await sampler.stop();
  const busy = (await hostTicks(testbed, 'h1')) - start;
  const percent = (((busy - quiet) / hz) * 100) / WINDOW_S;
  return `| console CPU on a measured host during a run (sampler + SSH session), ${WINDOW_S} s | ${percent.toFixed(2)} % of one core | quiet interval ${(((quiet / hz) * 100) / WINDOW_S).toFixed(2)} % | | < 1% |`;
}

export async function benchExperiment(): Promise<string> {
  const testbed = await startTestbed({ hosts: 2 });
  const fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  const rawRoot = mkdtempSync(join(tmpdir(), 'cnlab-bench-raw-'));
  const rows: string[] = [];
  try {
    const applied = await labs.apply(testTopology('name: fidelity\nhosts: [h1, h2]\nnetworks:\n  - { name: net, mode: macvlan }\ncontainers:\n  - { name: srv, host: h1, networks: [net] }\n  - { name: cli, host: h2, networks: [net] }\n'));
    const endpoint = (name: string): Endpoint => {
      const container = applied.record.containers.find((candidate) => candidate.name === name);
      return { name, host: container?.host ?? '', netns: container?.netns ?? null, address: container?.interfaces[0]?.address?.split('/')[0] ?? '' };
    };
    const pair: Pair = { server: endpoint('srv'), client: endpoint('cli') };
    let port = 6100;
    const { ctx } = recordingContext(fixture.service, { firstPort: 6000, rawRoot });
    const iperfParams = iperf3ParamsSchema.parse({ tool: 'iperf3', duration: SECONDS });
    const throughput = await pairedRounds(
      ALTERNATIONS,
      async () => (await runIperf3(ctx, { params: iperfParams, ...pair })).metrics.throughputBitsPerSecond ?? NaN,
      () => handIperf3(testbed, pair, port++),
    );
    const sockParams = sockperfParamsSchema.parse({ tool: 'sockperf', duration: SECONDS, messageSize: 64, fullLog: false });
    const latency = await pairedRounds(
      LATENCY_ROUNDS,
      async () => (await runSockperf(ctx, { params: sockParams, ...pair })).metrics.latencyMeanUs ?? NaN,
      () => handSockperf(testbed, pair, port++),
    );
    rows.push(ratioLine(`iperf3 TCP ${SECONDS} s, macvlan h2 → h1, ${ALTERNATIONS} rounds`, throughput, 'Gbit/s', 1e9, '±3%'));
    rows.push(ratioLine(`sockperf UDP ping-pong 64 B ${SECONDS} s, mean latency, ${LATENCY_ROUNDS} rounds`, latency, 'µs', 1, '±5%'));
    rows.push(...(await benchLaunch(testbed, fixture, labs, rawRoot)));
    rows.push(await benchConsoleCpu(testbed, fixture, pair, rawRoot));
    await labs.teardown('fidelity');
  } finally {
    rmSync(rawRoot, { recursive: true, force: true });
    await fixture.dispose();
    await testbed.teardown();
  }
  return [
    '## Experiment engine fidelity (issue 4)',
    '',
    'The same two containers (macvlan, h2 → h1 on a 2-host testbed) measured by the console (the executors, with the host',
    'sampler running as in a real run) and by hand (the same tool command run directly on the host), alternating after a',
    'warm-up round, in ABBA order; medians of each side and the median (range) of the per-round ratios. Launch time: the console\'s timed apply against a hand-written on-host script',
    'doing the same per-container steps for none, bridge, macvlan and vxlan (namespace; then the link: veth and bridge port, or macvlan; address, link up, ping until the first',
    'reply from the gateway, or on macvlan from an anchor container).',
    '',
    '| what | console | by hand | ratio | target |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The shipped quick and launch experiments run as they are; their tables go into BENCHMARKS.md and the notes. */
export async function benchExampleExperiments(): Promise<string> {
  const testbed = await startTestbed({ hosts: 2 });
  const fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  const labs = new LabService(fixture.service, fixture.workspaceDir);
  const experiments = new ExperimentService(fixture.service, labs, fixture.workspaceDir);
  const sections: string[] = [];
  try {
    for (const file of ['experiment-quick-throughput.yaml', 'experiment-launch-time.yaml', 'experiment-scalability.yaml']) {
      const started = performance.now();
      const record = await experiments.start(await experiments.readExperiment(join(__dirname, '..', '..', 'examples', file)));
      const details = await experiments.show(record.runId);
      const tables = [cellTable(details.cells), launchTable(details.cells) ?? ''].join('\n');
      sections.push(`### examples/${file} — ${record.state} in ${((performance.now() - started) / 1000).toFixed(0)} s`, '', '```', tables.trim(), '```', '');
    }
  } finally {
    await fixture.dispose();
    await testbed.teardown();
  }
  return ['## Example experiments on the testbed (issue 4)', '', 'Run as shipped on a 2-host testbed on this machine (all hosts share its CPUs, so absolute figures are this machine\'s).', '', ...sections].join('\n');
}
