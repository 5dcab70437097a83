// Mode availability: a mode is disabled, with the probe's reason and the host named, exactly when a
// chosen host's facts say a kernel feature it needs is missing; unprobed hosts refuse nothing.
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '@contract/topology';
import { modeChoices } from './mode-availability';

/** Only the kernel features matter here; the rest of a probe's facts is irrelevant to the mode picker. */
function facts(unsupported: Record<string, string>): HostFacts {
  const features = ['bridge', 'veth', 'macvlan', 'ipvlan', 'vxlan'];
  return {
    kernelFeatures: Object.fromEntries(features.map((feature) => [feature, feature in unsupported ? { supported: false, source: 'trial', reason: unsupported[feature] } : { supported: true, source: 'trial' }])),
  } as unknown as HostFacts;
}

describe('mode choices', () => {
  it('disables ipvlan with the host and the reason when one chosen host lacks it', () => {
    const choices = modeChoices([
      { name: 'h1', facts: facts({}) },
      { name: 'h2', facts: facts({ ipvlan: 'Error: Unknown device type.' }) },
    ]);
    const ipvlan = choices.find((choice) => choice.mode === 'ipvlan');
    expect(ipvlan).toMatchObject({ disabled: true, reason: 'not on h2: Error: Unknown device type.' });
    expect(ipvlan?.label).toBe('ipvlan — not on h2: Error: Unknown device type.');
    expect(choices.filter((choice) => choice.disabled).map((choice) => choice.mode)).toEqual(['ipvlan']);
  });

  it('disables every mode needing a missing bridge', () => {
    const disabled = modeChoices([{ name: 'h1', facts: facts({ bridge: 'no bridge module' }) }]).filter((choice) => choice.disabled).map((choice) => choice.mode);
    expect(disabled).toEqual(['bridge', 'nat', 'vxlan', 'routed']);
  });

  it('offers every mode when the hosts are not probed yet', () => {
    expect(modeChoices([{ name: 'h1', facts: null }]).every((choice) => !choice.disabled)).toBe(true);
  });

  it('under runtime docker also needs an engine with the mode’s driver, and never offers routed', () => {
    const withDocker = (drivers: string[] | null): HostFacts => ({ ...facts({}), tools: { dockerServer: drivers ? '20.10.24' : null }, docker: drivers ? { networkDrivers: drivers } : null }) as unknown as HostFacts;
    const choices = modeChoices(
      [
        { name: 'h1', facts: withDocker(['bridge', 'host', 'null', 'macvlan', 'overlay']) },
        { name: 'h2', facts: withDocker(['bridge', 'host', 'null', 'macvlan']) },
      ],
      'docker',
    );
    const disabled = Object.fromEntries(choices.filter((choice) => choice.disabled).map((choice) => [choice.mode, choice.reason]));
    expect(disabled).toEqual({ vxlan: 'not on h2: its Docker engine has no overlay driver', routed: 'Docker has no driver for it (use runtime netns)', ipvlan: 'not on h1: its Docker engine has no ipvlan driver; not on h2: its Docker engine has no ipvlan driver' });
    const noEngine = modeChoices([{ name: 'h1', facts: withDocker(null) }], 'docker');
    expect(noEngine.find((choice) => choice.mode === 'bridge')).toMatchObject({ disabled: true, reason: 'not on h1: no Docker engine answered the probe' });
    // The same hosts under netns: only the kernel decides.
    expect(modeChoices([{ name: 'h1', facts: withDocker(null) }]).every((choice) => !choice.disabled)).toBe(true);
  });
});
