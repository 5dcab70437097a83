// Namespaces: every container with a namespace of its own gets one, with loopback up; a container on
// a `none` network keeps just that (the isolated baseline of the mode comparisons).
import { shellCommand } from '../../shell/quote';
import type { PlannedInterface, PlanStep } from '../plan';
import { ipBatch, type LabModel } from './common';

export function netnsStep(model: LabModel, container: string): PlanStep {
  const netns = model.names.netns(container);
  return {
    id: `${container}/netns`,
    phase: 'netns',
    container,
    description: `create namespace ${netns} with loopback up`,
    // Processes left inside (an iperf3 server, a lingering arping) would keep the namespace and its
    // links alive after `ip netns del`, so they are ended first: only cnlab puts processes there.
    creates: [{ kind: 'netns', name: netns, undo: `${shellCommand(['ip', 'netns', 'pids', netns])} 2>/dev/null | xargs -r kill -KILL 2>/dev/null; ${shellCommand(['ip', 'netns', 'del', netns])}` }],
    run: [ipBatch(null, [['netns', 'add', netns]]), ipBatch(netns, [['link', 'set', 'lo', 'up']])],
  };
}

export function noneInterface(network: string): PlannedInterface {
  return { network, ifname: 'lo', address: null, hostDevice: null };
}
