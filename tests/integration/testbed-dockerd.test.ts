// A private dockerd inside testbed hosts (src-main/core/testbed/dockerd.ts) on the real kernel: containers on it
// reach each other, two hosts run one each at once, and stop(), a host restart and the testbed's teardown leave no
// process, mount, bridge, firewall rule or cgroup behind.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { run } from '../../src-main/core/testbed/exec.ts';
import { isAlive } from '../../src-main/core/testbed/state.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';

const DOCKER = 'docker -H unix:///run/docker.sock';

async function inHost(testbed: Testbed, host: string, script: string): Promise<string> {
  const result = await testbed.hostExec(host, ['sh', '-c', script]);
  expect(result.code, `${script}\n${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

/** A registry-free image: /usr/bin/sleep of the host with its libraries, plus an empty /tmp. */
const IMPORT_IMAGE = [
  'set -eu',
  'R=$(mktemp -d)',
  "files=$( (echo /usr/bin/sleep; ldd /usr/bin/sleep | grep -o '/[^ ]*'; echo /lib64/ld-linux-x86-64.so.2) | sort -u)",
  'mkdir -p "$R/tmp" && chmod 1777 "$R/tmp"',
  'cp -L --parents $files "$R/"',
  `tar -C "$R" -cf - . | ${DOCKER} import --change 'CMD ["/usr/bin/sleep","infinity"]' - cnlab-test:1 >/dev/null`,
  'rm -rf "$R"',
].join('\n');

/** Docker's processes in a host's pid namespace (containers have their own), read from the machine's /proc. */
function dockerProcessesIn(pid1: number): string[] {
  const namespace = readlinkSync(`/proc/${pid1}/ns/pid`);
  const found: string[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== namespace) continue;
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (/^(dockerd|containerd.*|docker-proxy|runc)$/.test(comm)) found.push(`${comm} ${entry}`);
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

/** The testbed's cgroup directories in the machine's hierarchies, found independently of the module. */
async function testbedCgroups(testbed: Testbed): Promise<string[]> {
  const { stdout } = await run('find', ['/sys/fs/cgroup', '-type', 'd', '-name', `cnl${testbed.id}-*`]);
  return stdout.split('\n').filter(Boolean);
}

/** Root-namespace pids of a host's containers, from their cgroups (cgroup.procs read inside the host would show the host's pids). */
async function containerPidsIn(testbed: Testbed, host: string): Promise<number[]> {
  const pattern = `*/cnl${testbed.id}-${host}-docker-*/*/cgroup.procs`;
  const { stdout } = await run('sh', ['-c', `cat $(find /sys/fs/cgroup/pids -path '${pattern}')`]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** What a host shows of Docker's traces: mounts, bridges, firewall and forwarding. */
function hostTraces(testbed: Testbed, host: string): Promise<string> {
  return inHost(
    testbed,
    host,
    [
      "grep -E ' (/run/cnlab-docker|/etc/docker|/sys/fs/cgroup)' /proc/self/mounts || true",
      'ls /run',
      'ip -br link',
      // Tables that exist but hold no rule and only ACCEPT policies are the same as no table.
      "iptables-save | grep -v -E '^(#|COMMIT$|[*]|:[A-Z]+ ACCEPT)' || true",
      'cat /proc/sys/net/ipv4/ip_forward',
    ].join('; echo --; '),
  );
}

function etcDocker(): string[] {
  try {
    return readdirSync('/etc/docker').sort();
  } catch {
    return ['(none)'];
  }
}

describe('a private dockerd in one host', () => {
  let testbed: Testbed | undefined;

  beforeAll(async () => {
    testbed = await startTestbed({ hosts: 1 });
  });

  afterAll(async () => {
    await testbed?.teardown();
  });

  it('runs containers that reach each other, and stop() leaves nothing behind', async () => {
    const bed = testbed as Testbed;
    const pid1 = bed.host('h1').pid1;
    const before = await hostTraces(bed, 'h1');
    const etcBefore = etcDocker();
    const dockerd: HostDockerd = await startHostDockerd(bed, 'h1');
    expect(dockerd).toMatchObject({ host: 'h1', socket: '/run/docker.sock' });
    expect(isAlive(dockerd.pid)).toBe(true);
    expect(readFileSync(`/proc/${dockerd.pid}/comm`, 'utf8').trim()).toBe('dockerd');

    await inHost(bed, 'h1', `${DOCKER} network create --internal --subnet 198.19.7.0/24 n1`);
    await inHost(bed, 'h1', IMPORT_IMAGE);
    await inHost(bed, 'h1', `${DOCKER} run -d --name c1 --network n1 --ip 198.19.7.11 cnlab-test:1`);
    await inHost(bed, 'h1', `${DOCKER} run -d --name c2 --network n1 --ip 198.19.7.12 cnlab-test:1`);
    const ping = await inHost(bed, 'h1', `nsenter -t $(${DOCKER} inspect -f '{{.State.Pid}}' c1) -n ping -c1 -W1 198.19.7.12`);
    expect(ping).toContain('1 received');
    expect(await testbedCgroups(bed)).not.toEqual([]);
    const containerPids = await containerPidsIn(bed, 'h1');
    expect(containerPids).toHaveLength(2);
    expect(containerPids.every((pid) => isAlive(pid))).toBe(true);

    await dockerd.stop();
    await dockerd.stop();
    expect(dockerProcessesIn(pid1)).toEqual([]);
    expect(containerPids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(await testbedCgroups(bed)).toEqual([]);
    expect(await hostTraces(bed, 'h1')).toBe(before);
    expect(etcDocker()).toEqual(etcBefore);

    await bed.teardown();
    expect(await testbedCgroups(bed)).toEqual([]);
  });
});

describe('private dockerds in two hosts', () => {
  let testbed: Testbed | undefined;

  beforeAll(async () => {
    testbed = await startTestbed({ hosts: 2 });
  });

  afterAll(async () => {
    await testbed?.teardown();
  });

  it('both answer at once, each on its own socket inside its own host', async () => {
    const bed = testbed as Testbed;
    const daemons = await Promise.all(['h1', 'h2'].map((host) => startHostDockerd(bed, host)));
    expect(daemons.map((daemon) => daemon.host)).toEqual(['h1', 'h2']);
    expect(daemons[0]?.pid).not.toBe(daemons[1]?.pid);
    // The daemon reports the hostname of the UTS namespace it runs in.
    for (const host of ['h1', 'h2']) {
      expect(await inHost(bed, host, `${DOCKER} version -f '{{.Server.Version}}' >/dev/null && ${DOCKER} info -f '{{.Name}}'`)).toBe(host);
    }
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    for (const host of ['h1', 'h2']) expect(dockerProcessesIn(bed.host(host).pid1)).toEqual([]);
    expect(await testbedCgroups(bed)).toEqual([]);
  });

  it('refuses a second daemon in the same host', async () => {
    const bed = testbed as Testbed;
    const dockerd = await startHostDockerd(bed, 'h1');
    await expect(startHostDockerd(bed, 'h1')).rejects.toThrow(/already runs a private dockerd/);
    expect(isAlive(dockerd.pid)).toBe(true);
    await dockerd.stop();
  });

  it('cleans a daemon whose host restarted, and one left running at teardown', async () => {
    const bed = testbed as Testbed;
    const restarted = await startHostDockerd(bed, 'h1');
    const forgotten = await startHostDockerd(bed, 'h2');
    for (const host of ['h1', 'h2']) {
      await inHost(bed, host, IMPORT_IMAGE);
      await inHost(bed, host, `${DOCKER} run -d --name c1 cnlab-test:1`);
    }
    await bed.restartHost('h1');
    expect(isAlive(restarted.pid)).toBe(false);
    await restarted.stop();
    expect((await testbedCgroups(bed)).filter((path) => path.includes(`cnl${bed.id}-h1-`))).toEqual([]);
    expect(isAlive(forgotten.pid)).toBe(true);
    await bed.teardown();
    expect(isAlive(forgotten.pid)).toBe(false);
    expect(await testbedCgroups(bed)).toEqual([]);
    await forgotten.stop();
  });
});
