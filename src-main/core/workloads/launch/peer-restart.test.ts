// The peer-restart timing: which daemon of the peer host is restarted (agent or BIRD), the script's
// validity and its output, and a real run of it on this machine with a stand-in restart.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ControlPlanePlan } from '../../topology/plan';
import { parseRestartLines, restartScript, restartTarget } from './peer-restart';

const daemon = (host: string, program: 'etcd' | 'watch-agent' | 'bird', dir: string): ControlPlanePlan['daemons'][number] => ({
  host,
  program,
  version: null,
  configFile: `${dir}/${program}.conf`,
  pidFile: `${dir}/${program}.pid`,
  logFile: `${dir}/${program}.log`,
});

const etcd: ControlPlanePlan = {
  network: 'net',
  kind: 'etcd',
  daemons: [daemon('h2', 'etcd', '/run/cnlab/l/etcd'), daemon('h2', 'watch-agent', '/run/cnlab/l'), daemon('h1', 'watch-agent', '/run/cnlab/l')],
  settings: {},
  configs: {},
};
const bgp: ControlPlanePlan = { network: 'net', kind: 'bgp', daemons: [daemon('h1', 'bird', '/run/cnlab/l/bird'), daemon('h2', 'bird', '/run/cnlab/l/bird')], settings: { socket: '/run/cnlab/l/bird/bird.ctl' }, configs: {} };

describe('restartTarget', () => {
  it("restarts the peer host's watch agent for etcd (not etcd), waiting for its log to program the measured block", () => {
    const target = restartTarget(etcd, 'h2', '198.19.1.2');
    expect(target.program).toBe('watch-agent');
    expect(target.restart).toContain("cat /run/cnlab/l/watch-agent.pid");
    expect(target.restart).toContain("sh /run/cnlab/l/watch-agent.conf </dev/null >>/run/cnlab/l/watch-agent.log");
    expect(target.relearned).toEqual({ logFile: '/run/cnlab/l/watch-agent.log', text: 'lease 198.19.1.0-24: programmed' });
  });

  it("restarts the peer host's BIRD with its socket and pid file, and waits for the reply alone", () => {
    const target = restartTarget(bgp, 'h2', '198.19.1.2');
    expect(target.restart).toContain('bird -f -c /run/cnlab/l/bird/bird.conf -s /run/cnlab/l/bird/bird.ctl -P /run/cnlab/l/bird/bird.pid');
    expect(target.relearned).toBeNull();
    expect(() => restartTarget(bgp, 'h9', '198.19.1.2')).toThrow(/no bird on host h9/);
  });
});

describe('restartScript', () => {
  it('renders scripts that sh accepts', () => {
    for (const target of [restartTarget(etcd, 'h2', '198.19.1.2'), restartTarget(bgp, 'h2', '198.19.1.2')]) {
      expect(() => execFileSync('/bin/sh', ['-n'], { input: restartScript(target) })).not.toThrow();
    }
  });

  it('reads its lines', () => {
    expect(parseRestartLines(['@@cnlab-clock monotonic', 'started 12000000', 'relearned 40000000', 'reply 41500000'])).toEqual({ clock: 'monotonic', startedMs: 12, relearnedMs: 40, replyMs: 41.5 });
    expect(parseRestartLines(['started 5000000', 'noreply'])).toMatchObject({ startedMs: 5, relearnedMs: null, replyMs: null });
  });

  it('times a stand-in restart on this machine and gives up on a namespace that does not exist within its bound', () => {
    const out = execFileSync('/bin/sh', ['-c', restartScript({ restart: 'sleep 0.05', relearned: null, program: 'stand-in' }), 'sh', '300', 'cnlab-no-such-netns', '127.0.0.1']).toString();
    const times = parseRestartLines(out.split('\n'));
    expect(times.startedMs).toBeGreaterThanOrEqual(40);
    expect(times.replyMs).toBeNull();
    expect(out).toContain('noreply');
  });
});
