// Tests of the parts of the testbed's private dockerd that need no root: its daemon.json, the cgroup mounts a
// host repeats from the machine, the shell it runs, and the cgroup walk (on a plain directory tree).
// The daemon itself runs in tests/integration/testbed-dockerd.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findCgroupDirs, hostCgroupName, removeCgroupDirs, tasksIn } from './cgroups.ts';
import { dockerdConfig, emptyScript, machineCgroupMounts, startScript, undoScript } from './dockerd.ts';

const CGROUPS_TABLE = '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t3\t1\ncpuacct\t2\t3\t1\nmemory\t4\t5\t1\nnet_cls\t5\t1\t1\nnet_prio\t5\t1\t1\n';

describe('dockerdConfig', () => {
  it('takes addresses from the lab range, a loopback resolver and the daemon cgroup', () => {
    expect(JSON.parse(dockerdConfig('cnltb0001-h1-docker-ab12'))).toEqual({
      'default-address-pools': [{ base: '198.19.0.0/16', size: 24 }],
      bip: '198.19.255.1/24',
      dns: ['127.0.0.1'],
      'cgroup-parent': 'cnltb0001-h1-docker-ab12',
    });
  });

  it('uses the pool and bridge address given', () => {
    const config = JSON.parse(dockerdConfig('x', { addressPool: '198.19.64.0/18', poolSize: 26, bip: '198.19.63.1/24' })) as Record<string, unknown>;
    expect(config['default-address-pools']).toEqual([{ base: '198.19.64.0/18', size: 26 }]);
    expect(config.bip).toBe('198.19.63.1/24');
  });
});

describe('machineCgroupMounts', () => {
  it('repeats a cgroup v1 layout: the tmpfs, each hierarchy by its controllers or name, and a hybrid cgroup2', () => {
    const mounts = [
      'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
      'cgroup /sys/fs/cgroup/net_cls,net_prio cgroup rw,nosuid,nodev,noexec,relatime,net_cls,net_prio 0 0',
      'cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0',
      'tmpfs /run tmpfs rw,nosuid,nodev,mode=755 0 0',
    ].join('\n');
    expect(machineCgroupMounts(mounts, CGROUPS_TABLE)).toEqual([
      { type: 'tmpfs', options: 'mode=0755', path: '/sys/fs/cgroup' },
      { type: 'cgroup', options: 'cpu', path: '/sys/fs/cgroup/cpu' },
      { type: 'cgroup', options: 'net_cls,net_prio', path: '/sys/fs/cgroup/net_cls,net_prio' },
      { type: 'cgroup', options: 'none,xattr,name=systemd', path: '/sys/fs/cgroup/systemd' },
      { type: 'cgroup2', options: '', path: '/sys/fs/cgroup/unified' },
    ]);
  });

  it('repeats a pure cgroup v2 machine as one cgroup2 mount', () => {
    const mounts = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n';
    expect(machineCgroupMounts(mounts, CGROUPS_TABLE)).toEqual([{ type: 'cgroup2', options: '', path: '/sys/fs/cgroup' }]);
  });
});

describe('host scripts', () => {
  const cgroupMounts = machineCgroupMounts('cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n', CGROUPS_TABLE);

  it.each([
    ['start', startScript(dockerdConfig("it's"), "/tmp/cnlab-testbed/tb0001/h1/docker'd.log", cgroupMounts)],
    ['empty', emptyScript()],
    ['undo', undoScript()],
  ])('%s is valid sh', (_name, script) => {
    expect(() => execFileSync('sh', ['-n', '-c', script])).not.toThrow();
  });

  it('starts dockerd detached, offline, with its config, state and socket in the host', () => {
    const script = startScript('{}', '/log', cgroupMounts);
    expect(script).toContain('DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid dockerd --config-file "$D/daemon.json"');
    expect(script).toContain('-H unix:///run/docker.sock </dev/null >>\'/log\' 2>&1 &');
    expect(script).toContain("mount -t cgroup -o 'cpu' cgroup '/sys/fs/cgroup/cpu'");
  });
});

describe('cgroup directories', () => {
  let root = '';

  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function tree(paths: string[]): string {
    root = mkdtempSync(join(tmpdir(), 'cnlab-cgroups-'));
    for (const path of paths) mkdirSync(join(root, path), { recursive: true });
    return root;
  }

  it('names a daemon cgroup after the run, the host and the daemon', () => {
    expect(hostCgroupName('cnltb0001', 'h2', 'ab12')).toBe('cnltb0001-h2-docker-ab12');
  });

  it('finds matching directories at any depth, without their subdirectories or symlinked hierarchies', () => {
    const dir = tree(['cpu/cnltb0001-h1-docker-a/c1', 'memory/sandbox/abc/cnltb0001-h1-docker-a/c1', 'memory/cnltb0002-h1-docker-b', 'pids/other']);
    symlinkSync(join(dir, 'cpu'), join(dir, 'cpuacct'));
    const found = findCgroupDirs((name) => name.startsWith('cnltb0001-'), dir).map((path) => path.slice(dir.length + 1));
    expect(found.sort()).toEqual(['cpu/cnltb0001-h1-docker-a', 'memory/sandbox/abc/cnltb0001-h1-docker-a']);
  });

  it('lists the tasks of a cgroup and its children', () => {
    const dir = tree(['x/c1', 'x/c2']);
    writeFileSync(join(dir, 'x/c1/cgroup.procs'), '12\n13\n');
    writeFileSync(join(dir, 'x/c2/cgroup.procs'), '13\n14\n');
    expect(tasksIn([join(dir, 'x')]).sort()).toEqual([12, 13, 14]);
  });

  it('removes trees depth-first', async () => {
    const dir = tree(['cpu/cnltb0001-h1-docker-a/c1/inner', 'cpu/cnltb0001-h1-docker-a/c2']);
    expect(await removeCgroupDirs([join(dir, 'cpu/cnltb0001-h1-docker-a'), join(dir, 'gone')])).toEqual([]);
    expect(findCgroupDirs(() => true, dir).map((path) => path.slice(dir.length + 1))).toEqual(['cpu']);
  });
});
