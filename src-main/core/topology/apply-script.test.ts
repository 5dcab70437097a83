// The apply script renderer: ledger before objects, precheck, batching, markers, failure mapping.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseFailure, parseOkLine, renderApplyScript } from './apply-script';
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
    expect(script.match(/t0=\$\(now\)/g)).toHaveLength(4);
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
