// Teardown, status and sweep scripts: valid sh, and their markers read back correctly. Their real
// behaviour on hosts is covered by the topology integration tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLeftovers, parseStatus, parseSwept, renderStatusScript, renderSweepScript, renderTeardownScript } from './ledger-scripts';
import { labNames } from './naming';
import { parsePings, renderVerifyScript } from './verify-script';

const syntaxOk = (script: string): void => {
  execFileSync('/bin/sh', ['-n'], { input: script });
};

describe('ledger scripts', () => {
  it('are all valid sh', () => {
    for (const script of [renderTeardownScript(labNames('demo')), renderStatusScript(), renderSweepScript(true), renderSweepScript(false)]) {
      expect(() => syntaxOk(script)).not.toThrow();
    }
  });

  it('only lists in a dry run: every removal is behind the dry-run switch (behaviour: integration tests)', () => {
    expect(renderSweepScript(true)).toContain('if [ 1 = 1 ]; then swept lab "$lab"; continue; fi');
    expect(renderSweepScript(true)).toContain('[ 1 = 1 ] || ip netns del');
    expect(renderSweepScript(true)).toContain('[ 1 = 1 ] || ip link del');
    expect(renderSweepScript(false)).toContain('[ 0 = 1 ] || ip netns del');
  });

  it('restores a sysctl only when no other lab still lists it', () => {
    expect(renderTeardownScript(labNames('demo'))).toMatch(/if \[ "\$kind" = sysctl \][\s\S]*grep -l/);
  });

  it('reads status, leftovers and sweep markers', () => {
    expect(parseStatus('@@cnlab-lab demo applied abc123 no 12\nnoise\n@@cnlab-lab old applying def no 3\n')).toEqual([
      { labId: 'demo', state: 'applied', fingerprint: 'abc123', applyRunning: false, ledgerEntries: 12 },
      { labId: 'old', state: 'applying', fingerprint: 'def', applyRunning: false, ledgerEntries: 3 },
    ]);
    expect(parseLeftovers('@@cnlab-left netns cnl-demo-c1\n@@cnlab-left link c1a2bv123456789\n')).toEqual([
      { kind: 'netns', name: 'cnl-demo-c1' },
      { kind: 'link', name: 'c1a2bv123456789' },
    ]);
    expect(parseSwept('@@cnlab-swept lab kill1\n')).toEqual([{ kind: 'lab', name: 'kill1' }]);
  });
});

describe('verify script', () => {
  const containers = new Map([
    ['a', { name: 'a', host: 'h1', netns: 'cnl-demo-a', sharesWith: null, cpuset: null, interfaces: [] }],
    ['b', { name: 'b', host: 'h1', netns: null, sharesWith: null, cpuset: null, interfaces: [] }],
  ]);
  const expectations = [
    { from: 'a', to: 'b', address: '198.19.0.3', network: 'lan', reachable: true },
    { from: 'b', to: 'a', address: '198.19.0.2', network: 'lan', reachable: false },
  ];

  it('pings from the source namespace, or from the host for host mode', () => {
    const script = renderVerifyScript(expectations, containers, [0, 1]);
    expect(() => syntaxOk(script)).not.toThrow();
    expect(script).toContain('probe 0 cnl-demo-a 198.19.0.3 2 &');
    expect(script).toContain('probe 1 - 198.19.0.2 1 &');
  });

  it('pings a pair that must answer a second time after a miss, and a pair that must not only once', () => {
    // A stand-in ping on PATH (a lost echo cannot be arranged on demand): it fails its first call per
    // address and answers the next, and counts its calls; the script runs with the host's own sh.
    const dir = mkdtempSync(join(tmpdir(), 'cnlab-verify-'));
    try {
      writeFileSync(join(dir, 'ping'), `#!/bin/sh\nfor last; do :; done\necho "$last" >> ${dir}/calls\n[ "$(grep -c "^$last$" ${dir}/calls)" -ge 2 ]\n`, { mode: 0o755 });
      const script = renderVerifyScript(expectations, containers, [1]).replace('probe 1 - 198.19.0.2 1 &', 'probe 1 - 198.19.0.2 1 &\nprobe 0 - 198.19.0.3 2 &');
      const stdout = execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
      expect(parsePings(stdout)).toEqual(new Map([[0, true], [1, false]]));
      expect(readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['198.19.0.2', '198.19.0.3', '198.19.0.3']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads replies by expectation index', () => {
    expect(parsePings('@@cnlab-ping 0 0\n@@cnlab-ping 1 1\n')).toEqual(new Map([[0, true], [1, false]]));
  });
});
