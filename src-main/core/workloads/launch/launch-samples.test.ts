// From step timings and prober replies to launch metrics: sums, phase means, excluded no-replies and
// the split of peer convergence into first container and existing block.
import { describe, expect, it } from 'vitest';
import type { StepTiming } from '../../topology/lab-runtime';
import type { StepPhase } from '../../topology/plan';
import { containerLaunches, hostSetupMs, launchMetrics, launchSpan, peerFigures } from './launch-samples';

function steps(container: string, start: number, durations: Partial<Record<StepPhase, number>>, noReply = false): StepTiming[] {
  let at = start;
  return Object.entries(durations).map(([phase, durationMs]) => {
    const timing: StepTiming = { host: 'h1', stepId: `${container}/${phase}`, container, phase: phase as StepPhase, durationMs, startMs: at, ...(noReply && phase === 'first-reply' ? { noReply: true as const } : {}) };
    at += durationMs;
    return timing;
  });
}

const timings: StepTiming[] = [
  { host: 'h1', stepId: 'net/net/bridge', container: null, phase: 'host', durationMs: 2, startMs: 0 },
  ...steps('c1', 2, { netns: 3, links: 2, addresses: 1, 'link-up': 1, 'first-reply': 3 }),
  ...steps('c2', 12, { netns: 2, links: 2, addresses: 1, 'link-up': 1, 'first-reply': 4 }),
  ...steps('c3', 22, { netns: 2, links: 2, addresses: 1, 'link-up': 1, 'first-reply': 5000 }, true),
];

describe('launch metrics', () => {
  it('sums each container from namespace to first reply and excludes one without a reply', () => {
    const launches = containerLaunches(timings, ['c1', 'c2', 'c3'], true);
    expect(launches.map((launch) => launch.launchMs)).toEqual([10, 10, null]);
    expect(launches.map((launch) => launch.startMs)).toEqual([2, 12, 22]);
    const { metrics, samples } = launchMetrics(launches);
    expect(samples).toEqual([10, 10]);
    expect(metrics).toMatchObject({ launchMs: 10, launchNetnsMs: 2.5, launchFirstReplyMs: 3.5, containers: 2 });
    expect(hostSetupMs(timings, 'h1')).toBe(2);
  });

  it('takes the namespace alone for mode none, where nothing is pinged', () => {
    const none = steps('c1', 0, { netns: 3 });
    expect(launchMetrics(containerLaunches(none, ['c1'], false)).metrics).toMatchObject({ launchMs: 3, launchNetnsMs: 3 });
    expect(containerLaunches(none, ['c1'], true)[0]?.noReply).toBe(true);
  });
});

describe('peer figures', () => {
  const launches = containerLaunches(timings, ['c1', 'c2'], true);
  const address = (name: string): string => `198.19.0.${name.slice(1)}`;

  it('subtracts when each container began on its host from the peer time; later ones count once the first was reached', () => {
    const figures = peerFigures(launches, [{ address: '198.19.0.1', ms: 11 }, { address: '198.19.0.2', ms: 20 }], address);
    expect(figures.metrics).toEqual({ peerFirstContainerMs: 9, peerExistingBlockMs: 8 });
    expect(figures.rawSamples).toEqual({ peerExistingBlockMs: [8] });
  });

  it('keeps a container created before the peer reached the first one out of the existing-block case', () => {
    const figures = peerFigures(launches, [{ address: '198.19.0.1', ms: 30 }, { address: '198.19.0.2', ms: 31 }], address);
    expect(figures.metrics).toEqual({ peerFirstContainerMs: 28 });
    expect(figures.notes.join(' ')).toContain('c2 was created before the peer reached the first container');
  });

  it('notes a container the peer never reached', () => {
    const figures = peerFigures(launches, [{ address: '198.19.0.1', ms: null }], address);
    expect(figures.metrics).toEqual({});
    expect(figures.notes[0]).toContain('no reply from c1');
  });
});

describe('launchSpan', () => {
  const step = (phase: StepTiming['phase'], startMs: number | undefined, durationMs: number): StepTiming => ({ host: 'h1', stepId: `c1/${String(phase)}`, container: 'c1', phase, durationMs, ...(startMs !== undefined ? { startMs } : {}) });

  it('is the wall time from the first step to the end of the last, gaps between steps included', () => {
    expect(launchSpan([step('netns', 10, 2), step('links', 13.5, 1), step('first-reply', 16, 1.5)])).toBeCloseTo(7.5);
  });

  it('falls back to the sum of the phases without start times, and is never below it', () => {
    expect(launchSpan([step('netns', undefined, 2), step('links', undefined, 1)])).toBe(3);
    expect(launchSpan([step('netns', 0, 2), step('links', 0.5, 1)])).toBe(3);
  });
});
