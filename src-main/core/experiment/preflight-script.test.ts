// Tests of the preflight script and its parser: the parser on output captured on this machine and on a
// testbed host (root with a busy loop and an iperf3 server, bob, ethtool present), on broken output,
// and the script run for real here against a listener and a busy child this test starts and stops.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { PREFLIGHT_MARKER, buildPreflightScript, parsePreflightOutput } from './preflight-script';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('buildPreflightScript', () => {
  it('is valid POSIX sh with and without a port range', () => {
    for (const ports of [undefined, { from: 5000, to: 5100 }]) {
      const check = spawnSync('sh', ['-n'], { input: buildPreflightScript({ tools: ['iperf3', 'sockperf'], ...(ports ? { ports } : {}) }), encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('looks up each tool as one quoted word and the port range as numbers', () => {
    const script = buildPreflightScript({ tools: ['iperf3', 'g++'], ports: { from: 5201, to: 5299 } });
    expect(script).toContain('cnlab_tool iperf3\n');
    expect(script).toContain('cnlab_tool g++\n');
    expect(script).toContain('-ge 5201');
    expect(script).toContain('-le 5299');
  });

  it('refuses tool names that are not program names and ranges that are not port ranges', () => {
    expect(() => buildPreflightScript({ tools: ['iperf3; reboot'] })).toThrow(CnlabError);
    expect(() => buildPreflightScript({ tools: ['$(id)'] })).toThrow(/not a program name/);
    expect(() => buildPreflightScript({ tools: [], ports: { from: 6000, to: 5000 } })).toThrow(/not a range of ports/);
    expect(() => buildPreflightScript({ tools: [], ports: { from: 0, to: 10 } })).toThrow(CnlabError);
    expect(() => buildPreflightScript({ tools: [], ports: { from: 1, to: 70000 } })).toThrow(CnlabError);
  });
});

describe('parsePreflightOutput on captured output', () => {
  it('reads a testbed host as root with a busy loop and an iperf3 server on port 5999', () => {
    const parsed = parsePreflightOutput(fixture('preflight-testbed-root-busy-port.out'));
    expect(parsed.complete).toBe(true);
    expect(parsed).toMatchObject({ uid: 0, user: 'root', packageManager: 'apt', cpuCount: 2, ethtool: false, governors: {} });
    expect(parsed.tools).toEqual({ iperf3: '/usr/bin/iperf3', netperf: null, ip: '/usr/sbin/ip' });
    expect(parsed.loadAverage).toHaveLength(3);
    expect(parsed.busy.self).toBeGreaterThan(1);
    expect(parsed.busy.ancestors).toContain(1);
    const loop = parsed.busy.processes.find((process) => process.command === 'sh -c while :; do :; done');
    expect(loop?.cpuPercent).toBeGreaterThan(50);
    expect(parsed.nics).toEqual([{ name: 'eth0', mtu: 1500, operstate: 'up', physical: false, role: 'management', offloads: {} }]);
    expect(parsed.listening.find((socket) => socket.port === 5999)).toEqual({ protocol: 'tcp', port: 5999, owners: [{ pid: expect.any(Number) as number, command: 'iperf3' }] });
    expect(parsed.listening.find((socket) => socket.port === 22)?.owners).toEqual([]); // outside the range: owner not looked up
  });

  it('reads an unprivileged user (bob): identity and everything readable without root', () => {
    const parsed = parsePreflightOutput(fixture('preflight-testbed-bob.out'));
    expect(parsed).toMatchObject({ uid: 1001, user: 'bob', packageManager: 'apt', complete: true });
    expect(parsed.tools.netperf).toBeNull();
    expect(parsed.nics[0]).toMatchObject({ name: 'eth0', role: 'management' });
  });

  it('reads offloads from ethtool -k and the MTU of the management NIC', () => {
    const parsed = parsePreflightOutput(fixture('preflight-testbed-ethtool-mtu1400.out'));
    expect(parsed.ethtool).toBe(true);
    expect(parsed.nics).toEqual([{ name: 'eth0', mtu: 1400, operstate: 'up', physical: false, role: 'management', offloads: { tso: 'on', gso: 'on', gro: 'off' } }]);
  });

  it('reads this machine run locally: a default-route physical NIC, a listener on both IPv4 and IPv6', () => {
    const parsed = parsePreflightOutput(fixture('preflight-local-busy-listener.out'));
    expect(parsed.nics).toEqual([{ name: 'eth0', mtu: 1400, operstate: 'up', physical: true, role: 'default', offloads: {} }]);
    expect(parsed.listening.map((socket) => `${socket.protocol}/${socket.port}`)).toEqual(['tcp/2024', 'tcp/5999']);
    expect(parsed.busy.processes).toEqual([{ pid: 17968, ppid: 17882, cpuPercent: 100, command: 'sh -c i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done' }]);
  });
});

describe('parsePreflightOutput on broken or unusual output', () => {
  const output = (body: string, end = true): string => `${PREFLIGHT_MARKER}begin 1\n${body}\n${end ? `${PREFLIGHT_MARKER}end\n` : ''}`;

  it('throws command-failed when no marker is present (the script did not run)', () => {
    expect(() => parsePreflightOutput('sh: 1: syntax error\n')).toThrow(expect.objectContaining({ code: 'command-failed' }) as Error);
  });

  it('marks output without the end marker as incomplete and keeps what came before', () => {
    const parsed = parsePreflightOutput(output(`${PREFLIGHT_MARKER}tools\ntool iperf3 /usr/bin/iperf3\n${PREFLIGHT_MARKER}cpu\nonline=0-3,6`, false));
    expect(parsed.complete).toBe(false);
    expect(parsed.tools).toEqual({ iperf3: '/usr/bin/iperf3' });
    expect(parsed.cpuCount).toBe(5);
  });

  it('ignores garbled lines, offloads of unlisted NICs, and a comm name with spaces stays whole', () => {
    const parsed = parsePreflightOutput(
      output(
        [
          `${PREFLIGHT_MARKER}cpu`,
          'governor cpu0 powersave',
          'governor cpu1 performance',
          'governor nonsense',
          'loadavg=garbage',
          `${PREFLIGHT_MARKER}busy`,
          'proc 12 1 45.5 Web_Content',
          'proc x y z',
          `${PREFLIGHT_MARKER}nics`,
          'ethtool=yes',
          'nic ens1 9000 up yes -',
          'nic ens2 1500 down yes -',
          'offload ens1 generic-receive-offload: on',
          'offload ens1 generic-receive-offload: maybe',
          'offload ens9 tcp-segmentation-offload: on',
          `${PREFLIGHT_MARKER}ports`,
          'listen tcp 0000 1',
          'listen udp6 14E9 77',
          'listen what 14E9 77',
        ].join('\n'),
      ),
    );
    expect(parsed.governors).toEqual({ cpu0: 'powersave', cpu1: 'performance' });
    expect(parsed.loadAverage).toEqual([]);
    expect(parsed.busy.processes).toEqual([{ pid: 12, ppid: 1, cpuPercent: 45.5, command: '[Web_Content]' }]);
    expect(parsed.nics.map((nic) => [nic.name, nic.mtu, nic.operstate, nic.offloads])).toEqual([
      ['ens1', 9000, 'up', { gro: 'on' }],
      ['ens2', 1500, 'down', {}],
    ]);
    expect(parsed.listening).toEqual([{ protocol: 'udp', port: 5353, owners: [] }]);
  });
});

describe('the script run for real on this machine', () => {
  const isRoot = process.getuid?.() === 0;

  function listen(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  }

  it('finds a listener this test owns, a busy child it started, and the tools `command -v` finds', async () => {
    const server = await listen();
    const port = (server.address() as { port: number }).port;
    // A bounded busy loop: it ends by itself even if the kill below never ran.
    const busy = spawn('sh', ['-c', 'end=$(( $(date +%s) + 20 )); while [ "$(date +%s)" -lt "$end" ]; do :; done'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const script = buildPreflightScript({ tools: ['sh', 'cnlab-no-such-tool'], ports: { from: port, to: port } });
      const run = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 30_000 });
      const parsed = parsePreflightOutput(run.stdout);
      expect(parsed.complete).toBe(true);
      expect(parsed.tools['sh']).toMatch(/\/sh$/);
      expect(parsed.tools['cnlab-no-such-tool']).toBeNull();
      const socket = parsed.listening.find((candidate) => candidate.protocol === 'tcp' && candidate.port === port);
      expect(socket).toBeDefined();
      if (isRoot) expect(socket?.owners.map((owner) => owner.pid)).toContain(process.pid);
      const child = parsed.busy.processes.filter((candidate) => candidate.pid === busy.pid || candidate.ppid === busy.pid);
      expect(child.length).toBeGreaterThan(0);
      const hasApt = spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
      if (hasApt) expect(parsed.packageManager).toBe('apt');
    } finally {
      busy.kill('SIGKILL');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 40_000);
});
