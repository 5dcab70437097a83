import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import type { ExecOptions, ExecResult, HostExecutor } from '../exec/executor';
import {
  captureDeployedState,
  labNetnsOnHost,
  parseDeployedState,
  parseEthtoolFeatures,
  parseQdiscText,
  renderDeployedStateScript,
  type DeployedState,
} from './deployed-state';

// Fixtures: the script's real output on testbed hosts (kernel 6.18, iproute2 6.1, ethtool 6.1).
//   deployed-bridge-vxlan-h*: lab dsfix; h1: a1, a2 on `lan` (bridge, mtu 1450, rate 500mbit) and `ov`
//     (vxlan vni 4242); h2: b on ov, m on `mv` (macvlan, bridge mode).
//   deployed-routed-h*: lab dsrt (routed, mtu 1400; side shares app's namespace; hc in host mode), with
//     another lab (dsother, a bridge) applied on h1 at the same time.
//   deployed-routed-h1-old-tools: the same host with a tc that refuses -j and no ethtool on PATH.
//   deployed-missing-netns: the script asked for a namespace that does not exist.
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

function namespace(state: DeployedState, name: string) {
  const found = state.namespaces.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no namespace ${name}`);
  return found;
}

describe('renderDeployedStateScript', () => {
  it('is valid sh, quotes every value from cnlab, and asks only for the given namespaces', () => {
    const script = renderDeployedStateScript('lab-1', ['cnl-lab-1-a', "odd name'; rm -rf /"]);
    expect(script).toContain("alias=cnlab:lab-1");
    expect(script).toContain("ledger=/run/cnlab/lab-1/ledger");
    expect(script).toContain(`for ns in cnl-lab-1-a 'odd name'\\''; rm -rf /'; do`);
    execFileSync('sh', ['-n'], { input: script });
  });

  it('only reads: no command that changes a link, address, route, qdisc or feature', () => {
    const script = renderDeployedStateScript('lab-1', ['cnl-lab-1-a']);
    expect(script).not.toMatch(/\bip\b[^\n]*\b(add|del|delete|set|change|replace|flush)\b/);
    expect(script).not.toMatch(/\btc\b[^\n]*\b(add|del|delete|change|replace)\b/);
    expect(script).not.toMatch(/ethtool -[KsGLA]/);
  });

  it('run against stub tools: reads only the lab\'s links, never the management NIC, and keeps stdin away from commands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnlab-ds-'));
    try {
      const log = join(dir, 'calls');
      // ip: three host links, the management NIC, one of this lab (tagged), one of lab "lab-10" (a
      // prefix of the name must not match), and a veth enslaved to this lab's bridge without a tag.
      const stub = (name: string, body: string): void => {
        writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> ${JSON.stringify(log)}\n${body}\n`);
        chmodSync(join(dir, name), 0o755);
      };
      stub('ip', [
        'case "$*" in',
        '  "-o link show") echo "2: eth0: <BROADCAST,UP> mtu 1500 qdisc fq state UP"',
        '    echo "3: brA: <UP> mtu 1450 qdisc noqueue state UP \\    link/ether 00:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff alias cnlab:lab-1"',
        '    echo "4: brB: <UP> mtu 1500 qdisc noqueue state UP \\    link/ether 00:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff alias cnlab:lab-10";;',
        '  "-o link show master brA") echo "5: veth9@if2: <UP> mtu 1450 master brA state UP";;',
        '  "-n cnl-lab-1-a -o link show") echo "1: lo: <LOOPBACK> mtu 65536"; echo "2: eth0@if5: <UP> mtu 1450";;',
        '  "-j link show dev lo") echo "[]";;',
        '  *" -j "*|"-j "*) echo "[]";;',
        'esac',
        // Would swallow the rest of the script if stdin were the script.
        'cat >/dev/null',
      ].join('\n'));
      stub('tc', 'echo "[]"; cat >/dev/null');
      stub('ethtool', 'echo "tcp-segmentation-offload: on"; cat >/dev/null');
      const script = renderDeployedStateScript('lab-1', ['cnl-lab-1-a']);
      const stdout = execFileSync('sh', ['-s'], { input: script, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      // The management NIC and the other lab's bridge appear only in the one listing that finds the tag.
      expect(calls.filter((call) => /\beth0\b|\bbrB\b/.test(call) && !call.includes('cnl-lab-1-a'))).toEqual([]);
      expect(calls).toContain('ip -j -d link show dev brA');
      expect(calls).toContain('ip -j -d link show dev veth9');
      expect(calls).toContain('ethtool -k veth9');
      expect(calls).toContain('ip -n cnl-lab-1-a -j -d link show');
      expect(calls).toContain('ip netns exec cnl-lab-1-a ethtool -k eth0');
      expect(calls).toContain('tc -n cnl-lab-1-a -j qdisc show');
      // The script ran to its end (nothing read it from stdin): the namespace's last ethtool came.
      expect(stdout).toContain('@@cnlab-ds begin ethtool cnl-lab-1-a eth0');
      const state = parseDeployedState(stdout, 'h1');
      expect(state.namespaces.map((ns) => ns.name)).toEqual(['cnl-lab-1-a']);
      expect(state.notes).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseDeployedState: runtime docker', () => {
  it('lists the lab containers with their images and image ids (garbled ids become null)', () => {
    const id = `sha256:${'ab'.repeat(32)}`;
    const state = parseDeployedState(['@@cnlab-ds host h1', `@@cnlab-ds docker cnl-dk-c1 cnlab-lab:701fe2e8 ${id}`, '@@cnlab-ds docker cnl-dk-c2 tools:1 not-an-id'].join('\n'), 'h1');
    expect(state.dockerContainers).toEqual([
      { name: 'cnl-dk-c1', image: 'cnlab-lab:701fe2e8', imageId: id },
      { name: 'cnl-dk-c2', image: 'tools:1', imageId: null },
    ]);
    expect(parseDeployedState('@@cnlab-ds host h1', 'h1').dockerContainers).toBeUndefined();
  });

  it('asks Docker only about the lab’s labelled objects, and only reads', () => {
    const script = renderDeployedStateScript('dk', []);
    expect(script).toContain("label=cnlab.lab=dk");
    expect(script).toMatch(/docker ps -a --filter "label=\$label"/);
    expect(script).not.toMatch(/docker (rm|create|start|stop|kill|network (rm|create|connect))/);
  });
});

describe('parseDeployedState: bridge + vxlan lab (real output)', () => {
  const h1 = parseDeployedState(fixture('deployed-bridge-vxlan-h1.out'), 'h1');
  const h2 = parseDeployedState(fixture('deployed-bridge-vxlan-h2.out'), 'h2');

  it('reads host, time and no notes', () => {
    expect(h1).toMatchObject({ host: 'h1', hostname: 'h1', notes: [] });
    expect(h1.capturedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(parseDeployedState(fixture('deployed-bridge-vxlan-h1.out')).host).toBe('h1');
  });

  it('lists the host links of the lab: two bridges, the vxlan device and the host ends of four veths', () => {
    expect(h1.rootLinks.map((link) => link.kind).sort()).toEqual(['bridge', 'bridge', 'veth', 'veth', 'veth', 'veth', 'vxlan']);
    for (const link of h1.rootLinks) {
      expect(link.alias).toBe('cnlab:dsfix');
      expect(link.mtu).toBe(1450);
      expect(link.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    }
    const vxlan = h1.rootLinks.find((link) => link.kind === 'vxlan');
    expect(vxlan?.vxlan).toEqual({ id: 4242, port: 4789, dev: 'eth0', local: '198.18.24.11', learning: false });
    expect(vxlan?.state).toBe('UNKNOWN');
  });

  it('resolves each veth to its peer in the container namespace, and the peer back', () => {
    const a1 = namespace(h1, 'cnl-dsfix-a1');
    const eth0 = a1.links.find((link) => link.name === 'eth0');
    expect(eth0).toMatchObject({ kind: 'veth', mtu: 1450, state: 'UP', master: null });
    expect(eth0?.peer).toMatchObject({ netns: null, found: true });
    const hostEnd = h1.rootLinks.find((link) => link.name === eth0?.peer?.name);
    expect(hostEnd?.peer).toEqual({ name: 'eth0', ifindex: eth0?.ifindex, netns: 'cnl-dsfix-a1', found: true });
    expect(hostEnd?.slaveKind).toBe('bridge');
    expect(h1.rootLinks.find((link) => link.name === hostEnd?.master)?.kind).toBe('bridge');
    // Both containers' eth1 hang on the vxlan network's bridge, which holds the vxlan device's routes.
    const eth1Peers = h1.namespaces.map((ns) => h1.rootLinks.find((link) => link.name === ns.links.find((l) => l.name === 'eth1')?.peer?.name)?.master);
    expect(new Set(eth1Peers).size).toBe(1);
  });

  it('reads addresses, routes and qdiscs per namespace, and the shaping on both ends', () => {
    const a1 = namespace(h1, 'cnl-dsfix-a1');
    expect(a1.addresses).toContainEqual({ ifname: 'eth0', family: 'inet', address: '198.19.0.2', prefixLength: 24, scope: 'global' });
    expect(a1.routes).toContainEqual({ family: 'inet', dst: '198.19.2.0/24', gateway: '198.19.1.1', dev: 'eth1' });
    expect(a1.routes.some((route) => route.family === 'inet6')).toBe(true);
    expect(a1.qdiscs).toContainEqual({ dev: 'eth0', kind: 'tbf', handle: 'c1ab:', parent: 'root', options: { rate: 62_500_000, burst: 250_000, lat: 50_000 } });
    expect(h1.rootQdiscs.filter((qdisc) => qdisc.kind === 'tbf')).toHaveLength(2);
    expect(h1.rootRoutes).toContainEqual({ family: 'inet', dst: '198.19.2.0/24', gateway: '198.19.2.0', dev: h1.rootLinks.find((link) => link.kind === 'vxlan')?.name, flags: ['onlink'] });
  });

  it('keeps every ethtool feature, with fixed ones marked', () => {
    const eth0 = namespace(h1, 'cnl-dsfix-a1').links.find((link) => link.name === 'eth0');
    expect(eth0?.offloads['tcp-segmentation-offload']).toBe(true);
    // veth: GRO off unless asked for (as measured on that kernel).
    expect(eth0?.offloads['generic-receive-offload']).toBe(false);
    expect(eth0?.offloads['tx-checksumming']).toBeTypeOf('boolean');
    const bridge = h1.rootLinks.find((link) => link.kind === 'bridge');
    expect(bridge?.offloads['rx-checksumming']).toBe('fixed-off');
    expect(bridge?.offloads['tx-gso-robust']).toBe(false);
    expect(Object.keys(bridge?.offloads ?? {}).length).toBeGreaterThan(50);
  });

  it('reads a macvlan with its mode (its parent is in the host namespace)', () => {
    const eth0 = namespace(h2, 'cnl-dsfix-m').links.find((link) => link.name === 'eth0');
    expect(eth0).toMatchObject({ kind: 'macvlan', macvlanMode: 'bridge', mtu: 1500 });
    expect(eth0?.peer).toBeUndefined();
    expect(h2.rootLinks.find((link) => link.kind === 'vxlan')?.vxlan).toMatchObject({ id: 4242, local: '198.18.24.12' });
  });
});

describe('parseDeployedState: routed lab beside another lab (real output)', () => {
  const h1 = parseDeployedState(fixture('deployed-routed-h1.out'), 'h1');

  it('holds only this lab\'s links, and the routes its ledger lists', () => {
    expect(h1.rootLinks.map((link) => link.alias)).toEqual(['cnlab:dsrt', 'cnlab:dsrt']);
    expect(h1.rootLinks.every((link) => link.mtu === 1400)).toBe(true);
    // routed: the other host's container block via its management address (a ledger `route` entry).
    expect(h1.rootRoutes).toContainEqual({ family: 'inet', dst: '198.19.1.0/24', gateway: expect.stringMatching(/^198\.18\.\d+\.12$/) as unknown, dev: 'eth0' });
    expect(h1.namespaces.map((ns) => ns.name)).toEqual(['cnl-dsrt-app']);
    expect(h1.rootAddresses).toContainEqual(expect.objectContaining({ address: '198.19.0.1', prefixLength: 24 }));
  });

  it('falls back to tc text and says what it could not read', () => {
    const old = parseDeployedState(fixture('deployed-routed-h1-old-tools.out'), 'h1');
    expect(old.notes).toEqual(['tc has no JSON output (tc -j): qdiscs were captured as text', 'ethtool is not installed: offload flags were not captured']);
    expect(namespace(old, 'cnl-dsrt-app').qdiscs).toEqual([
      { dev: 'lo', kind: 'noqueue', handle: '0:', parent: 'root', options: 'refcnt 2' },
      { dev: 'eth0', kind: 'noqueue', handle: '0:', parent: 'root', options: 'refcnt 2' },
    ]);
    expect(old.rootQdiscs.map((qdisc) => qdisc.dev)).toEqual(old.rootLinks.map((link) => link.name));
    expect(old.rootLinks.every((link) => Object.keys(link.offloads).length === 0)).toBe(true);
    expect(old.rootLinks.length).toBe(h1.rootLinks.length);
  });

  it('notes a namespace that is gone', () => {
    const gone = parseDeployedState(fixture('deployed-missing-netns.out'), 'h1');
    expect(gone.namespaces).toEqual([]);
    expect(gone.notes).toEqual(['namespace cnl-dsrt-gone is missing']);
  });

  it('notes output cut short and a failed command', () => {
    const text = fixture('deployed-routed-h1.out');
    const cut = parseDeployedState(text.slice(0, text.indexOf('@@cnlab-ds begin ethtool') + 40));
    expect(cut.notes.at(-1)).toMatch(/^the output ended inside the ethtool section: the capture was cut short$/);
    const failed = parseDeployedState('@@cnlab-ds host h9\n@@cnlab-ds netns cnl-x-a\n@@cnlab-ds begin route cnl-x-a -\n\n@@cnlab-ds end 1\n@@cnlab-ds begin link cnl-x-a -\nnot json\n@@cnlab-ds end 0\n');
    expect(failed.notes).toEqual(['route in namespace cnl-x-a: the command failed (exit 1)', 'link in namespace cnl-x-a: unreadable output ("not json")']);
    expect(failed.namespaces).toEqual([{ name: 'cnl-x-a', links: [], addresses: [], routes: [], qdiscs: [] }]);
  });
});

describe('small parsers', () => {
  it('ethtool features: on, off, fixed, requested', () => {
    expect(parseEthtoolFeatures('Features for eth0:\nrx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\nloopback: on [fixed]\ntx-gso-robust: off [requested on]\n')).toEqual({
      'rx-checksumming': true,
      'tx-checksum-ipv4': 'fixed-off',
      loopback: 'fixed-on',
      'tx-gso-robust': false,
    });
  });

  it('tc text: root, parent and ingress qdiscs', () => {
    expect(parseQdiscText('qdisc htb 1: dev eth0 root refcnt 2 r2q 10 default 0x1\nqdisc fq_codel 8001: dev eth0 parent 1:1 limit 10240p\nqdisc ingress ffff: dev eth0 parent ffff:fff1 ----------------\n')).toEqual([
      { dev: 'eth0', kind: 'htb', handle: '1:', parent: 'root', options: 'refcnt 2 r2q 10 default 0x1' },
      { dev: 'eth0', kind: 'fq_codel', handle: '8001:', parent: '1:1', options: 'limit 10240p' },
      { dev: 'eth0', kind: 'ingress', handle: 'ffff:', parent: 'ffff:fff1', options: '----------------' },
    ]);
  });

  it('namespaces of a host: distinct, none for host-mode containers', () => {
    const containers = [
      { host: 'h1', netns: 'cnl-l-app' },
      { host: 'h1', netns: 'cnl-l-app' },
      { host: 'h1', netns: null },
      { host: 'h2', netns: 'cnl-l-b' },
    ];
    expect(labNetnsOnHost(containers, 'h1')).toEqual(['cnl-l-app']);
    expect(labNetnsOnHost(containers, 'h3')).toEqual([]);
  });
});

describe('captureDeployedState', () => {
  function executor(host: string, run: (script: string, options: ExecOptions | undefined) => Promise<ExecResult>): HostExecutor {
    return {
      hostName: host,
      exec: () => Promise.reject(new Error('not used')),
      runScript: (script, options) => run(script, options),
      privilege: () => Promise.resolve({ kind: 'root' }),
      close: () => Promise.resolve(),
    };
  }
  const ok = (stdout: string): ExecResult => ({ code: 0, signal: null, stdout, stderr: '', durationMs: 5 });

  it('runs one privileged script per host, in parallel, and keeps a failing host apart', async () => {
    const seen: { host: string; script: string; privileged: boolean | undefined }[] = [];
    let running = 0;
    let most = 0;
    const lab = { labId: 'dsfix', hosts: ['h1', 'h2', 'h3'], containers: [{ host: 'h1', netns: 'cnl-dsfix-a1' }, { host: 'h2', netns: 'cnl-dsfix-b' }] };
    const result = await captureDeployedState(lab, (host) =>
      executor(host, async (script, options) => {
        seen.push({ host, script, privileged: options?.privileged });
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        if (host === 'h3') throw new CnlabError('host-unreachable', 'host h3 is unreachable');
        return ok(fixture(`deployed-bridge-vxlan-${host}.out`));
      }),
    );
    expect(most).toBe(3);
    expect(seen.every((call) => call.privileged === true)).toBe(true);
    expect(seen.find((call) => call.host === 'h1')?.script).toContain('for ns in cnl-dsfix-a1; do');
    expect(seen.find((call) => call.host === 'h3')?.script).toContain('for ns in ; do');
    expect(result.hosts.map((host) => host.host)).toEqual(['h1', 'h2']);
    expect(result.failures).toEqual([{ host: 'h3', error: 'host h3 is unreachable' }]);
  });

  it('rejects on cancel, and reports a script that exits non-zero', async () => {
    const cancelled = captureDeployedState({ labId: 'l', hosts: ['h1'], containers: [] }, (host) => executor(host, () => Promise.reject(new CnlabError('cancelled', 'cancelled'))));
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
    const failed = await captureDeployedState({ labId: 'l', hosts: ['h1'], containers: [] }, (host) =>
      executor(host, () => Promise.resolve({ code: 1, signal: null, stdout: '', stderr: 'sudo: a password is required\n', durationMs: 1 })),
    );
    expect(failed.failures[0]?.error).toBe('host h1: reading the deployed state of lab l failed (exit 1): sudo: a password is required');
  });
});
