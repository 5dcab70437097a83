// Benchmark of the SSH host layer on the testbed: connect time and exec round trip on one pooled
// connection, each as a ratio against OpenSSH measured in the same run (a fresh `ssh` and a
// ControlMaster-multiplexed `ssh`, the best the stock client does).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { openTestService, testbedHost } from '../support/testbed-hosts.ts';
import { formatSummary, summarise, timeRepeated, type Summary } from './stats.ts';

const run = promisify(execFile);
const RUNS = 30;

export interface SshLatencyResult {
  cnlabConnect: Summary;
  opensshFresh: Summary;
  cnlabRoundTrip: Summary;
  opensshMuxRoundTrip: Summary;
  cnlabScript100: Summary;
}

async function cnlabConnectSamples(testbed: Testbed): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const fixture = await openTestService([testbedHost(testbed, 'h1')]);
    try {
      const started = performance.now();
      await fixture.service.executor('h1').exec('true');
      samples.push(performance.now() - started);
    } finally {
      await fixture.dispose();
    }
  }
  return samples;
}

export async function benchSshLatency(): Promise<SshLatencyResult> {
  const testbed = await startTestbed({ hosts: 1 });
  const scratch = mkdtempSync(join(tmpdir(), 'cnlab-bench-'));
  const ssh = ['-F', testbed.sshConfigPath, '-o', 'BatchMode=yes'];
  const mux = [...ssh, '-o', 'ControlMaster=auto', '-o', `ControlPath=${join(scratch, 'mux')}`, '-o', 'ControlPersist=60'];
  const fixture = await openTestService([testbedHost(testbed, 'h1')]);
  try {
    const cnlabConnect = summarise(await cnlabConnectSamples(testbed));
    const opensshFresh = summarise(await timeRepeated(RUNS, () => run('ssh', [...ssh, 'h1', 'true'])));
    const executor = fixture.service.executor('h1');
    await executor.exec('true');
    const cnlabRoundTrip = summarise(await timeRepeated(RUNS, () => executor.exec('true')));
    await run('ssh', [...mux, 'h1', 'true']);
    const opensshMuxRoundTrip = summarise(await timeRepeated(RUNS, () => run('ssh', [...mux, 'h1', 'true'])));
    const script = Array.from({ length: 100 }, (_, i) => `echo ${i} >/dev/null`).join('\n');
    const cnlabScript100 = summarise(await timeRepeated(RUNS, () => executor.runScript(script)));
    await run('ssh', [...mux, '-O', 'exit', 'h1']).catch(() => undefined);
    return { cnlabConnect, opensshFresh, cnlabRoundTrip, opensshMuxRoundTrip, cnlabScript100 };
  } finally {
    await fixture.dispose();
    await testbed.teardown();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function sshLatencyMarkdown(result: SshLatencyResult): string {
  const ratio = (a: Summary, b: Summary): string => `${(a.median / b.median).toFixed(2)}x`;
  return [
    '## SSH host layer (issue 2)',
    '',
    `One testbed host, ${RUNS} runs each; min / median / max. Peers are OpenSSH's own client in the same run.`,
    '',
    '| figure | cnlab | OpenSSH | ratio (median) |',
    '|---|---|---|---|',
    `| connect + auth + first exec (fresh connection, host key verified) | ${formatSummary(result.cnlabConnect)} | ${formatSummary(result.opensshFresh)} (\`ssh h1 true\`) | ${ratio(result.cnlabConnect, result.opensshFresh)} |`,
    `| exec round trip on one pooled connection | ${formatSummary(result.cnlabRoundTrip)} | ${formatSummary(result.opensshMuxRoundTrip)} (ControlMaster mux) | ${ratio(result.cnlabRoundTrip, result.opensshMuxRoundTrip)} |`,
    `| batched script of 100 commands, one round trip | ${formatSummary(result.cnlabScript100)} | — | — |`,
    '',
  ].join('\n');
}
