// The console's LabApi end to end below the UI: the real backend (openLabConsole) driven through the
// dispatcher both transports use, on the testbed's real sshd and kernel: trust-on-first-use, facts,
// check/preview/apply/verify/teardown as jobs with batched events, cancel, the command log, bad payloads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostView, JobResult, LabApiEvent } from '../../src-main/contract/lab-api';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { openTestConsole, type TestConsole } from '../support/lab-console';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { hostKeyFingerprint } from '../support/testbed-hosts';

let testbed: Testbed;
let lab: TestConsole;
const events = (): LabApiEvent[] => lab.events();
const call = <T>(method: string, payload?: unknown) => lab.call<T>(method, payload);
const value = <T>(method: string, payload?: unknown) => lab.value<T>(method, payload);
const finished = (jobId: string) => lab.finished(jobId);

function hostInput(name: string) {
  const host = testbed.host(name);
  return { name, kind: 'ssh', address: host.address, port: host.port, user: 'root', auth: { type: 'key', keyFile: testbed.clientKeyPath } };
}

const demoText = readFileSync(join(__dirname, '..', '..', 'examples', 'demo-bridge-vxlan.yaml'), 'utf8');

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
  // An empty HOME and config dir: the testbed's keys are unknown, so trust must be given explicitly.
  lab = await openTestConsole('cnlab-api-');
}, 120_000);

afterAll(async () => {
  await lab?.dispose();
  await testbed?.teardown();
});

describe('requests are validated before anything runs', () => {
  it('refuses an unknown method and a bad payload with the field and the fix', async () => {
    const unknown = await call('lab:rmRf', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const bad = await call('saveHost', { host: { name: 'x y', kind: 'ssh', auth: { type: 'agent' } } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.message).toMatch(/saveHost: invalid request: host\.(name|address)/);
      expect(bad.error.message).not.toMatch(/\n\s+at /);
    }
  });

  it('answers a request that fails with a plain code and message, no stack', async () => {
    const missing = await call('readTopology', { name: 'nope' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringMatching(/topology nope is not saved/) } });
  });
});

describe('hosts: trust on first use, facts', () => {
  it('adds two hosts; a first check shows the unknown key fingerprint; only that fingerprint is trusted', async () => {
    for (const name of ['h1', 'h2']) await value('saveHost', { host: hostInput(name) });
    const first = await call('checkHost', { name: 'h1' });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.error.code).toBe('host-key-unknown');
    const fingerprint = String(first.error.details?.fingerprint);
    expect(fingerprint).toMatch(/^SHA256:/);
    const wrong = await call('trustHostKey', { name: 'h1', fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const trusted = await value<{ privilege: string }>('trustHostKey', { name: 'h1', fingerprint });
    expect(trusted.privilege).toBe('root');
    const h2 = await call('checkHost', { name: 'h2' });
    if (!h2.ok) await value('trustHostKey', { name: 'h2', fingerprint: String(h2.error.details?.fingerprint) });
    const hosts = await value<HostView[]>('listHosts');
    expect(hosts.map((host) => [host.host.name, host.state])).toEqual([['h1', 'connected'], ['h2', 'connected']]);
    expect(events().some((event) => event.type === 'host-state' && event.host === 'h1' && event.view.state === 'key-unknown')).toBe(true);
  });

  it('probes every host as a job and lists their facts', async () => {
    const job = await value<{ jobId: string }>('probeAllHosts');
    const done = await finished(job.jobId);
    expect(done.outcome).toBe('succeeded');
    const hosts = await value<HostView[]>('listHosts');
    expect(hosts.every((host) => host.facts?.kernelFeatures.bridge?.supported === true)).toBe(true);
  });
});

describe('a two-host bridge + vxlan lab from text to torn down', () => {
  it('checks the text against cached facts without connecting and names problems', async () => {
    expect(await value('checkTopology', { text: demoText })).toEqual({ problems: [], labId: 'demo' });
    const unknownHost = await value<{ problems: string[] }>('checkTopology', { text: demoText.replace('hosts: [h1, h2]', 'hosts: [h1, h9]') });
    expect(unknownHost.problems.join('\n')).toMatch(/h9/);
    const broken = await value<{ problems: string[] }>('checkTopology', { text: 'v: 1\nname: Bad Name\n' });
    expect(broken.problems.length).toBeGreaterThan(0);
  });

  it('previews the exact script per host and changes nothing', async () => {
    const preview = await value<{ scripts: { host: string; script: string }[] }>('previewTopology', { text: demoText });
    expect(preview.scripts.map((script) => script.host)).toEqual(['h1', 'h2']);
    expect(preview.scripts[0]?.script).toMatch(/netns add cnl-demo-web/);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
  });

  it('cancelling an apply leaves nothing behind', async () => {
    const job = await value<{ jobId: string }>('applyTopology', { text: demoText });
    await value('cancelJob', { jobId: job.jobId });
    const done = await finished(job.jobId);
    expect(['cancelled', 'succeeded']).toContain(done.outcome);
    if (done.outcome === 'succeeded') await finished((await value<{ jobId: string }>('teardownLab', { labId: 'demo' })).jobId);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
  });

  it('applies as a job: every container reported up, progress reaches the total, events batched ≤ 10/s', async () => {
    const before = lab.batches.length;
    const job = await value<{ jobId: string }>('applyTopology', { text: demoText });
    // While it runs: no second job on the same lab, and the workspace cannot change under it.
    expect(await call('verifyLab', { labId: 'demo' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/lab demo is busy \(apply running\)/) } });
    expect(await call('openWorkspace', { dir: join(lab.scratch, 'elsewhere'), create: true })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/apply still running/) } });
    const done = await finished(job.jobId);
    expect(done.outcome).toBe('succeeded');
    const result = done.result as Extract<JobResult, { kind: 'apply' }>;
    expect(result.containers.map((container) => container.name).sort()).toEqual(['client', 'db', 'web']);
    expect(result.timings.find((timing) => timing.container === 'web')?.phases.map((phase) => phase.phase)).toContain('netns');
    const mine = events().filter((event) => 'jobId' in event && event.jobId === job.jobId);
    const up = mine.filter((event) => event.type === 'container-state' && event.state === 'up').map((event) => (event as { container: string }).container);
    expect(up.sort()).toEqual(['client', 'db', 'web']);
    const progress = mine.filter((event) => event.type === 'job-progress');
    const last = progress.at(-1) as Extract<LabApiEvent, { type: 'job-progress' }>;
    expect(last.done).toBe(last.total);
    const gaps = lab.batches.slice(before + 1).map((batch, index) => batch.at - (lab.batches[before + index] as { at: number }).at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(90);
  });

  it('verifies: every expected pair as expected', async () => {
    const job = await value<{ jobId: string }>('verifyLab', { labId: 'demo' });
    const done = await finished(job.jobId);
    const result = done.result as Extract<JobResult, { kind: 'verify' }>;
    expect(result.cells.length).toBeGreaterThan(0);
    expect(result.cells.every((cell) => cell.ok)).toBe(true);
  });

  it('logs every command with host, lab, exit code and duration, filterable', async () => {
    const log = await value<{ host: string; lab: string | null; exitCode: number | null; durationMs: number }[]>('getCommandLog', { lab: 'demo', host: 'h2' });
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((entry) => entry.host === 'h2' && entry.lab === 'demo' && entry.durationMs >= 0)).toBe(true);
    expect(events().some((event) => event.type === 'command')).toBe(true);
  });

  it('lists the applied lab with its containers and timings', async () => {
    expect(await value('listLabs')).toEqual([expect.objectContaining({ labId: 'demo', containerCount: 3 })]);
    const lab = await value<{ containers: unknown[]; timings: unknown[] }>('getLab', { labId: 'demo' });
    expect(lab.containers).toHaveLength(3);
    expect(lab.timings.length).toBe(3);
  });

  it('tears down: containers reported removed, nothing left on the hosts', async () => {
    const job = await value<{ jobId: string }>('teardownLab', { labId: 'demo' });
    const done = await finished(job.jobId);
    expect(done.outcome).toBe('succeeded');
    const removed = events().filter((event) => event.type === 'container-state' && event.jobId === job.jobId && event.state === 'removed');
    expect(removed).toHaveLength(3);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
    expect(await value('listLabs')).toEqual([]);
  });
});

describe('workspaces and topologies', () => {
  it('saves and reads a topology; a missing workspace is refused unless created', async () => {
    await value('saveTopology', { name: 'demo', text: demoText });
    expect(await value('listTopologies')).toEqual(['demo']);
    expect((await value<{ text: string }>('readTopology', { name: 'demo' })).text).toBe(demoText);
    const missing = await call('openWorkspace', { dir: join(lab.scratch, 'other'), create: false });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringMatching(/New workspace/) } });
    const created = await value<{ hostCount: number }>('openWorkspace', { dir: join(lab.scratch, 'other'), create: true });
    expect(created.hostCount).toBe(0);
    expect(await value('listRecentWorkspaces')).toEqual([join(lab.scratch, 'other'), join(lab.scratch, 'ws')]);
    await value('openWorkspace', { dir: join(lab.scratch, 'ws'), create: false });
    expect((await value<HostView[]>('listHosts')).map((host) => host.host.name)).toEqual(['h1', 'h2']);
  });
});

describe('a changed host key', () => {
  it('is refused, shown as key-changed, and cannot be trusted through the API', async () => {
    await testbed.regenerateHostKey('h2');
    const check = await call('checkHost', { name: 'h2' });
    expect(check).toMatchObject({ ok: false, error: { code: 'host-key-changed' } });
    const hosts = await value<HostView[]>('listHosts');
    expect(hosts.find((host) => host.host.name === 'h2')?.state).toBe('key-changed');
    const trust = await call('trustHostKey', { name: 'h2', fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(trust.ok).toBe(false);
    if (!check.ok) expect(check.error.message).toContain('cnlab hosts forget-key');
  });

  it('recovers the way the refusal says: forget-key in a terminal, then the new key is offered for an explicit trust', async () => {
    const forgot = await runCli(['--workspace', lab.workspaceDir, 'hosts', 'forget-key', 'h2'], lab.env);
    expect(forgot).toMatchObject({ code: 0, stdout: expect.stringMatching(/forgot 1 stored key/) });
    const check = await call('checkHost', { name: 'h2' });
    expect(check).toMatchObject({ ok: false, error: { code: 'host-key-unknown' } });
    if (check.ok) return;
    const fingerprint = String(check.error.details?.fingerprint);
    expect(fingerprint).toBe(hostKeyFingerprint(testbed, 'h2'));
    expect(await value<{ privilege: string }>('trustHostKey', { name: 'h2', fingerprint })).toMatchObject({ privilege: 'root' });
  });
});
