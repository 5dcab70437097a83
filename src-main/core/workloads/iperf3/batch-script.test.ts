// The batched iperf3 host scripts: their argv (values only as argv words, refused when they could split),
// the framing of the clients' output parsed back from a real capture of the script (see fixtures/README.md),
// and the scripts themselves run by this machine's sh with a stand-in iperf3 (no namespaces, no root).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../../tests/support/cnlab-error';
import { iperf3ParamsSchema } from '../workload-params';
import { clientBatchArgv, clientFlowLines, parseClientBatchOutput, parseServerBatchLine, serverBatchArgv, serverExitCode, serverFlowLines } from './batch-script';
import { iperf3ClientOptions } from './executor';
import { parseIperf3Json } from './json-parser';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('argv', () => {
  it('passes flows as lines of plain words, "-" for the host namespace', () => {
    expect(serverFlowLines([{ id: 'f1', netns: 'cnl-x1-node1', port: 5201 }, { id: 'f2', netns: null, port: 5202 }])).toBe('f1 cnl-x1-node1 5201\nf2 - 5202');
    expect(clientFlowLines([{ id: 'f1', netns: 'cnl-x1-node2', address: '198.19.0.3', port: 5201 }])).toBe('f1 cnl-x1-node2 198.19.0.3 5201');
  });

  it('gives the script, the flows and then iperf3’s client options as separate words', () => {
    const options = iperf3ClientOptions(iperf3ParamsSchema.parse({ tool: 'iperf3', duration: 2 }), false);
    const argv = clientBatchArgv('/tmp/cnlab-iperf3.abc', [{ id: 'f1', netns: null, address: '10.0.0.1', port: 5201 }], options);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3)).toEqual(['iperf3-clients', '/tmp/cnlab-iperf3.abc', 'f1 - 10.0.0.1 5201', '-t', '2', '--connect-timeout', '5000', '-J']);
    expect(serverBatchArgv([{ id: 'f1', netns: null, port: 5201 }]).slice(3)).toEqual(['iperf3-servers', 'f1 - 5201']);
  });

  it('refuses a value that could split a flow line or expand in sh', () => {
    for (const netns of ['a b', 'x\nf9 - 1', '$(id)', '']) {
      expect(thrownCnlabError(() => serverFlowLines([{ id: 'f1', netns, port: 1 }])).message).toContain('cannot be passed to the host script');
    }
    expect(() => clientFlowLines([{ id: 'f1', netns: null, port: 1 }])).toThrow(/address/);
  });
});

describe('parseClientBatchOutput', () => {
  it('splits a real capture into each flow’s exit code, -J result and stderr', () => {
    const { flows, complete } = parseClientBatchOutput(fixture('iperf3-3.12-batch-clients.txt'));
    expect(complete).toBe(true);
    expect([...flows.keys()]).toEqual(['f1', 'f2', 'f3']);
    for (const flow of flows.values()) {
      expect(flow.exitCode).toBe(0);
      expect(flow.stderr).toBe('');
      const result = parseIperf3Json(flow.json);
      expect(result.directions[0]?.bitsPerSecond).toBeGreaterThan(0);
      expect(result.intervals).toHaveLength(2);
    }
  });

  it('says a run cut short is incomplete and keeps the flows it got', () => {
    const text = fixture('iperf3-3.12-batch-clients.txt');
    const cut = text.slice(0, text.indexOf('@@cnlab-flow f2'));
    const { flows, complete } = parseClientBatchOutput(cut);
    expect(complete).toBe(false);
    expect([...flows.keys()]).toEqual(['f1']);
  });

  it('reads a flow without an exit code (its client was killed) as null', () => {
    const { flows } = parseClientBatchOutput('\n@@cnlab-flow f1 \n\n@@cnlab-stderr f1\niperf3: interrupt\n@@cnlab-done\n');
    expect(flows.get('f1')).toEqual({ id: 'f1', exitCode: null, json: '', stderr: 'iperf3: interrupt' });
  });
});

describe('server lines', () => {
  it('splits the flow id from what its server printed, and reads the exit marker', () => {
    const lines = fixture('iperf3-3.12-batch-servers.txt').split('\n').filter(Boolean);
    const parsed = lines.map(parseServerBatchLine);
    expect(new Set(parsed.map((line) => line?.id))).toEqual(new Set(['f1', 'f2', 'f3']));
    expect(parsed.filter((line) => line?.text.startsWith('Server listening on'))).toHaveLength(3);
    expect(parsed.map((line) => serverExitCode(line?.text ?? '')).filter((code) => code !== null)).toEqual([0, 0, 0]);
    expect(serverExitCode('Server listening on 5201')).toBeNull();
  });
});

describe('the scripts in sh', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnlab-batch-script-'));
    // Echoes its argv as JSON-ish text, so the test sees exactly which words each flow's iperf3 got.
    writeFileSync(join(dir, 'iperf3'), '#!/bin/sh\necho "argv:$*"\necho "to stderr" >&2\n[ "$2" = 10.0.0.9 ] && exit 3\nexit 0\n');
    chmodSync(join(dir, 'iperf3'), 0o755);
    env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('server: prefixes every line with its flow id and ends each flow with its exit marker', () => {
    const [, , script, name, flows] = serverBatchArgv([{ id: 'f1', netns: null, port: 5201 }, { id: 'f2', netns: null, port: 5202 }]);
    const out = execFileSync('sh', ['-c', script as string, name as string, flows as string], { env, encoding: 'utf8' });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['f1 @@cnlab-exit 0', 'f1 argv:-s -1 -p 5201 --forceflush', 'f1 to stderr', 'f2 @@cnlab-exit 0', 'f2 argv:-s -1 -p 5202 --forceflush', 'f2 to stderr']);
  });

  it('client: runs each flow with the shared options, and frames its exit code, stdout and stderr', () => {
    const work = mkdtempSync(join(dir, 'run-'));
    const argv = clientBatchArgv(work, [{ id: 'f1', netns: null, address: '10.0.0.1', port: 5201 }, { id: 'f2', netns: null, address: '10.0.0.9', port: 5202 }], ['-t', '1', '-J', "it's"]);
    const out = execFileSync('sh', argv.slice(1), { env, encoding: 'utf8' });
    const { flows, complete } = parseClientBatchOutput(out);
    expect(complete).toBe(true);
    expect(flows.get('f1')).toEqual({ id: 'f1', exitCode: 0, json: "argv:-c 10.0.0.1 -p 5201 -t 1 -J it's", stderr: 'to stderr' });
    expect(flows.get('f2')?.exitCode).toBe(3);
  });
});
