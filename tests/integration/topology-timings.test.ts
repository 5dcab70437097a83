// Per-container launch-time breakdowns measured on the testbed hosts by timed applies: namespace, links,
// addresses, link-up and the time until the first ping reply, each from the host's own clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepTiming } from '../../src-main/core/topology/lab-runtime';
import { LabService } from '../../src-main/core/topology/lab-service';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';
import { testTopology } from '../support/lab-tools';

let testbed: Testbed;
let fixture: ServiceFixture;
let labs: LabService;

const PHASES = ['netns', 'links', 'addresses', 'link-up', 'first-reply'];


function byContainer(timings: readonly StepTiming[]): Map<string, StepTiming[]> {
  const result = new Map<string, StepTiming[]>();
  for (const timing of timings) {
    if (timing.container === null) continue;
    result.set(timing.container, [...(result.get(timing.container) ?? []), timing]);
  }
  return result;
}

function breakdown(timings: readonly StepTiming[]): string {
  return timings.map((t) => `${t.phase ?? '?'} ${t.durationMs.toFixed(2)}${t.noReply ? ' (no reply)' : ''}`).join(', ');
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  await fixture?.dispose();
  await testbed?.teardown();
});

describe('timed applies', () => {
  it('give each container of a bridge lab the five phases, first reply last and within 2 s', async () => {
    const spec = testTopology(`name: tim1\nhosts: [h1]\nnetworks:\n  - { name: lan, mode: bridge }\ncontainers:\n  - { name: c, count: 3, host: h1, networks: [lan] }\n`);
    const applied = await labs.apply(spec, { timings: true });
    try {
      expect(applied.status).toBe('applied');
      const containers = byContainer(applied.timings);
      expect([...containers.keys()]).toEqual(['c1', 'c2', 'c3']);
      for (const [name, timings] of containers) {
        console.info(`${name}: ${breakdown(timings)}`);
        expect(timings.map((t) => t.phase), name).toEqual(PHASES);
        for (const timing of timings) expect(timing.durationMs, `${name} ${timing.phase ?? ''}`).toBeGreaterThanOrEqual(0);
        const firstReply = timings.at(-1);
        expect(firstReply?.noReply).toBeUndefined();
        expect(firstReply?.durationMs).toBeLessThan(2000);
      }
      // Kept in the lab's record, as `apply --timings --json` prints it.
      expect((await labs.store.get('tim1')).timings.filter((t) => t.phase === 'first-reply')).toHaveLength(3);
      expect((await labs.verify('tim1')).filter((o) => !o.ok)).toEqual([]);
    } finally {
      await labs.teardown('tim1');
    }
    expect(await expectNothingLeft(testbed, 'tim1')).toEqual([]);
  });

  it('measure after shaping on shaped links, each host with its own gateway, and leave untimed applies without measurements', async () => {
    const spec = testTopology(
      `name: tim2\nhosts: [h1, h2]\nnetworks:\n  - { name: ov, mode: vxlan, shaping: { rate: 100mbit } }\ncontainers:\n  - { name: a, host: h1, networks: [ov] }\n  - { name: b, host: h2, networks: [ov] }\n`,
    );
    const facts = await labs.factsFor(['h1', 'h2']);
    const shapes = ['h1', 'h2'].every((host) => facts[host]?.kernelFeatures.tbf?.supported === true || facts[host]?.kernelFeatures.htb?.supported === true);
    if (!shapes) return;
    const applied = await labs.apply(spec, { timings: true });
    try {
      for (const [name, timings] of byContainer(applied.timings)) {
        console.info(`${name}: ${breakdown(timings)}`);
        expect(timings.map((t) => t.phase), name).toEqual(['netns', 'links', 'addresses', 'link-up', 'shaping', 'first-reply']);
        expect(timings.at(-1)?.durationMs).toBeLessThan(2000);
      }
    } finally {
      await labs.teardown('tim2');
    }
    const untimed = await labs.apply(spec);
    try {
      expect(untimed.timings).toEqual([]);
      expect((await labs.verify('tim2')).filter((o) => !o.ok)).toEqual([]);
    } finally {
      await labs.teardown('tim2');
    }
    expect(await expectNothingLeft(testbed, 'tim2')).toEqual([]);
  });

  it('on macvlan measure the reply of the first container already up on the host; the first has none', async () => {
    const spec = testTopology(`name: tim3\nhosts: [h1]\nnetworks:\n  - { name: mv, mode: macvlan }\ncontainers:\n  - { name: m, count: 3, host: h1, networks: [mv] }\n`);
    const applied = await labs.apply(spec, { timings: true });
    try {
      const containers = byContainer(applied.timings);
      console.info([...containers].map(([name, timings]) => `${name}: ${breakdown(timings)}`).join('\n'));
      expect(containers.get('m1')?.map((t) => t.phase)).toEqual(['netns', 'links', 'addresses', 'link-up']);
      for (const name of ['m2', 'm3']) {
        expect(containers.get(name)?.map((t) => t.phase)).toEqual(PHASES);
        expect(containers.get(name)?.at(-1)?.durationMs).toBeLessThan(2000);
      }
    } finally {
      await labs.teardown('tim3');
    }
    expect(await expectNothingLeft(testbed, 'tim3')).toEqual([]);
  });
});
