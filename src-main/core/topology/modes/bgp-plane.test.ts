// The BGP control plane of a routed network as planned: BIRD's config per host (checked by BIRD's own
// parser where BIRD is installed), the timers and metric, the /32 announcements, the convergence wait,
// the ledger, and the containers' route.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderApplyScript } from '../apply-script';
import { labNames } from '../naming';
import type { PlanStep } from '../plan';
import { planLab, type PlanContext } from '../planner';
import { contextFor, specOf, hostPlanOf as host, stepOf as step } from '../planner.test-support';
import type { TopologyInput } from '../topology-schema';
import { BGP_DEFAULTS, bgpConvergeSeconds, bgpSettings, defaultKernelMetric } from './bgp-plane';

type Input = Omit<TopologyInput, 'v'>;
const H3 = ['h1', 'h2', 'h3'];
const bridge = labNames('lab').link('b', 'rt');

function withBird(hosts: readonly string[]): PlanContext {
  const context = contextFor(hosts);
  for (const facts of Object.values(context.facts)) facts.tools.bird = '2.0.12';
  return context;
}

const timers = { connectDelayTime: 1, connectRetryTime: 1, holdTime: 3, keepaliveTime: 1 };
const input: Input = {
  name: 'lab',
  hosts: H3,
  networks: [{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp', ...timers } }],
  containers: [
    { name: 'a', host: 'h1', count: 2, networks: ['rt'] },
    { name: 'b', host: 'h2', networks: ['rt'] },
    { name: 'c', host: 'h3', networks: ['rt'] },
  ],
};
const result = planLab(specOf(input), withBird(H3));



function shellText(entry: PlanStep): string {
  const command = entry.run[0];
  if (command?.kind !== 'shell') throw new Error(`step ${entry.id} is not a shell step`);
  return command.text;
}

const config = (name: string): string => result.controlPlanes?.[0]?.configs[name]?.['/run/cnlab/lab/bird/bird.conf'] ?? '';
const metric = defaultKernelMetric('lab');

describe('routed with controlPlane bgp: the plan', () => {
  it('starts BIRD after the bridge, announces the containers after them, then waits for convergence', () => {
    expect(host(result, 'h1').steps.map((entry) => entry.id)).toEqual([
      'host/forwarding',
      'net/rt',
      'net/rt/bird',
      'a1/netns',
      'a1/links',
      'a1/addresses',
      'a1/link-up',
      'a2/netns',
      'a2/links',
      'a2/addresses',
      'a2/link-up',
      'net/rt/announce',
      'net/rt/converge',
    ]);
    // No static routes: every peer's route comes from BIRD.
    for (const hostPlan of result.hosts) expect(hostPlan.steps.some((entry) => entry.id === 'net/rt/routes')).toBe(false);
  });

  it('routes the whole range from the containers to their gateway', () => {
    expect(step(result, 'h2', 'b/link-up').run[0]).toMatchObject({ kind: 'ip-batch', netns: 'cnl-lab-b', lines: ['link set eth0 up', 'route add 198.19.0.0/16 via 198.19.1.1 metric 100'] });
  });

  it('writes BIRD\'s config: router id, iBGP mesh to the other hosts with the timers, filters confined to the range', () => {
    const text = config('h1');
    expect(text).toContain('router id 192.0.2.11;');
    expect(text).toContain(`  interface "${bridge}";`);
    expect(text).toContain(`  metric ${metric};`);
    expect(text).toContain(`    import filter { if net ~ [ 198.19.0.0/16{32,32} ] && ifname = "${bridge}" then accept; reject; };`);
    expect(text).toContain('    export filter { if source = RTS_BGP && net ~ [ 198.19.0.0/16+ ] then accept; reject; };');
    expect(text).toContain('  local 192.0.2.11 port 179 as 64512;');
    expect(text).toContain('  connect delay time 1;\n  connect retry time 1;\n  hold time 3;\n  keepalive time 1;');
    expect(text).toContain('protocol bgp cnlab_peer1 from cnlab_mesh {\n  description "host h2";\n  neighbor 192.0.2.12 port 179 as 64512;\n}');
    expect(text).toContain('protocol bgp cnlab_peer2 from cnlab_mesh {\n  description "host h3";\n  neighbor 192.0.2.13 port 179 as 64512;\n}');
    expect(text).not.toContain('neighbor 192.0.2.11 ');
    // Every filter that accepts anything names the range.
    for (const line of text.split('\n').filter((entry) => entry.includes('accept'))) expect(line).toContain('198.19.0.0/16');
  });

  it('is accepted by BIRD\'s own parser (where BIRD is installed)', () => {
    if (spawnSync('bird', ['--version']).error) return;
    const dir = mkdtempSync(join(tmpdir(), 'cnlab-bird-'));
    try {
      for (const name of H3) {
        const file = join(dir, `${name}.conf`);
        writeFileSync(file, config(name));
        const parse = spawnSync('bird', ['-p', '-c', file], { encoding: 'utf8' });
        expect(parse.status, parse.stderr).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts BIRD detached with its own config, socket and pid file, and records it for the ledger', () => {
    const birdStep = step(result, 'h2', 'net/rt/bird');
    const text = shellText(birdStep);
    expect(text).toContain('cnlab_need bird bird2; cnlab_need birdc bird2');
    expect(text).toContain('cnlab_port_free 179');
    expect(text).toContain('bird -p -c /run/cnlab/lab/bird/bird.conf');
    expect(text).toContain(
      "setsid sh -c 'echo $$ > \"$1\"; shift; exec \"$@\"' sh /run/cnlab/lab/bird/bird.pid bird -f -c /run/cnlab/lab/bird/bird.conf -s /run/cnlab/lab/bird/bird.ctl -P /run/cnlab/lab/bird/bird.pid </dev/null >>/run/cnlab/lab/bird/bird.log 2>&1 &",
    );
    expect(text).toContain("cnlab_wait 15 'BIRD of lab lab' /run/cnlab/lab/bird/bird.pid /run/cnlab/lab/bird/bird.log birdc -s /run/cnlab/lab/bird/bird.ctl show status");
    expect(birdStep.creates.map((entry) => [entry.kind, entry.name])).toEqual([['process', 'bird /run/cnlab/lab/bird/bird.pid']]);
    expect(birdStep.creates[0]?.undo).toContain('*/run/cnlab/lab/bird/bird.conf*');
  });

  it('adds a /32 route per container of the host for BIRD to learn, each with its undo', () => {
    const announce = step(result, 'h1', 'net/rt/announce');
    expect(announce.run).toEqual([
      { kind: 'ip-batch', netns: null, lines: [`route add 198.19.0.2/32 dev ${bridge} proto static`, `route add 198.19.0.3/32 dev ${bridge} proto static`] },
    ]);
    expect(announce.creates).toEqual([
      { kind: 'route', name: `198.19.0.2/32 dev ${bridge}`, undo: `ip route del 198.19.0.2/32 dev ${bridge}` },
      { kind: 'route', name: `198.19.0.3/32 dev ${bridge}`, undo: `ip route del 198.19.0.3/32 dev ${bridge}` },
    ]);
  });

  it('waits for every peer block and container route in BIRD\'s metric', () => {
    const text = shellText(step(result, 'h2', 'net/rt/converge'));
    expect(text).toContain("printf '%s\\n' 198.19.0.0/24 198.19.0.2 198.19.0.3 198.19.2.0/24 198.19.2.2; echo --; cnlab_installed;");
    expect(text).toContain(`awk -v m=${metric} `);
    expect(text).toContain(`cnlab_end=$(( $(date +%s) + 30 ))`);
  });

  it('records BIRD per host with the probed version, the settings and each host\'s config', () => {
    const plane = result.controlPlanes?.[0];
    expect(plane).toMatchObject({ network: 'rt', kind: 'bgp', settings: { asn: 64512, port: 179, ...timers, kernelMetric: metric, range: '198.19.0.0/16', socket: '/run/cnlab/lab/bird/bird.ctl' } });
    expect(plane?.daemons.map((daemon) => [daemon.host, daemon.program, daemon.version])).toEqual(H3.map((name) => [name, 'bird', '2.0.12']));
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

  it('produces shell texts and undos that sh parses', () => {
    const texts = result.hosts.flatMap((hostPlan) => hostPlan.steps.flatMap((entry) => [...entry.run.flatMap((command) => (command.kind === 'shell' ? [command.text] : [])), ...entry.creates.map((created) => created.undo)]));
    for (const text of texts) expect(spawnSync('sh', ['-n', '-c', text]).status, text).toBe(0);
  });
});

describe('BGP settings', () => {
  it('take BIRD\'s defaults, a private AS and a lab-derived metric when unset', () => {
    const network = specOf({ name: 'lab', hosts: ['h1'], networks: [{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } }], containers: [{ name: 'a', host: 'h1' }] }).networks[0];
    if (network?.mode !== 'routed') throw new Error('routed network expected');
    expect(bgpSettings('lab', network)).toEqual({ ...BGP_DEFAULTS, keepaliveTime: 80, kernelMetric: metric });
    expect(bgpConvergeSeconds(bgpSettings('lab', network))).toBe(30);
    expect(bgpConvergeSeconds({ ...bgpSettings('lab', network), connectDelayTime: 20 })).toBe(60);
  });

  it('give each lab its own kernel metric, never BIRD\'s default 32, unless one is set', () => {
    const metrics = ['lab', 'lab2', 'demo', 'bg1', 'a'].map(defaultKernelMetric);
    for (const value of metrics) expect(value >= 1000 && value < 9000).toBe(true);
    expect(new Set(metrics).size).toBe(metrics.length);
    expect(defaultKernelMetric('lab')).toBe(metric);
    const custom = planLab(specOf({ ...input, networks: [{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp', kernelMetric: 4242, asn: 65001, bgpPort: 1179 } }] }), withBird(H3));
    const text = custom.controlPlanes?.[0]?.configs.h3?.['/run/cnlab/lab/bird/bird.conf'] ?? '';
    expect(text).toContain('  metric 4242;');
    expect(text).toContain('  local 192.0.2.13 port 1179 as 65001;');
    expect(text).toContain('  neighbor 192.0.2.11 port 1179 as 65001;');
  });

  it('plan BIRD without sessions and without a wait on a single host', () => {
    const single = planLab(specOf({ name: 'lab', hosts: ['h1'], networks: [{ name: 'rt', mode: 'routed', options: { controlPlane: 'bgp' } }], containers: [{ name: 'a', host: 'h1', networks: ['rt'] }] }), withBird(['h1']));
    expect(host(single, 'h1').steps.map((entry) => entry.id)).toEqual(['host/forwarding', 'net/rt', 'net/rt/bird', 'a/netns', 'a/links', 'a/addresses', 'a/link-up', 'net/rt/announce']);
    expect(shellText(step(single, 'h1', 'net/rt/bird'))).not.toContain('cnlab_port_free 179');
    expect(single.controlPlanes?.[0]?.configs.h1?.['/run/cnlab/lab/bird/bird.conf']).not.toContain('protocol bgp');
  });
});
