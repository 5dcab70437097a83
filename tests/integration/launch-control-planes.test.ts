// Network launch time from a peer with a dynamic control plane, on the testbed: vxlan + etcd and routed +
// BGP give the peer's convergence for the first container of the new host and the time until the
// measured container answers again after the peer's route daemon (watch agent, BIRD) was restarted; and
// nothing is left on the hosts: no lab objects, no etcd, BIRD, agent or prober process of the lab.
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
const HOSTS = ['h1', 'h2'];

function context(): WorkloadContext {
  return recordingContext(fixture.service, { commands, rawRoot: rawDir, firstPort: 42000 }).ctx;
}

function launchRun(labId: string, network: unknown): LaunchRun {
  return {
    params: launchParamsSchema.parse({ tool: 'launch', containers: 3, fromPeer: true }),
    labs,
    network,
    labId,
    addressPool: '198.19.0.0/16',
    host: 'h1',
    peerHost: 'h2',
  };
}

/** Processes of the lab still running on the hosts: anything from its folder, and the launch prober. */
async function labProcesses(labId: string): Promise<string[]> {
  const found: string[] = [];
  for (const host of HOSTS) {
    const result = await testbed.hostExec(host, ['pgrep', '-af', `/run/cnlab/${labId}/|cnlab-launch-probe`]);
    found.push(...result.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => `${host}: ${line}`));
  }
  return found;
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(HOSTS.map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
  rawDir = mkdtempSync(join(tmpdir(), 'cnlab-launch-cp-raw-'));
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
  if (rawDir) rmSync(rawDir, { recursive: true, force: true });
});

const CASES = [
  { labId: 'lc-etcd', network: { name: 'net', mode: 'vxlan', options: { vni: 51, controlPlane: 'etcd' } } },
  // BIRD's defaults wait 5 s before connecting and up to 120 s before retrying: short timers keep the test short.
  { labId: 'lc-bgp', network: { name: 'net', mode: 'routed', options: { controlPlane: 'bgp', connectDelayTime: 1, connectRetryTime: 1, holdTime: 3, keepaliveTime: 1 } } },
] as const;

describe('launch time from a peer with a dynamic control plane', () => {
  for (const { labId, network } of CASES) {
    it(`for ${network.mode} + ${network.options.controlPlane} times the peer's convergence and a peer daemon restart, and leaves nothing behind`, async () => {
      const runs: Measurement[] = [];
      for (let index = 0; index < 2; index++) {
        runs.push(await runLaunch(context(), launchRun(labId, network)));
        expect(await expectNothingLeft(testbed, labId)).toEqual([]);
        expect(await labProcesses(labId)).toEqual([]);
      }
      for (const run of runs) {
        console.info(`${labId}: ${JSON.stringify(run.metrics)}\n  ${(run.notes ?? []).join('\n  ')}`);
        expect(run.metrics.peerFirstContainerMs).toBeGreaterThan(0);
        expect(run.metrics.peerFirstContainerMs).toBeLessThan(10_000);
        expect(run.metrics.peerDaemonRestartMs).toBeGreaterThan(0);
        expect(run.rawSamples?.peerDaemonRestartMs).toHaveLength(1);
        expect(run.rawSamples?.launchMs).toHaveLength(3);
      }
    }, 240_000);
  }
});
