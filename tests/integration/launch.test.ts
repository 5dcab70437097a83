// Network launch time on the testbed: real timed applies of none, bridge, macvlan and vxlan labs give N
// samples each with the step breakdown, vxlan measured from a peer on the other host, and every run
// (also a cancelled one) leaves nothing on the hosts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src-main/core/topology/lab-service';
import { runLaunch, type LaunchRun } from '../../src-main/core/workloads/launch/launch-workload';
import type { CommandRecord, Measurement, WorkloadContext } from '../../src-main/core/workloads/workload-context';
import { launchParamsSchema } from '../../src-main/core/workloads/workload-params';
import { expectNothingLeft } from '../support/lab-checks';
import { recordingContext } from '../support/workload-context';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;
let rawDir: string;
const commands: CommandRecord[] = [];

function context(signal: AbortSignal): WorkloadContext {
  return recordingContext(fixture.service, { signal, commands, rawRoot: rawDir, firstPort: 41000 }).ctx;
}

function launchRun(labId: string, network: unknown, options: { containers?: number; fromPeer?: boolean } = {}): LaunchRun {
  return {
    params: launchParamsSchema.parse({ tool: 'launch', containers: options.containers ?? 2, fromPeer: options.fromPeer ?? false }),
    labs,
    network,
    labId,
    addressPool: '198.19.0.0/16',
    host: 'h1',
    peerHost: 'h2',
  };
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
  rawDir = mkdtempSync(join(tmpdir(), 'cnlab-launch-raw-'));
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
  if (rawDir) rmSync(rawDir, { recursive: true, force: true });
});

const REPETITIONS = 3;
const MODES = [
  { mode: 'none', phases: ['launchNetnsMs'] },
  { mode: 'bridge', phases: ['launchNetnsMs', 'launchLinksMs', 'launchAddressesMs', 'launchLinkUpMs', 'launchFirstReplyMs'] },
  { mode: 'macvlan', phases: ['launchNetnsMs', 'launchLinksMs', 'launchAddressesMs', 'launchLinkUpMs', 'launchFirstReplyMs'] },
  { mode: 'vxlan', phases: ['launchNetnsMs', 'launchLinksMs', 'launchAddressesMs', 'launchLinkUpMs', 'launchFirstReplyMs'] },
] as const;

describe('launch time', () => {
  for (const { mode, phases } of MODES) {
    it(`for ${mode} gives ${REPETITIONS} × 2 samples with the step breakdown and leaves nothing behind`, async () => {
      const runs: Measurement[] = [];
      // One warm-up, then the measured repetitions.
      for (let index = 0; index <= REPETITIONS; index++) {
        const measurement = await runLaunch(context(new AbortController().signal), launchRun(`ln-${mode}`, { name: 'net', mode }));
        if (index > 0) runs.push(measurement);
        expect(await expectNothingLeft(testbed, `ln-${mode}`)).toEqual([]);
      }
      const samples = runs.flatMap((run) => run.rawSamples?.launchMs ?? []);
      expect(samples).toHaveLength(REPETITIONS * 2);
      for (const run of runs) {
        for (const phase of phases) expect(run.metrics[phase], `${mode} ${phase}`).toBeGreaterThanOrEqual(0);
        if (mode !== 'none') expect(run.metrics.launchFirstReplyMs).toBeLessThan(2000);
        else expect(run.metrics.launchFirstReplyMs).toBeUndefined();
        expect(run.notes?.filter((note) => note.startsWith('noReply'))).toEqual([]);
      }
      const medianOf = (metric: string): string => median(runs.map((run) => run.metrics[metric] ?? NaN)).toFixed(2);
      console.info(`${mode}: launch median ${median(samples).toFixed(2)} ms; phases ${phases.map((phase) => `${phase} ${medianOf(phase)}`).join(', ')}; host setup ${medianOf('launchHostSetupMs')}`);
    }, 120_000);
  }

  it('for vxlan measures when a peer on the other host reaches the new containers', async () => {
    const runs: Measurement[] = [];
    for (let index = 0; index < 3; index++) {
      runs.push(await runLaunch(context(new AbortController().signal), launchRun('ln-peer', { name: 'net', mode: 'vxlan' }, { fromPeer: true })));
      expect(await expectNothingLeft(testbed, 'ln-peer')).toEqual([]);
    }
    for (const run of runs) {
      console.info(`vxlan from peer: ${JSON.stringify(run.metrics)}\n  ${(run.notes ?? []).join('\n  ')}`);
      expect(run.metrics.peerFirstContainerMs).toBeGreaterThan(0);
      expect(run.metrics.peerFirstContainerMs).toBeLessThan(5000);
      expect(run.rawSamples?.launchMs).toHaveLength(2);
    }
    expect(commands.some((record) => record.host === 'h2' && record.command.includes('ip netns exec'))).toBe(true);
  }, 120_000);

  it('cancelled mid-launch leaves nothing behind', async () => {
    const abort = new AbortController();
    // Cancel as the host reports its first step (a timer raced a fast apply on CI): the lab is half built.
    let steps = 0;
    const cancelling = Object.create(labs) as LabService;
    cancelling.apply = (spec, options = {}) => labs.apply(spec, {
      ...options,
      onEvent: (event) => {
        options.onEvent?.(event);
        if (event.type === 'step' && ++steps === 1) abort.abort();
      },
    });
    const pending = runLaunch(context(abort.signal), { ...launchRun('ln-cancel', { name: 'net', mode: 'bridge' }, { containers: 30 }), labs: cancelling });
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    expect(steps).toBeGreaterThan(0);
    expect(await expectNothingLeft(testbed, 'ln-cancel')).toEqual([]);
  }, 120_000);
});
