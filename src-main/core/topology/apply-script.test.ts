// The apply script renderer: ledger before objects, precheck, batching, markers, failure mapping,
// tc batches and the first-reply measurement.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_REPLY_BOUND_MS, FIRST_REPLY_TRIES, clockText, parseClockLine, parseFailure, parseOkLine, renderApplyScript } from './apply-script';

function readable(path: string): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}
import { labNames } from './naming';
import type { HostPlan } from './plan';

const names = labNames('demo');
const plan: HostPlan = {
  host: 'h1',
  steps: [
    {
      id: 'net/lan',
      phase: 'host',
      description: 'bridge lan',
      creates: [{ kind: 'link', name: 'cXbr', undo: 'ip link del cXbr' }],
      run: [{ kind: 'ip-batch', netns: null, lines: ['link add cXbr type bridge', 'link set cXbr up'] }],
    },
    {
      id: 'host/forwarding',
      phase: 'host',
      description: 'forwarding',
      creates: [{ kind: 'sysctl', name: 'net.ipv4.ip_forward', undo: 'sysctl -qw net.ipv4.ip_forward=0' }],
      run: [{ kind: 'shell', text: 'sysctl -qw net.ipv4.ip_forward=1' }],
    },
    {
      id: 'c1/netns',
      phase: 'netns',
      container: 'c1',
      description: 'namespace of c1',
      creates: [{ kind: 'netns', name: 'cnl-demo-c1', undo: 'ip netns del cnl-demo-c1' }],
      run: [
        { kind: 'ip-batch', netns: null, lines: ['netns add cnl-demo-c1'] },
        { kind: 'ip-batch', netns: 'cnl-demo-c1', lines: ['link set lo up'] },
      ],
    },
    {
      id: 'c1/links',
      phase: 'links',
      container: 'c1',
      description: 'veth of c1',
      creates: [{ kind: 'link', name: 'cXv1', undo: 'ip link del cXv1' }],
      run: [{ kind: 'ip-batch', netns: null, lines: ['link add cXv1 type veth peer name eth0 netns cnl-demo-c1', 'link set cXv1 master cXbr'] }],
    },
  ],
};

describe('renderApplyScript', () => {
  it('renders a script that sh accepts', () => {
    for (const timings of [false, true]) {
      const { script } = renderApplyScript(names, plan, { fingerprint: 'f00', timings });
      expect(() => execFileSync('/bin/sh', ['-n'], { input: script })).not.toThrow();
    }
  });

  it('writes every ledger entry before the first object is created', () => {
    const { script } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: false });
    const firstLedger = script.indexOf('cnl-demo-c1\tip netns del cnl-demo-c1');
    const firstCreate = script.indexOf('link add cXbr type bridge');
    expect(firstLedger).toBeGreaterThan(0);
    expect(firstLedger).toBeLessThan(firstCreate);
    expect(script).toContain("printf 'sysctl\\t%s\\tsysctl -qw %s=%s\\n'");
  });

  it('checks that nothing it will create exists yet', () => {
    const { script } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: false });
    expect(script.indexOf('planned-names')).toBeLessThan(script.indexOf('link add cXbr'));
    expect(script).toMatch(/cXbr\ncnl-demo-c1\ncXv1\n/);
  });

  it('puts all host-namespace ip lines of an untimed apply into one batch, in plan order', () => {
    const { chunks } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: false });
    const hostBatch = chunks[0]?.command;
    expect(hostBatch).toEqual({ kind: 'ip-batch', netns: null, lines: ['link add cXbr type bridge', 'link set cXbr up', 'netns add cnl-demo-c1', 'link add cXv1 type veth peer name eth0 netns cnl-demo-c1', 'link set cXv1 master cXbr'] });
    expect(chunks.map((chunk) => chunk.command.kind)).toEqual(['ip-batch', 'ip-batch', 'shell']);
  });

  it('keeps one chunk per command and times every step when timings are on', () => {
    const { script, chunks } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: true });
    expect(chunks).toHaveLength(5);
    expect(script.match(/now; t0=\$clk/g)).toHaveLength(4);
  });

  it('injects a failure after a chosen step only when asked', () => {
    expect(renderApplyScript(names, plan, { fingerprint: 'f00', timings: false }).script).not.toContain('injected fault');
    expect(renderApplyScript(names, plan, { fingerprint: 'f00', timings: false, failAfterStep: 'c1/netns' }).script).toContain('injected fault after step c1/netns');
  });
});

describe('parsing the script output', () => {
  it('reads progress lines with and without host timings', () => {
    expect(parseOkLine('@@cnlab-ok c1/links 2500000')).toEqual({ stepId: 'c1/links', durationMs: 2.5 });
    expect(parseOkLine('@@cnlab-ok net/lan')).toEqual({ stepId: 'net/lan', durationMs: null });
    expect(parseOkLine('something else')).toBeNull();
  });

  it('names the step of the failing ip batch line', () => {
    const { chunks } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: false });
    const output = '@@cnlab-fail 0\n@@cnlab-err RTNETLINK answers: File exists\n@@cnlab-err Command failed -:4\n';
    expect(parseFailure(output, chunks)).toEqual({ stepId: 'c1/links', stderr: 'RTNETLINK answers: File exists\nCommand failed -:4' });
  });

  it('reports a precheck refusal as such', () => {
    expect(parseFailure('@@cnlab-fail precheck\n@@cnlab-err already exist on this host, not created by this apply: cXbr \n', [])?.stepId).toBe('precheck');
  });
});

describe('shaping and first-reply in the apply script', () => {
  const shaped: HostPlan = {
    host: 'h1',
    steps: [
      ...plan.steps,
      {
        id: 'c1/shaping',
        phase: 'shaping',
        container: 'c1',
        description: 'shape eth0 and cXv1',
        creates: [],
        run: [
          { kind: 'tc-batch', netns: null, lines: ['qdisc replace dev cXv1 root handle c1ab: tbf rate 50mbit burst 25000 latency 50ms'] },
          { kind: 'tc-batch', netns: 'cnl-demo-c1', lines: ['qdisc replace dev eth0 root handle c1ab: tbf rate 50mbit burst 25000 latency 50ms'] },
        ],
      },
      {
        id: 'c1/first-reply',
        phase: 'first-reply',
        container: 'c1',
        description: 'first ping reply',
        creates: [],
        run: [{ kind: 'first-reply', netns: 'cnl-demo-c1', address: '198.19.0.1' }],
      },
    ],
  };

  it('runs tc lines after every ip batch, host first, through tc -n in namespaces, and leaves measurements out untimed', () => {
    const { script, chunks } = renderApplyScript(names, shaped, { fingerprint: 'f00', timings: false });
    expect(chunks.map((chunk) => [chunk.command.kind, 'netns' in chunk.command ? chunk.command.netns : null])).toEqual([
      ['ip-batch', null],
      ['ip-batch', 'cnl-demo-c1'],
      ['tc-batch', null],
      ['tc-batch', 'cnl-demo-c1'],
      ['shell', null],
    ]);
    expect(script).toContain('tc -batch - 2>"$err" <<');
    expect(script).toContain('tc -n cnl-demo-c1 -batch - 2>"$err" <<');
    expect(script).not.toMatch(/\bping /);
    expect(() => execFileSync('/bin/sh', ['-n'], { input: script })).not.toThrow();
  });

  it('times the first reply with a bounded ping loop that never fails the apply', () => {
    const { script } = renderApplyScript(names, shaped, { fingerprint: 'f00', timings: true });
    expect(script).toContain('nsenter --net=/run/netns/cnl-demo-c1 ping -n -q -c 1 -W 1 198.19.0.1');
    expect(script).not.toMatch(/ping [^\n]*\|\| fail/);
    expect(script).toContain(`printf '%s %s %s%s +%s\\n' @@cnlab-ok c1/first-reply "$(( clk - t0 ))" "$fr" "$(( t0 - s0 ))"`);
    expect(() => execFileSync('/bin/sh', ['-n'], { input: script })).not.toThrow();
  });

  it('refuses, before anything, a device that outlives the lab and has a root qdisc cnlab did not set', () => {
    const underlay: HostPlan = {
      host: 'h1',
      steps: [
        {
          id: 'host/underlay-shaping/eth1',
          phase: 'shaping',
          description: 'shape eth1',
          creates: [{ kind: 'qdisc', name: 'eth1', undo: 'tc qdisc del dev eth1 root handle c1ab:' }],
          run: [{ kind: 'tc-batch', netns: null, lines: ['qdisc replace dev eth1 root handle c1ab: tbf rate 1gbit burst 500000 latency 50ms'] }],
        },
      ],
    };
    const { script } = renderApplyScript(names, underlay, { fingerprint: 'f00', timings: false });
    const check = script.indexOf("tc qdisc show dev eth1 root 2>/dev/null | grep -v '^qdisc [^ ]* 0: '");
    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(script.indexOf('eth1\ttc qdisc del dev eth1 root handle c1ab:'));
  });

  /** Runs the timed script of a first-reply-only plan with a fake nsenter, in a scratch ledger folder. */
  function runFirstReply(fakeNsenter: string): { stdout: string; calls: number; ms: number } {
    const dir = mkdtempSync(join(tmpdir(), 'cnlab-first-reply-'));
    try {
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'nsenter'), `#!/bin/sh\necho x >> ${JSON.stringify(join(dir, 'calls'))}\n${fakeNsenter}\n`, { mode: 0o755 });
      const probeOnly: HostPlan = { host: 'h1', steps: shaped.steps.filter((step) => step.phase === 'first-reply') };
      const { script } = renderApplyScript({ ...names, ledgerDir: join(dir, 'lab') }, probeOnly, { fingerprint: 'f00', timings: true });
      const started = performance.now();
      const stdout = execFileSync('/bin/sh', ['-s'], { input: script, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } }).toString();
      const ms = performance.now() - started;
      return { stdout, calls: readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).length, ms };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('reports the time to the first reply after failed tries', () => {
    // Fails twice, then answers.
    const run = runFirstReply(`[ "$(wc -l < "$(dirname "$0")/../calls")" -ge 3 ]`);
    expect(run.calls).toBe(3);
    const ok = parseOkLine(run.stdout.trim().split('\n').pop() ?? '');
    expect(ok).toEqual({ stepId: 'c1/first-reply', durationMs: expect.any(Number) as unknown, startMs: expect.any(Number) as unknown });
    expect(ok?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('gives up after a bounded number of tries and says no reply came', () => {
    const run = runFirstReply('exit 1');
    expect(run.calls).toBe(FIRST_REPLY_TRIES);
    expect(run.ms).toBeLessThan(FIRST_REPLY_BOUND_MS + 2000);
    expect(parseOkLine(run.stdout.trim().split('\n').pop() ?? '')).toMatchObject({ stepId: 'c1/first-reply', noReply: true });
  }, 20_000);

  it('reads the no-reply note of a progress line', () => {
    expect(parseOkLine('@@cnlab-ok c1/first-reply 5000000000 no-reply')).toEqual({ stepId: 'c1/first-reply', durationMs: 5000, noReply: true });
    expect(parseOkLine('@@cnlab-ok c1/first-reply 1500000')).toEqual({ stepId: 'c1/first-reply', durationMs: 1.5 });
    expect(parseOkLine('@@cnlab-ok c1/first-reply 1500000 no-reply +2500000')).toEqual({ stepId: 'c1/first-reply', durationMs: 1.5, noReply: true, startMs: 2.5 });
    expect(parseOkLine('@@cnlab-ok c1/links 1500000 +0')).toEqual({ stepId: 'c1/links', durationMs: 1.5, startMs: 0 });
  });

  it('times with the monotonic clock of /proc/timer_list when readable, else with realtime guarded by uptime', () => {
    const { script } = renderApplyScript(names, plan, { fingerprint: 'f00', timings: true });
    expect(script).toContain(clockText().join('\n'));
    const out = execFileSync('/bin/sh', ['-c', `${clockText().join('\n')}\nnow; a=$clk; sleep 0.05; now; echo "$(( (clk - a) / 1000000 ))"`]).toString();
    const [clockLine = '', elapsed = ''] = out.trim().split('\n');
    expect(parseClockLine(clockLine)?.clock).toBe(readable('/proc/timer_list') ? 'monotonic' : 'realtime');
    expect(Number(elapsed)).toBeGreaterThanOrEqual(50);
    expect(Number(elapsed)).toBeLessThan(1000);
    expect(parseClockLine('@@cnlab-clock realtime stepped')).toEqual({ clock: 'realtime', stepped: true });
    expect(parseClockLine('@@cnlab-ok x')).toBeNull();
  });
});
