// The console's demo lab on this machine (root here): start → its hosts answer over real SSH with exactly
// the inventory entries it returned and no key trusted by hand → a restarted console finds it → stop leaves nothing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoLab, type DemoLabStarted } from '../../src-main/core/demo-lab/demo-lab';
import { parseTopologyText } from '../../src-main/core/topology/topology-schema';
import { listNetns } from '../../src-main/core/testbed/network.ts';
import { listRunDirs, readState } from '../../src-main/core/testbed/state.ts';
import { isTestbedRunning } from '../../src-main/core/testbed/testbed.ts';
import { openTestService } from '../support/testbed-hosts';

const scratch = mkdtempSync(join(tmpdir(), 'cnlab-demo-lab-test-'));
const stateDir = join(scratch, 'config', 'demo-lab');
let lab: DemoLab;
let started: DemoLabStarted;
const progress: string[] = [];

beforeAll(async () => {
  lab = new DemoLab({ stateDir });
  started = await lab.start({ onProgress: (done, total, message) => progress.push(`${done}/${total} ${message}`) });
});

afterAll(async () => {
  // Only reached with a live demo when a test failed half way; stop() is a no-op otherwise.
  await lab?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a cancelled demo lab start', () => {
  it('stops at the next step, says so and leaves no testbed', async () => {
    const cancelled = new DemoLab({ stateDir: join(scratch, 'cancelled') });
    const controller = new AbortController();
    const start = cancelled.start({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(start).rejects.toMatchObject({ code: 'cancelled' });
    expect(await cancelled.current()).toBeNull();
    // Other testbeds may run on this machine; only this process's runs count, and the only one left is the main demo.
    const ours = listRunDirs().filter((dir) => readState(dir)?.owner.pid === process.pid);
    expect(ours).toEqual([started.dir]);
  });
});

describe('the demo lab', () => {
  it('is available here (root) and reports each start step', async () => {
    expect(await lab.availability()).toEqual({ available: true });
    expect(progress.length).toBeGreaterThanOrEqual(3 + 3);
    expect(progress.at(-1)).toMatch(/^(\d+)\/\1 /);
    expect(progress.some((line) => line.includes('sshd is up on h3'))).toBe(true);
  });

  it('starts three hosts demo-h1..3 and an example topology on demo-h1 and demo-h2', () => {
    expect(started.hosts.map((host) => host.name)).toEqual(['demo-h1', 'demo-h2', 'demo-h3']);
    expect(isTestbedRunning(started.id)).toBe(true);
    const spec = parseTopologyText(started.topologyText, 'demo topology');
    expect(spec.name).toBe(started.topologyName);
    expect(spec.hosts).toEqual(['demo-h1', 'demo-h2']);
  });

  it('reaches every host over SSH with exactly the returned entries, without trusting any key', async () => {
    const fixture = await openTestService(started.hosts);
    try {
      const checks = await Promise.all(started.hosts.map((host) => fixture.service.checkConnection(host.name)));
      expect(checks.map((check) => check.privilege.kind)).toEqual(['root', 'root', 'root']);
      const names = await Promise.all(
        started.hosts.map(async (host) => (await fixture.service.executor(host.name).exec('hostname')).stdout.trim()),
      );
      expect(names).toEqual(['h1', 'h2', 'h3']);
      // Nothing was trusted on first use: cnlab's own key store stayed empty.
      expect(existsSync(join(fixture.configDir, 'known_hosts'))).toBe(false);
    } finally {
      await fixture.dispose();
    }
  });

  it('returns the running demo on a second start, and a restarted console finds it', async () => {
    expect((await lab.start()).id).toBe(started.id);
    const restarted = new DemoLab({ stateDir });
    expect(await restarted.current()).toEqual(started);
  });

  it('stops from a restarted console and leaves no namespace, process or file', async () => {
    const prefix = `cnl${started.id}-`;
    // A fresh instance has no in-memory testbed: it tears down from the testbed's state, which asserts nothing is left.
    await new DemoLab({ stateDir }).stop();
    expect(await lab.current()).toBeNull();
    expect(isTestbedRunning(started.id)).toBe(false);
    expect(existsSync(started.dir)).toBe(false);
    expect((await listNetns()).filter((name) => name.startsWith(prefix))).toEqual([]);
    expect(existsSync(join(stateDir, 'demo-lab.json'))).toBe(false);
  });
});
