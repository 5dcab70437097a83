// The etcd control plane of a vxlan network as planned: steps and their order per host, the ledger with
// exact keys and process entries, etcd's config, the leases, the containers' route; and the watch agent's
// event handler run for real with stand-in `ip` and `bridge` commands that record what they are asked.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderApplyScript } from '../apply-script';
import { labNames } from '../naming';
import type { PlanStep } from '../plan';
import { planLab, type PlanContext } from '../planner';
import { contextFor, specOf, hostPlanOf as host, stepOf as step } from '../planner.test-support';
import type { TopologyInput } from '../topology-schema';

type Input = Omit<TopologyInput, 'v'>;
const H3 = ['h1', 'h2', 'h3'];
const names = labNames('lab');
const vtep = names.link('x', 'ov');

function withTools(hosts: readonly string[], tools: { etcd?: string | null; bird?: string | null } = { etcd: '3.4.23' }): PlanContext {
  const context = contextFor(hosts);
  for (const facts of Object.values(context.facts)) Object.assign(facts.tools, tools);
  return context;
}

const input: Input = {
  name: 'lab',
  hosts: H3,
  networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 7, controlPlane: 'etcd' } }],
  containers: [
    { name: 'a', host: 'h1', networks: ['ov'] },
    { name: 'b', host: 'h2', networks: ['ov'] },
    { name: 'c', host: 'h3', networks: ['ov'] },
  ],
};



function shellText(entry: PlanStep): string {
  const command = entry.run[0];
  if (command?.kind !== 'shell') throw new Error(`step ${entry.id} is not a shell step`);
  return command.text;
}

const result = planLab(specOf(input), withTools(H3));

describe('vxlan with controlPlane etcd: the plan', () => {
  it('runs etcd on the first host, an agent on every host, and waits for convergence after the containers', () => {
    expect(host(result, 'h1').steps.map((entry) => entry.id)).toEqual([
      'host/forwarding',
      'net/ov',
      'net/ov/vtep',
      'net/ov/etcd',
      'net/ov/agent',
      'a/netns',
      'a/links',
      'a/addresses',
      'a/link-up',
      'net/ov/converge',
    ]);
    expect(host(result, 'h2').steps.map((entry) => entry.id)).toEqual(['host/forwarding', 'net/ov', 'net/ov/vtep', 'net/ov/agent', 'b/netns', 'b/links', 'b/addresses', 'b/link-up', 'net/ov/converge']);
    // The peers' entries are the agent's: no static peers step anywhere.
    for (const hostPlan of result.hosts) expect(hostPlan.steps.some((entry) => entry.id === 'net/ov/peers')).toBe(false);
  });

  it('keeps the VXLAN device exactly as the static plan makes it', () => {
    const staticPlan = planLab(specOf({ ...input, networks: [{ name: 'ov', mode: 'vxlan', options: { vni: 7 } }] }), withTools(H3));
    for (const name of H3) {
      expect(step(result, name, 'net/ov/vtep')).toEqual(step(staticPlan, name, 'net/ov/vtep'));
      expect(step(result, name, 'net/ov')).toEqual(step(staticPlan, name, 'net/ov'));
    }
  });

  it('routes the whole range from the containers to their gateway', () => {
    const links = step(result, 'h2', 'b/link-up');
    expect(links.run[0]).toMatchObject({ kind: 'ip-batch', netns: 'cnl-lab-b', lines: ['link set eth0 up', 'route add 198.19.0.0/16 via 198.19.1.1 metric 100'] });
  });

  it('records etcd and the agent as processes, and the keys it writes one by one, in undo order', () => {
    const etcd = step(result, 'h1', 'net/ov/etcd');
    expect(etcd.creates.map((entry) => [entry.kind, entry.name])).toEqual([
      ['process', 'etcd /run/cnlab/lab/etcd/etcd.pid'],
      ['etcd-key', '/coreos.com/network/lab/config'],
    ]);
    const agent = step(result, 'h2', 'net/ov/agent');
    expect(agent.creates.map((entry) => [entry.kind, entry.name])).toEqual([
      ['etcd-key', '/coreos.com/network/lab/subnets/198.19.1.0-24'],
      ['process', 'watch-agent /run/cnlab/lab/agent.pid'],
    ]);
    expect(agent.creates[0]?.undo).toBe(
      "ETCDCTL_API=3 etcdctl --endpoints=http://192.0.2.11:23790 --dial-timeout=1s --command-timeout=2s del /coreos.com/network/lab/subnets/198.19.1.0-24 </dev/null >/dev/null 2>&1; true",
    );
    for (const hostPlan of result.hosts) {
      for (const entry of hostPlan.steps.flatMap((candidate) => candidate.creates)) {
        expect(entry.undo).not.toMatch(/--prefix|[\t\n]/);
      }
    }
    expect(etcd.creates[0]?.undo).toContain('case "$c" in \'\'|*/run/cnlab/lab/etcd/etcd.conf.yml*)');
    expect(agent.creates[1]?.undo).toContain('case "$c" in \'\'|*/run/cnlab/lab/agent.sh*)');
  });

  it('configures etcd for this lab only: its own member name, data dir, client port on the management address, peer port on loopback', () => {
    const text = shellText(step(result, 'h1', 'net/ov/etcd'));
    expect(text).toContain(
      [
        'name: "cnlab-lab"',
        'data-dir: "/run/cnlab/lab/etcd/data"',
        'listen-client-urls: "http://192.0.2.11:23790"',
        'advertise-client-urls: "http://192.0.2.11:23790"',
        'listen-peer-urls: "http://127.0.0.1:23800"',
        'initial-advertise-peer-urls: "http://127.0.0.1:23800"',
        'initial-cluster: "cnlab-lab=http://127.0.0.1:23800"',
        'initial-cluster-state: "new"',
        'initial-cluster-token: "cnlab-lab"',
        'auto-compaction-retention: "0"',
      ].join('\n'),
    );
    expect(text).toContain("setsid sh -c 'echo $$ > \"$1\"; shift; exec \"$@\"' sh /run/cnlab/lab/etcd/etcd.pid etcd --config-file /run/cnlab/lab/etcd/etcd.conf.yml </dev/null >>/run/cnlab/lab/etcd/etcd.log 2>&1 &");
    expect(text).toContain('cnlab_port_free 23790');
    expect(text).toContain('cnlab_port_free 23800');
    expect(text).toContain('-lt 65536');
    expect(text).toContain(`/coreos.com/network/lab/config '{"Network":"198.19.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":7,"Port":4789}}'`);
    // It answers as this lab's etcd, not as whatever else listens on that port.
    expect(text).toContain("grep -qF -e ', cnlab-lab, '");
  });

  it('writes each host\'s lease with Flannel\'s value after the lab\'s etcd answers', () => {
    const text = shellText(step(result, 'h3', 'net/ov/agent'));
    const mac = /link add \S+ address (\S+) type vxlan/.exec((step(result, 'h3', 'net/ov/vtep').run[0] as { lines: string[] }).lines[0] ?? '')?.[1];
    expect(mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(text).toContain(
      `put /coreos.com/network/lab/subnets/198.19.2.0-24 '{"PublicIP":"192.0.2.13","BackendType":"vxlan","BackendData":{"VNI":7,"VtepMAC":"${mac ?? ''}"}}'`,
    );
    expect(text.indexOf('cnlab_wait 15')).toBeLessThan(text.indexOf(' put '));
    expect(text).toContain('sh /run/cnlab/lab/agent.sh </dev/null >>/run/cnlab/lab/agent.log');
  });

  it('waits for the routes to the other hosts\' blocks on the VTEP', () => {
    const text = shellText(step(result, 'h1', 'net/ov/converge'));
    expect(text).toContain(`printf '%s\\n' 198.19.1.0/24 198.19.2.0/24; echo --; cnlab_installed;`);
    expect(text).toContain(`cnlab_installed() { ip -4 -o route show dev ${vtep}; }`);
  });

  it('uses the network subnet as range and the configured ports', () => {
    const custom = planLab(
      specOf({ ...input, networks: [{ name: 'ov', mode: 'vxlan', subnet: '198.19.64.0/20', options: { controlPlane: 'etcd', etcdClientPort: 4001, etcdPeerPort: 4002 } }] }),
      withTools(H3),
    );
    expect(step(custom, 'h2', 'b/link-up').run[0]).toMatchObject({ lines: ['link set eth0 up', 'route add 198.19.64.0/20 via 198.19.65.1 metric 100'] });
    expect(shellText(step(custom, 'h1', 'net/ov/etcd'))).toContain('listen-client-urls: "http://192.0.2.11:4001"');
    expect(custom.controlPlanes?.[0]?.settings).toMatchObject({ endpoint: 'http://192.0.2.11:4001', clientPort: 4001, peerPort: 4002 });
  });

  it('records the daemons, their versions from the facts and their configs in the plan', () => {
    expect(result.controlPlanes).toHaveLength(1);
    const plane = result.controlPlanes?.[0];
    expect(plane?.daemons).toEqual([
      { host: 'h1', program: 'etcd', version: '3.4.23', configFile: '/run/cnlab/lab/etcd/etcd.conf.yml', pidFile: '/run/cnlab/lab/etcd/etcd.pid', logFile: '/run/cnlab/lab/etcd/etcd.log' },
      ...H3.map((name) => ({ host: name, program: 'watch-agent', version: null, configFile: '/run/cnlab/lab/agent.sh', pidFile: '/run/cnlab/lab/agent.pid', logFile: '/run/cnlab/lab/agent.log' })),
    ]);
    expect(Object.keys(plane?.configs.h1 ?? {})).toEqual(['/run/cnlab/lab/agent.sh', '/run/cnlab/lab/etcd/etcd.conf.yml']);
    expect(Object.keys(plane?.configs.h2 ?? {})).toEqual(['/run/cnlab/lab/agent.sh']);
    expect(planLab(specOf({ ...input, networks: [{ name: 'ov', mode: 'vxlan' }] }), withTools(H3)).controlPlanes).toBeUndefined();
  });

  it('renders whole apply scripts (merged and timed) that sh parses', () => {
    for (const hostPlan of result.hosts) {
      for (const timings of [false, true]) {
        const { script } = renderApplyScript(labNames('lab'), hostPlan, { fingerprint: result.fingerprint, timings });
        const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
        expect(check.status, check.stderr).toBe(0);
      }
    }
  });

  it('produces shell texts, undos and an agent that sh parses', () => {
    const texts = result.hosts.flatMap((hostPlan) => hostPlan.steps.flatMap((entry) => [...entry.run.flatMap((command) => (command.kind === 'shell' ? [command.text] : [])), ...entry.creates.map((created) => created.undo)]));
    expect(texts.length).toBeGreaterThan(12);
    for (const text of texts) expect(spawnSync('sh', ['-n', '-c', text]).status, text).toBe(0);
    for (const file of Object.values(result.controlPlanes?.[0]?.configs.h2 ?? {})) expect(spawnSync('sh', ['-n', '-c', file]).status).toBe(0);
  });
});

describe('the watch agent, run for real', () => {
  let dir: string;
  let log: string;
  let agent: string;
  const PREFIX = '/coreos.com/network/lab/subnets/';
  const MAC = '02:11:22:33:44:55';
  const value = (address: string, mac = MAC): string => JSON.stringify({ PublicIP: address, BackendType: 'vxlan', BackendData: { VNI: 7, VtepMAC: mac } });
  /** As etcdctl's exec mode passes them: every value Go-quoted (%q). */
  const goQuoted = (text: string): string => JSON.stringify(text);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnlab-agent-'));
    log = join(dir, 'calls');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // Stand-ins record their arguments; `ip route show exact` reports one foreign route, for 198.19.9.0/24.
    writeFileSync(join(bin, 'ip'), `#!/bin/sh\necho "ip $*" >> '${log}'\ncase "$*" in *"show exact 198.19.9.0/24"*) echo '198.19.9.0/24 dev eth9 proto kernel scope link';; esac\nexit 0\n`);
    writeFileSync(join(bin, 'bridge'), `#!/bin/sh\necho "bridge $*" >> '${log}'\nexit 0\n`);
    for (const file of ['ip', 'bridge']) chmodSync(join(bin, file), 0o755);
    // The agent of h1 (own block 198.19.0.0/24), with its lease folder moved into the scratch folder.
    const script = result.controlPlanes?.[0]?.configs.h1?.['/run/cnlab/lab/agent.sh'] ?? '';
    expect(script).toContain("leases=/run/cnlab/lab/agent-leases\n");
    agent = join(dir, 'agent.sh');
    writeFileSync(agent, script.replace("leases=/run/cnlab/lab/agent-leases\n", `leases='${join(dir, 'leases')}'\n`));
    mkdirSync(join(dir, 'leases'));
    process.env.CNLAB_TEST_PATH = `${bin}:${process.env.PATH ?? ''}`;
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function event(type: 'PUT' | 'DELETE', key: string, eventValue = ''): { calls: string[]; output: string } {
    rmSync(log, { force: true });
    const run = spawnSync('sh', [agent, 'event'], {
      encoding: 'utf8',
      env: { PATH: process.env.CNLAB_TEST_PATH, ETCD_WATCH_EVENT_TYPE: goQuoted(type), ETCD_WATCH_KEY: goQuoted(key), ETCD_WATCH_VALUE: goQuoted(eventValue), ETCD_WATCH_REVISION: '9' },
    });
    expect(run.status, run.stderr).toBe(0);
    const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line !== '' && !line.includes('route show exact')) : [];
    return { calls, output: run.stdout };
  }

  it('programs neighbour, FDB and route entries for another host\'s lease, and removes them with it', () => {
    expect(event('PUT', `${PREFIX}198.19.1.0-24`, value('192.0.2.12')).calls).toEqual([
      `ip neigh replace 198.19.1.0 lladdr ${MAC} dev ${vtep} nud permanent`,
      `bridge fdb replace ${MAC} dev ${vtep} dst 192.0.2.12`,
      `ip route replace 198.19.1.0/24 via 198.19.1.0 dev ${vtep} onlink`,
    ]);
    expect(readFileSync(join(dir, 'leases', '198.19.1.0-24'), 'utf8')).toBe(`${MAC} 192.0.2.12\n`);
    // A new VTEP MAC for the same lease: the old FDB entry goes first.
    expect(event('PUT', `${PREFIX}198.19.1.0-24`, value('192.0.2.12', '02:aa:bb:cc:dd:ee')).calls[0]).toBe(`bridge fdb del ${MAC} dev ${vtep} dst 192.0.2.12`);
    expect(event('DELETE', `${PREFIX}198.19.1.0-24`).calls).toEqual([
      `ip route del 198.19.1.0/24 dev ${vtep}`,
      `ip neigh del 198.19.1.0 dev ${vtep}`,
      `bridge fdb del 02:aa:bb:cc:dd:ee dev ${vtep} dst 192.0.2.12`,
    ]);
    expect(existsSync(join(dir, 'leases', '198.19.1.0-24'))).toBe(false);
    // Deleting a lease it never programmed touches nothing.
    expect(event('DELETE', `${PREFIX}198.19.5.0-24`).calls).toEqual([]);
  });

  it('ignores its own lease, leases outside the network, malformed keys and hostile values', () => {
    const canary = join(dir, 'pwned');
    const ignored: [string, string][] = [
      [`${PREFIX}198.19.0.0-24`, value('192.0.2.11')],
      [`${PREFIX}10.0.0.0-24`, value('192.0.2.12')],
      [`${PREFIX}198.18.0.0-24`, value('192.0.2.12')],
      [`${PREFIX}198.19.1.7-24`, value('192.0.2.12')],
      [`${PREFIX}198.19.1.0-16`, value('192.0.2.12')],
      [`${PREFIX}198.19.01.0-24`, value('192.0.2.12')],
      [`${PREFIX}198.19.1.0-24;touch ${canary}`, value('192.0.2.12')],
      [`${PREFIX}198.19.1.0-24`, value(`192.0.2.12$(touch ${canary})`)],
      [`${PREFIX}198.19.1.0-24`, value('192.0.2.12', `02:11:22:33:44:55;touch ${canary}`)],
      [`${PREFIX}198.19.1.0-24`, 'not json'],
      ['/coreos.com/network/lab2/subnets/198.19.1.0-24', value('192.0.2.12')],
    ];
    for (const [key, eventValue] of ignored) expect(event('PUT', key, eventValue).calls, `${key} ${eventValue}`).toEqual([]);
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses to take over a route that someone else holds', () => {
    const { calls, output } = event('PUT', `${PREFIX}198.19.9.0-24`, value('192.0.2.12'));
    expect(calls).toEqual([]);
    expect(output).toContain('refused /coreos.com/network/lab/subnets/198.19.9.0-24: 198.19.9.0/24 is routed by someone else');
  });
});
