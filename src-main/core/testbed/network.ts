// The testbed's network: a /24 from 198.18.0.0/16 (198.19/16 stays free for lab pools), a switch namespace with a bridge, one namespace per host.
// The runner reaches the lab through one veth in the root namespace; hosts get no default route, ever.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from './exec.ts';
import { BASE_DIR, type TestbedState } from './state.ts';

/** An address outside the lab that must stay unreachable from inside every host. */
const OFF_LAB_PROBE = '192.0.2.1';
const CLAIM_SUFFIX = '.claim';

interface Cidr {
  base: number;
  bits: number;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
}

function parseCidr(text: string, defaultBits = 32): Cidr | undefined {
  const [address, bits] = text.split('/');
  const base = address === undefined ? undefined : parseIpv4(address);
  if (base === undefined) return undefined;
  return { base, bits: bits === undefined ? defaultBits : Number(bits) };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

/** Every IPv4 prefix the root namespace already routes or owns (any table). */
async function prefixesInUse(): Promise<Cidr[]> {
  const routes = JSON.parse(await runOk('ip', ['-4', '-j', 'route', 'show', 'table', 'all'])) as { dst?: string }[];
  const addresses = JSON.parse(await runOk('ip', ['-4', '-j', 'addr'])) as {
    addr_info?: { local?: string; prefixlen?: number }[];
  }[];
  const found: Cidr[] = [];
  for (const route of routes) {
    const cidr = route.dst === 'default' ? undefined : parseCidr(route.dst ?? '');
    if (cidr) found.push(cidr);
  }
  for (const link of addresses) {
    for (const info of link.addr_info ?? []) {
      const cidr = parseCidr(`${info.local ?? ''}/${info.prefixlen ?? 32}`);
      if (cidr) found.push(cidr);
    }
  }
  return found;
}

function claimPath(prefix24: string): string {
  return join(BASE_DIR, `subnet-${prefix24}.0${CLAIM_SUFFIX}`);
}

/**
 * Picks a random unused /24 (as "198.18.x") and claims it with an exclusive file, so two testbeds starting at the
 * same moment cannot both take it: the routing table alone would show nothing until one of them adds its veth.
 */
export async function claimSubnet(id: string): Promise<{ prefix24: string; claim: string }> {
  const inUse = await prefixesInUse();
  for (let attempt = 0; attempt < 64; attempt += 1) {
    // Hosts live in 198.18.0.0/16; 198.19.0.0/16 is left whole for the labs' address pools.
    const second = 18;
    const third = Math.floor(Math.random() * 256);
    const prefix24 = `198.${second}.${third}`;
    const candidate = parseCidr(`${prefix24}.0/24`);
    if (!candidate || inUse.some((used) => overlaps(used, candidate))) continue;
    const claim = claimPath(prefix24);
    try {
      writeFileSync(claim, `${id}\n`, { flag: 'wx', mode: 0o644 });
      return { prefix24, claim };
    } catch {
      continue;
    }
  }
  throw new Error('testbed: no free /24 found in 198.18.0.0/15');
}

export function releaseClaim(claim: string | undefined, id: string): void {
  if (!claim) return;
  try {
    if (readFileSync(claim, 'utf8').trim() === id) rmSync(claim, { force: true });
  } catch {
    // Already gone.
  }
}

/** Claims whose run directory is gone: left by a run that crashed between claiming and cleaning up. */
export function sweepOrphanClaims(): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(BASE_DIR);
  } catch {
    return removed;
  }
  for (const name of names.filter((entry) => entry.endsWith(CLAIM_SUFFIX))) {
    const path = join(BASE_DIR, name);
    try {
      const id = readFileSync(path, 'utf8').trim();
      if (!/^tb[0-9a-f]{4}$/.test(id) || !dirExists(join(BASE_DIR, id))) {
        rmSync(path, { force: true });
        removed.push(path);
      }
    } catch {
      // Raced with its owner removing it.
    }
  }
  return removed;
}

function dirExists(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

function ipBatch(lines: string[], netns?: string): Promise<string> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return runOk('ip', args, { input: `${lines.join('\n')}\n` });
}

function rootCommands(state: TestbedState): string[] {
  const subnetBits = state.subnet?.split('/')[1] ?? '24';
  return [
    `netns add ${state.switchNetns}`,
    ...state.hosts.map((host) => `netns add ${host.netns}`),
    `link add ${state.runnerLink} type veth peer name runner netns ${state.switchNetns}`,
    `addr add ${state.runnerAddress}/${subnetBits} dev ${state.runnerLink}`,
    `link set ${state.runnerLink} up`,
  ];
}

function switchCommands(state: TestbedState): string[] {
  return [
    'link set lo up',
    // No STP: ports forward at once instead of after the 15 s learning delay.
    'link add br0 type bridge stp_state 0',
    'link set br0 up',
    'link set runner master br0',
    'link set runner up',
    ...state.hosts.flatMap((host) => [
      `link add ${host.switchPort} type veth peer name eth0 netns ${host.netns}`,
      `link set ${host.switchPort} master br0`,
      `link set ${host.switchPort} up`,
    ]),
  ];
}

function hostCommands(address: string, subnetBits: string): string[] {
  return ['link set lo up', `addr add ${address}/${subnetBits} dev eth0`, 'link set eth0 up'];
}

/** Creates namespaces, bridge, veths and addresses. The state must already be on disk (for cleanup). */
export async function createNetwork(state: TestbedState): Promise<void> {
  const subnetBits = state.subnet?.split('/')[1] ?? '24';
  await ipBatch(rootCommands(state));
  await ipBatch(switchCommands(state), state.switchNetns);
  await Promise.all(state.hosts.map((host) => ipBatch(hostCommands(host.address, subnetBits), host.netns)));
}

/** Refuses a testbed whose lab traffic could leave the lab, or whose hosts could reach anything beyond it. */
export async function assertIsolation(state: TestbedState): Promise<void> {
  for (const host of state.hosts) {
    const routes = JSON.parse(await runOk('ip', ['-j', 'route', 'get', host.address])) as { dev?: string }[];
    if (routes[0]?.dev !== state.runnerLink) {
      throw new Error(`testbed guard: ${host.address} routes via ${routes[0]?.dev ?? '?'}, not ${state.runnerLink}`);
    }
  }
  await Promise.all(
    state.hosts.map(async (host) => {
      const probe = await run('ip', ['-n', host.netns, 'route', 'get', OFF_LAB_PROBE]);
      if (probe.code === 0 || !/Network is unreachable/.test(probe.stderr)) {
        throw new Error(`testbed guard: ${host.name} can route to ${OFF_LAB_PROBE}: ${probe.stdout}${probe.stderr}`);
      }
    }),
  );
}

export async function listNetns(): Promise<string[]> {
  const result = await run('ip', ['-j', 'netns', 'list']);
  if (result.code !== 0 || result.stdout.trim() === '') return [];
  return (JSON.parse(result.stdout) as { name: string }[]).map((entry) => entry.name);
}

export async function listRootLinks(): Promise<string[]> {
  const links = JSON.parse(await runOk('ip', ['-j', 'link'])) as { ifname: string }[];
  return links.map((link) => link.ifname);
}

/** Pids of every process whose network namespace is `netns` (whoever started it, it belongs to the lab). */
export async function pidsInNetns(netns: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', netns]);
  if (result.code !== 0) return [];
  return result.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Deletes a root-namespace link if it exists (a veth's peer goes with it). */
export async function deleteRootLink(name: string): Promise<void> {
  if ((await listRootLinks()).includes(name)) await run('ip', ['link', 'del', name]);
}

/** Deletes the named namespaces that still exist; missing ones are fine. */
export async function deleteNetns(namespaces: readonly string[]): Promise<void> {
  const existing = new Set(await listNetns());
  const doomed = namespaces.filter((name) => existing.has(name));
  if (doomed.length === 0) return;
  await run('ip', ['-force', '-batch', '-'], { input: `${doomed.map((name) => `netns del ${name}`).join('\n')}\n` });
}
