// Throwaway: runs generated plans against emulated hosts (namespaces) on this machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { planLab } from './src-main/core/topology/planner';
import { contextFor, specOf } from './src-main/core/topology/planner.test-support';
import type { LabPlan } from './src-main/core/topology/plan';

const HOSTS = ['h1', 'h2', 'h3'];
const hostNs = (h: string) => `cnlab-plantest-${h}`;
function run(args: string[], input?: string) {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}
function must(args: string[], input?: string) { const r = run(args, input); if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.out}`); return r.out; }

function up() {
  must(['ip', 'netns', 'add', 'cnlab-plantest-sw']);
  must(['ip', '-n', 'cnlab-plantest-sw', 'link', 'add', 'br0', 'type', 'bridge']);
  must(['ip', '-n', 'cnlab-plantest-sw', 'link', 'set', 'br0', 'up']);
  HOSTS.forEach((h, i) => {
    must(['ip', 'netns', 'add', hostNs(h)]);
    must(['ip', '-n', 'cnlab-plantest-sw', 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs(h)]);
    must(['ip', '-n', 'cnlab-plantest-sw', 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
    must(['ip', '-n', hostNs(h), 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', hostNs(h), 'link', 'set', 'eth0', 'mtu', '1400', 'up']);
    must(['ip', '-n', hostNs(h), 'addr', 'add', `192.0.2.${11 + i}/24`, 'dev', 'eth0']);
  });
}
function down() {
  for (const l of run(['ip', 'netns', 'list']).out.split('\n')) { const n = l.split(' ')[0] ?? ''; if (n.startsWith('cnl-plantest-')) run(['ip', 'netns', 'del', n]); }
  for (const h of HOSTS) run(['ip', 'netns', 'del', hostNs(h)]);
  run(['ip', 'netns', 'del', 'cnlab-plantest-sw']);
}
function apply(plan: LabPlan) {
  for (const hp of plan.hosts) for (const step of hp.steps) for (const cmd of step.run) {
    const r = cmd.kind === 'shell'
      ? run(['ip', 'netns', 'exec', hostNs(hp.host), 'sh', '-c', cmd.text])
      : cmd.netns === null && cmd.lines.every((l) => l.startsWith('netns add')) ? run(['ip', '-batch', '-'], cmd.lines.join('\n') + '\n')
      : cmd.netns === null ? run(['ip', 'netns', 'exec', hostNs(hp.host), 'ip', '-batch', '-'], cmd.lines.join('\n') + '\n')
      : run(['ip', '-n', cmd.netns, '-batch', '-'], cmd.lines.join('\n') + '\n');
    if (r.code !== 0) throw new Error(`${hp.host} ${step.id}: ${r.out}`);
  }
}
function teardown(plan: LabPlan) {
  for (const hp of plan.hosts) for (const step of [...hp.steps].reverse()) for (const e of [...step.creates].reverse()) {
    const r = e.kind === 'netns' ? run(['sh', '-c', e.undo]) : run(['ip', 'netns', 'exec', hostNs(hp.host), 'sh', '-c', e.undo]);
    if (r.code !== 0) console.log(`undo failed ${hp.host} ${e.undo}: ${r.out}`);
  }
}
function verify(plan: LabPlan): number {
  let bad = 0;
  for (const e of plan.expectations) {
    const from = plan.containers.find((c) => c.name === e.from)!;
    const ns = from.netns ?? hostNs(from.host);
    const r = run(['ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', e.address]);
    const ok = (r.code === 0) === e.reachable;
    if (!ok) bad++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${e.from} -> ${e.to} ${e.address} (${e.network}) expected ${e.reachable ? 'reach' : 'isolated'}`);
  }
  return bad;
}
const scenario = process.argv[2] ?? 'all';
const specs: Record<string, Parameters<typeof specOf>[0]> = {
  multi: { name: 'plantest', hosts: HOSTS, networks: [
      { name: 'ov', mode: 'vxlan' }, { name: 'rt', mode: 'routed' }, { name: 'br', mode: 'bridge' }, { name: 'br2', mode: 'bridge' },
      { name: 'nt', mode: 'nat', options: { publish: [8080] } }, { name: 'nt2', mode: 'nat' }, { name: 'mv', mode: 'macvlan' }, { name: 'mp', mode: 'macvlan', options: { macvlanMode: 'private' } },
      { name: 'iso', mode: 'none' }, { name: 'hn', mode: 'host' }],
    containers: [
      { name: 'a', host: 'h1', networks: ['ov', 'rt', 'br', 'nt', 'mv'] },
      { name: 'b', host: 'h2', networks: ['ov', 'rt', 'br', 'nt', 'mv'] },
      { name: 'c', host: 'h3', networks: ['ov', 'rt'] },
      { name: 'd', host: 'h1', networks: ['br', 'nt', 'mp'] },
      { name: 'e', host: 'h1', networks: ['br2', 'nt2', 'mp'] },
      { name: 'f', host: 'h2', networks: ['mp'] },
      { name: 'p', host: 'h1', shareNetnsWith: 'a' },
      { name: 'z', host: 'h1', networks: ['iso'] },
      { name: 'hm', host: 'h2', networks: ['hn'] },
      { name: 'hm3', host: 'h3', networks: ['hn'] },
    ] },
};
const spec = specOf(specs[scenario === 'all' ? 'multi' : scenario]!);
const plan = planLab(spec, contextFor(HOSTS));
down();
let bad = 0;
try {
  up();
  apply(plan);
  bad = verify(plan);
  console.log('nft on h1:', run(['ip', 'netns', 'exec', hostNs('h1'), 'nft', 'list', 'table', 'ip', 'cnlab_plantest']).out.split('\n').length, 'lines');
  // published port: listen in d? use nc if available
  teardown(plan);
  for (const h of HOSTS) console.log(h, 'left links:', run(['ip', '-n', hostNs(h), '-br', 'link']).out.split('\n').filter((l) => l && !/^(lo|eth0)/.test(l)), 'nft:', run(['ip', 'netns', 'exec', hostNs(h), 'nft', 'list', 'tables']).out.trim(), 'fwd:', run(['ip', 'netns', 'exec', hostNs(h), 'sysctl', '-n', 'net.ipv4.ip_forward']).out.trim());
  console.log('lab namespaces left:', run(['ip', 'netns', 'list']).out.split('\n').filter((l) => l.startsWith('cnl-plantest')));
} finally {
  down();
  execFileSync('sleep', ['1.5']);
  console.log('after cleanup:', run(['ip', 'netns', 'list']).out.trim() || '(none)', bad ? `${bad} FAILED` : 'all expectations met');
}
