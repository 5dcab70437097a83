// Orchestration at scale (issue 10): apply + verify of N bridge containers, N = 10 / 100 / 400, on one
// testbed host and spread over 3, against the floor (the same kernel objects, addresses and pings as one
// hand-written script run on each host) and the naive way (the same commands, one SSH exec each); and
// against two peers on the same host: Mininet building and tearing down `single,N` with Linux bridges,
// and the Docker CLI starting the same containers one `docker run` at a time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostExecutor } from '../../src-main/core/exec/executor';
import { startHostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import type { LabPlan } from '../../src-main/core/topology/plan';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts.ts';
import { formatSummary, summarise, type Summary } from './stats.ts';

/** CNLAB_BENCH_SIZES=10 CNLAB_BENCH_ROUNDS=1 try the bench quickly; BENCHMARKS.md has 10, 100 and 400 with the rounds below. */
const SIZES: readonly number[] = process.env.CNLAB_BENCH_SIZES?.split(',').map(Number) ?? [10, 100, 400];
const ROUNDS: Record<number, number> = { 10: 7, 100: 5, 400: 3 };
const HOSTS = ['h1', 'h2', 'h3'];
/** Pings in flight at once, as cnlab's verify script. */
const PARALLEL_PINGS = 32;
/** Mininet's addresses: its own block, never used by a lab. */
const MININET_IPBASE = '198.19.248.0/21';
/** The Docker peer's rounds per size: 400 `docker run`s take minutes on this machine, so once. */
const DOCKER_ROUNDS: Record<number, number> = { 10: 3, 100: 3, 400: 1 };

/** N containers split over hosts as evenly as they go (the first hosts take the remainder). */
function spread(count: number, hosts: readonly string[]): [string, number][] {
  return hosts.map((host, index) => [host, Math.floor(count / hosts.length) + (index < count % hosts.length ? 1 : 0)]);
}

/**
 * cnlab gives each host a /24 block per bridge network (253 containers), so a host with more holds
 * them on several bridge networks of at most this many containers each.
 */
const PER_NETWORK = 200;

function bridgeLab(name: string, counts: readonly [string, number][], runtime: 'netns' | 'docker' = 'netns'): string {
  const used = counts.filter(([, count]) => count > 0);
  const networks = Math.max(1, ...used.map(([, count]) => Math.ceil(count / PER_NETWORK)));
  const groups = used.flatMap(([host, count]) =>
    Array.from({ length: Math.ceil(count / PER_NETWORK) }, (_, index) => `  - { name: ${host}${'abcdefgh'[index]}, count: ${Math.min(PER_NETWORK, count - index * PER_NETWORK)}, host: ${host}, networks: [lan${index + 1}] }`),
  );
  return [
    'v: 1',
    `name: ${name}`,
    ...(runtime === 'docker' ? ['runtime: docker'] : []),
    `hosts: [${used.map(([host]) => host).join(', ')}]`,
    'networks:',
    ...Array.from({ length: networks }, (_, index) => `  - { name: lan${index + 1}, mode: bridge }`),
    'containers:',
    ...groups,
  ].join('\n');
}

/** What the floor and the naive way build on one host: cnlab's own addresses and pings, their own names. */
interface HandLab {
  host: string;
  /** One bridge per network, with its address (the block's .1) in CIDR form. */
  bridges: { name: string; gateway: string }[];
  containers: { netns: string; address: string; cidr: string; bridge: string }[];
  pings: { netns: string; address: string }[];
}

const dotted = (value: number): string => [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');

/** The block of an address in CIDR form: its network address and its .1 (cnlab's gateway), both with the prefix. */
function blockOf(cidr: string): { network: string; gateway: string } {
  const [address = '', prefix = '24'] = cidr.split('/');
  const value = address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  const mask = Number(prefix) === 0 ? 0 : (0xffffffff << (32 - Number(prefix))) >>> 0;
  const base = (value & mask) >>> 0;
  return { network: `${dotted(base)}/${prefix}`, gateway: `${dotted(base + 1)}/${prefix}` };
}

/** The hand-written labs of a plan, one per host: the same addresses, routes and verify pings. */
function handLabs(plan: LabPlan): HandLab[] {
  const names = new Map<string, string>();
  const labs = new Map<string, HandLab>();
  for (const container of plan.containers) {
    const cidr = container.interfaces[0]?.address ?? '';
    const netns = `hand${names.size + 1}`;
    names.set(container.name, netns);
    const lab = labs.get(container.host) ?? { host: container.host, bridges: [], containers: [], pings: [] };
    const gateway = blockOf(cidr).gateway;
    let bridge = lab.bridges.find((candidate) => candidate.gateway === gateway);
    if (!bridge) lab.bridges.push((bridge = { name: `hbr${lab.bridges.length}`, gateway }));
    lab.containers.push({ netns, address: cidr.split('/')[0] ?? '', cidr, bridge: bridge.name });
    labs.set(container.host, lab);
  }
  const hostOf = new Map(plan.containers.map((container) => [container.name, container.host]));
  for (const expectation of plan.expectations) {
    const netns = names.get(expectation.from);
    const lab = labs.get(hostOf.get(expectation.from) ?? '');
    if (netns && lab) lab.pings.push({ netns, address: expectation.address });
  }
  return [...labs.values()];
}

/** The floor's commands for one host, in the order a person would run them. */
function handCommands(lab: HandLab): { host: string[]; inner: Map<string, string[]>; announce: string[]; pings: string[] } {
  const host = lab.bridges.flatMap(({ name, gateway }) => [`link add ${name} type bridge`, `addr add ${gateway} dev ${name}`, `link set ${name} up`]);
  const inner = new Map<string, string[]>();
  const announce: string[] = [];
  lab.containers.forEach(({ netns, address, cidr, bridge }, index) => {
    host.push(`netns add ${netns}`, `link add hv${index} type veth peer name eth0 netns ${netns}`, `link set hv${index} master ${bridge}`, `link set hv${index} up`);
    // No default route, as cnlab's bridge containers: a ping to another host's block fails at once.
    inner.set(netns, ['link set lo up', `addr add ${cidr} dev eth0`, 'link set eth0 up']);
    // In a subshell, so `wait` for the pings does not wait for arping's lingering second too.
    announce.push(`( nsenter --net=/run/netns/${netns} arping -q -U -c 1 -I eth0 ${address} </dev/null >/dev/null 2>&1 & )`);
  });
  const pings = lab.pings.map(({ netns, address }) => `ip netns exec ${netns} ping -n -c 1 -W 1 -q ${address} >/dev/null 2>&1`);
  return { host, inner, announce, pings };
}

/** The floor: one script per host, timed on the host (bash's clock); prints its milliseconds and replies. */
function floorScript(lab: HandLab): string {
  const { host, inner, announce, pings } = handCommands(lab);
  const lines = ['t0=$EPOCHREALTIME', `ip -batch - <<'EOF'\n${host.join('\n')}\nEOF`];
  for (const [netns, batch] of inner) lines.push(`ip -n ${netns} -batch - <<'EOF'\n${batch.join('\n')}\nEOF`);
  lines.push(...announce, 'replies=0', 'dir=$(mktemp -d)');
  pings.forEach((ping, index) => {
    lines.push(`{ ${ping} && touch "$dir/${index}"; } &`);
    if ((index + 1) % PARALLEL_PINGS === 0) lines.push('wait');
  });
  lines.push('wait', 'replies=$(ls "$dir" | wc -l)', 'rm -rf "$dir"', 't1=$EPOCHREALTIME', 'echo floor $(( (${t1/./} - ${t0/./}) )) $replies');
  return lines.join('\n');
}

function handTeardown(lab: HandLab): string {
  // A lingering arping (ours) keeps its namespace, and so the veth, alive for a second: end it first.
  return [...lab.containers.map(({ netns }) => `ip netns pids ${netns} | xargs -r kill -KILL; ip netns del ${netns}`), ...lab.bridges.map(({ name }) => `ip link del ${name}`)].join('\n');
}

/** The naive way: each command its own SSH exec, one after the other, as a shell loop over ssh would. */
async function naive(executor: HostExecutor, lab: HandLab): Promise<number> {
  const { host, inner, announce, pings } = handCommands(lab);
  const commands = [...host.map((line) => `ip ${line}`), ...[...inner].flatMap(([netns, batch]) => batch.map((line) => `ip -n ${netns} ${line}`)), ...announce];
  for (const command of commands) {
    const result = await executor.exec(command);
    if (result.code !== 0) throw new Error(`naive: ${command}: ${result.stderr.trim()}`);
  }
  for (const ping of pings) await executor.exec(ping);
  return 0;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

interface SizeResult {
  count: number;
  rounds: number;
  floor: Summary;
  naive: Summary;
  cnlab: Summary;
  cnlabWithTeardown: Summary;
  floorSpread: Summary;
  naiveSpread: Summary;
  cnlabSpread: Summary;
  mininet: Summary;
  mininetInternal: Summary;
  replies: string;
}

interface Bench {
  testbed: Testbed;
  fixture: ServiceFixture;
  labs: LabService;
}

/** cnlab's apply + verify at the console (planning included, facts cached), then its teardown. */
async function cnlabRound(bench: Bench, yaml: string): Promise<{ applyVerify: number; teardown: number; replied: number }> {
  const spec = parseTopologyText(yaml);
  let replied = 0;
  const applyVerify = await timed(async () => {
    await bench.labs.apply(spec);
    const outcomes = await bench.labs.verify(spec.name);
    const wrong = outcomes.filter((outcome) => !outcome.ok);
    if (wrong.length > 0) throw new Error(`${spec.name}: verify found ${wrong.length} of ${outcomes.length} pairs not as expected`);
    replied = outcomes.filter((outcome) => outcome.replied).length;
  });
  const teardown = await timed(() => bench.labs.teardown(spec.name));
  return { applyVerify, teardown, replied };
}

/**
 * A bash script run on a host, sent over SSH on stdin: for 400 containers the scripts are larger than
 * one command-line argument may be (E2BIG). Timed inside (bash's clock), so the transport costs nothing.
 */
async function onHost(bench: Bench, host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const wrapped = `f=$(mktemp)\ncat > "$f" <<'CNLAB_BENCH_SCRIPT'\n${script}\nCNLAB_BENCH_SCRIPT\nbash "$f"; rc=$?; rm -f "$f"; exit $rc\n`;
  return bench.fixture.service.executor(host).runScript(wrapped, { timeoutMs: 900_000 });
}

async function floorRound(bench: Bench, labs: readonly HandLab[]): Promise<{ ms: number; replies: number }> {
  const results = await Promise.all(labs.map((lab) => onHost(bench, lab.host, floorScript(lab))));
  await Promise.all(labs.map((lab) => onHost(bench, lab.host, handTeardown(lab))));
  const figures = results.map((result) => {
    const [, micros = 'NaN', replies = '0'] = (result.stdout.trim().split('\n').pop() ?? '').split(' ');
    if (result.code !== 0) throw new Error(`floor script failed: ${result.stderr.trim()}`);
    return { ms: Number(micros) / 1000, replies: Number(replies) };
  });
  // Hosts run at once; the slowest one is when the lab is ready.
  return { ms: Math.max(...figures.map((figure) => figure.ms)), replies: figures.reduce((sum, figure) => sum + figure.replies, 0) };
}

async function naiveRound(bench: Bench, labs: readonly HandLab[]): Promise<number> {
  const ms = await timed(() => Promise.all(labs.map((lab) => naive(bench.fixture.service.executor(lab.host), lab))));
  await Promise.all(labs.map((lab) => onHost(bench, lab.host, handTeardown(lab))));
  return ms;
}

/** Mininet on h1 over SSH (its own namespaces: a killall in its cleanup reaches only the host's processes). */
async function mininetRound(bench: Bench, count: number): Promise<{ wall: number; internal: number }> {
  const command = `mn --topo single,${count} --switch lxbr --controller none --test none --ipbase ${MININET_IPBASE} 2>&1`;
  let output = '';
  const wall = await timed(async () => {
    const result = await bench.fixture.service.executor('h1').exec(command, { timeoutMs: 300_000 });
    output = result.stdout;
    if (result.code !== 0) throw new Error(`mininet: ${output.trim().split('\n').slice(-3).join(' ')}`);
  });
  const internal = /completed in ([\d.]+) seconds/.exec(output)?.[1];
  if (!internal) throw new Error(`mininet printed no completion time: ${output.trim().split('\n').slice(-3).join(' ')}`);
  return { wall, internal: Number(internal) * 1000 };
}

async function benchSize(bench: Bench, count: number): Promise<SizeResult> {
  const rounds = Number(process.env.CNLAB_BENCH_ROUNDS ?? ROUNDS[count] ?? 3);
  const one: [string, number][] = [['h1', count]];
  const three = spread(count, HOSTS);
  const onePlan = await bench.labs.plan(parseTopologyText(bridgeLab('orch1', one)));
  const threePlan = await bench.labs.plan(parseTopologyText(bridgeLab('orch3', three)));
  const handOne = handLabs(onePlan);
  const handThree = handLabs(threePlan);
  const samples = { floor: [] as number[], naive: [] as number[], cnlab: [] as number[], cnlabWithTeardown: [] as number[], floorSpread: [] as number[], naiveSpread: [] as number[], cnlabSpread: [] as number[], mininet: [] as number[], mininetInternal: [] as number[] };
  let replies = '';
  for (let round = 0; round < rounds; round += 1) {
    // Alternating sides each round, so drift on the shared machine hits them alike.
    const floor = await floorRound(bench, handOne);
    samples.floor.push(floor.ms);
    samples.naive.push(await naiveRound(bench, handOne));
    const cnlab = await cnlabRound(bench, bridgeLab('orch1', one));
    samples.cnlab.push(cnlab.applyVerify);
    samples.cnlabWithTeardown.push(cnlab.applyVerify + cnlab.teardown);
    const floorSpread = await floorRound(bench, handThree);
    samples.floorSpread.push(floorSpread.ms);
    samples.naiveSpread.push(await naiveRound(bench, handThree));
    const cnlabSpread = await cnlabRound(bench, bridgeLab('orch3', three));
    samples.cnlabSpread.push(cnlabSpread.applyVerify);
    const mininet = await mininetRound(bench, count);
    samples.mininet.push(mininet.wall);
    samples.mininetInternal.push(mininet.internal);
    replies = `one host: ${cnlab.replied} replies (floor ${floor.replies}); 3 hosts: ${cnlabSpread.replied} (floor ${floorSpread.replies})`;
  }
  return {
    count,
    rounds,
    replies,
    floor: summarise(samples.floor),
    naive: summarise(samples.naive),
    cnlab: summarise(samples.cnlab),
    cnlabWithTeardown: summarise(samples.cnlabWithTeardown),
    floorSpread: summarise(samples.floorSpread),
    naiveSpread: summarise(samples.naiveSpread),
    cnlabSpread: summarise(samples.cnlabSpread),
    mininet: summarise(samples.mininet),
    mininetInternal: summarise(samples.mininetInternal),
  };
}

interface DockerResult {
  count: number;
  rounds: number;
  cnlabNetns: Summary;
  cnlabDocker: Summary;
  dockerRun: Summary;
}

/** The Docker CLI peer: on h1 with a private engine, `docker run` of the lab image N times, one at a time. */
function dockerRunScript(plan: LabPlan, image: string): string {
  // One user-defined bridge network per block of cnlab's plan, with the same addresses.
  const networks = new Map<string, string>();
  const creates: string[] = [];
  const runs = plan.containers.map((container, index) => {
    const cidr = container.interfaces[0]?.address ?? '';
    const { network, gateway } = blockOf(cidr);
    let name = networks.get(network);
    if (!name) {
      name = `peernet${networks.size}`;
      networks.set(network, name);
      creates.push(`docker network create --label cnlab-bench=peer --subnet ${network} --gateway ${gateway.split('/')[0]} ${name} >/dev/null`);
    }
    return `docker run -d --name peer${index} --label cnlab-bench=peer --hostname ${container.name} --network ${name} --ip ${cidr.split('/')[0]} ${image} >/dev/null`;
  });
  return ['set -e', ...creates, 't0=$EPOCHREALTIME', ...runs, 't1=$EPOCHREALTIME', 'echo peer $(( (${t1/./} - ${t0/./}) ))'].join('\n');
}

const DOCKER_PEER_CLEANUP = 'ids=$(docker ps -aq --filter label=cnlab-bench=peer); [ -z "$ids" ] || docker rm -f $ids >/dev/null; nets=$(docker network ls -q --filter label=cnlab-bench=peer); [ -z "$nets" ] || docker network rm $nets >/dev/null; true';

async function benchDockerPeer(bench: Bench): Promise<DockerResult[]> {
  // No docker0, and Docker's own networks outside the labs' pool, as in the docker bench.
  const daemon = await startHostDockerd(bench.testbed, 'h1', { bip: null, addressPool: '198.18.224.0/19' });
  const results: DockerResult[] = [];
  try {
    // The engine started after the hosts were probed: probe again so the planner sees it.
    await bench.fixture.service.probe('h1');
    // The first docker apply builds the lab image on h1 (once); the peer runs the same image.
    await cnlabRound(bench, bridgeLab('orchd', [['h1', 1]], 'docker'));
    const image = (await bench.testbed.hostExec('h1', ['sh', '-c', "docker image ls cnlab-lab --format '{{.Repository}}:{{.Tag}}' | head -1"])).stdout.trim();
    if (!image) throw new Error('docker peer: cnlab built no lab image on h1');
    for (const count of SIZES) {
      const rounds = Number(process.env.CNLAB_BENCH_ROUNDS ?? DOCKER_ROUNDS[count] ?? 1);
      const plan = await bench.labs.plan(parseTopologyText(bridgeLab('orchd', [['h1', count]], 'docker')));
      const samples = { cnlabNetns: [] as number[], cnlabDocker: [] as number[], dockerRun: [] as number[] };
      for (let round = 0; round < rounds; round += 1) {
        samples.cnlabNetns.push(await timed(async () => {
          const spec = parseTopologyText(bridgeLab('orchn', [['h1', count]]));
          await bench.labs.apply(spec);
          await bench.labs.teardown(spec.name);
        }));
        const dockerSpec = parseTopologyText(bridgeLab('orchd', [['h1', count]], 'docker'));
        samples.cnlabDocker.push(await timed(() => bench.labs.apply(dockerSpec)));
        await bench.labs.teardown(dockerSpec.name);
        const peer = await onHost(bench, 'h1', dockerRunScript(plan, image));
        await onHost(bench, 'h1', DOCKER_PEER_CLEANUP);
        if (peer.code !== 0) throw new Error(`docker run peer failed: ${peer.stderr.trim()}`);
        samples.dockerRun.push(Number(peer.stdout.trim().split(' ').pop()) / 1000);
      }
      results.push({ count, rounds, cnlabNetns: summarise(samples.cnlabNetns), cnlabDocker: summarise(samples.cnlabDocker), dockerRun: summarise(samples.dockerRun) });
    }
  } finally {
    await onHost(bench, 'h1', DOCKER_PEER_CLEANUP);
    await daemon.stop();
  }
  return results;
}

const ratio = (a: Summary, b: Summary): string => `${(a.median / b.median).toFixed(2)}x`;
const seconds = (summary: Summary): string => formatSummary({ min: summary.min / 1000, median: summary.median / 1000, max: summary.max / 1000, runs: summary.runs }, 's');

function sizeRows(result: SizeResult): string[] {
  const n = result.count;
  const perHost = spread(n, HOSTS).map(([, count]) => count).join('/');
  return [
    `| ${n} | floor: one hand-written script on the host (ip -batch, ARPs, the same pings) | ${formatSummary(result.floor)} | 1.00x |`,
    `| ${n} | naive: the same commands, one SSH exec each | ${formatSummary(result.naive)} | ${ratio(result.naive, result.floor)} of floor |`,
    `| ${n} | **cnlab apply + verify**, one host | ${formatSummary(result.cnlab)} | **${ratio(result.cnlab, result.floor)} of floor**, ${ratio(result.cnlab, result.naive)} of naive |`,
    `| ${n} | floor, spread ${perHost} over 3 hosts at once (slowest host) | ${formatSummary(result.floorSpread)} | 1.00x |`,
    `| ${n} | naive, spread over 3 hosts (one exec at a time per host, hosts in parallel) | ${formatSummary(result.naiveSpread)} | ${ratio(result.naiveSpread, result.floorSpread)} of floor |`,
    `| ${n} | **cnlab apply + verify**, spread over 3 hosts | ${formatSummary(result.cnlabSpread)} | **${ratio(result.cnlabSpread, result.floorSpread)} of floor**, ${ratio(result.cnlabSpread, result.naiveSpread)} of naive |`,
    `| ${n} | Mininet \`single,${n}\` build + teardown (wall at the console; its own "completed in": ${formatSummary(result.mininetInternal)}) | ${formatSummary(result.mininet)} | cnlab apply + verify + teardown ${formatSummary(result.cnlabWithTeardown)}: **${ratio(result.cnlabWithTeardown, result.mininet)} of Mininet** |`,
  ];
}

function dockerRows(result: DockerResult): string {
  return `| ${result.count} | ${result.rounds} | ${seconds(result.dockerRun)} | ${seconds(result.cnlabNetns)} (**${ratio(result.cnlabNetns, result.dockerRun)}**) | ${seconds(result.cnlabDocker)} (**${ratio(result.cnlabDocker, result.dockerRun)}**) |`;
}

/** The peers' tools, on this machine (the testbed's hosts share its files): a missing one stops the bench at once. */
function assertPeersInstalled(): void {
  for (const [tool, fix] of [['mn', 'apt-get install mininet bridge-utils'], ['brctl', 'apt-get install bridge-utils'], ['dockerd', 'apt-get install docker.io']] as const) {
    if (!process.env.PATH?.split(':').some((dir) => existsSync(join(dir, tool)))) throw new Error(`the orchestration bench needs ${tool} for its peers: ${fix}`);
  }
}

export async function benchOrchestration(): Promise<string> {
  assertPeersInstalled();
  const testbed = await startTestbed({ hosts: 3 });
  const fixture = await openTestService(HOSTS.map((name) => testbedHost(testbed, name)));
  const bench: Bench = { testbed, fixture, labs: new LabService(fixture.service, fixture.workspaceDir) };
  const sizes: SizeResult[] = [];
  let docker: DockerResult[] = [];
  try {
    await cnlabRound(bench, bridgeLab('warm', spread(6, HOSTS)));
    for (const count of SIZES) sizes.push(await benchSize(bench, count));
    docker = await benchDockerPeer(bench);
  } finally {
    await fixture.dispose();
    await testbed.teardown();
  }
  return [
    '## Orchestration at scale, and its peers (issue 10)',
    '',
    'N bridge containers on one testbed host and spread over 3 (min / median / max; 7, 5 and 3 alternating rounds for N = 10, 100, 400). cnlab is timed at the console: planning (facts cached), apply (SSH round trips, ledger, precheck, state, gratuitous ARPs) and verify (its ping set: every pair up to 24 containers, a ring above). The floor builds the same objects with the same addresses and routes and sends the same pings, as one hand-written bash script per host timed on the host (`ip -batch`, gratuitous ARPs in the background, 32 pings at a time). The naive way sends the floor\'s commands from the console one SSH exec at a time over one connection. Target: cnlab within 1.3x of the floor.',
    '',
    '| N | what | min / median / max | ratio (median) |',
    '|---|---|---|---|',
    ...sizes.flatMap(sizeRows),
    '',
    `Above ${PER_NETWORK} containers a host holds them on several bridge networks (lan1, lan2…): cnlab gives each host a /24 block per bridge network, 253 containers at most; the floor and the naive way build the same bridges. Mininet's \`single,400\` is one switch.`,
    '',
    `Replies in the last round: ${sizes.map((size) => `N=${size.count}: ${size.replies}`).join('; ')}.`,
    '',
    `Peers. Mininet 2.3 (Debian's \`mininet\`): \`mn --topo single,N --switch lxbr --controller none --test none --ipbase ${MININET_IPBASE}\` on h1 over SSH, Linux bridge, no controller, no pings; its wall time includes Python's start. It is set against cnlab's apply + verify + teardown of the same N on one host. Docker CLI: a private Docker engine on h1 (Debian docker.io), cnlab's lab image; the peer is one \`docker run -d --network --ip\` per container into a user-defined bridge network, timed on the host; beside it cnlab's apply (no verify) of the same N, with its own namespaces and with \`runtime: docker\` (docker create + start + the namespace attached, per container, each recorded in the ledger first).`,
    '',
    '| N | rounds | `docker run` × N | cnlab apply, netns (ratio) | cnlab apply, runtime docker (ratio) |',
    '|---|---|---|---|---|',
    ...docker.map(dockerRows),
    '',
  ].join('\n');
}
