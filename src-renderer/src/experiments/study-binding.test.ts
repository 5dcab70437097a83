// Binding a study to the inventory: same-name hosts kept, the rest spread over free hosts in order; what a
// host is by label or probe; a new experiment's name that leaves a saved one alone.
import { describe, expect, it } from 'vitest';
import type { HostView } from '@contract/lab-api';
import { defaultHostMap, freeExperimentName, hostKindOf, withExperimentName } from './study-binding';

describe('defaultHostMap', () => {
  it('keeps a study host on the inventory host of its name and gives the others the free hosts in order', () => {
    expect(defaultHostMap(['h1', 'h2', 'h3'], ['a1', 'h2', 'z9'])).toEqual({ h1: 'a1', h2: 'h2', h3: 'z9' });
  });

  it('wraps round when the inventory has fewer hosts than the study', () => {
    expect(defaultHostMap(['server', 'client'], ['only'])).toEqual({ server: 'only', client: 'only' });
    expect(defaultHostMap(['h1', 'h2', 'h3'], ['h1'])).toEqual({ h1: 'h1', h2: 'h1', h3: 'h1' });
  });

  it('maps nothing without an inventory', () => {
    expect(defaultHostMap(['h1'], [])).toEqual({});
  });
});

describe('hostKindOf', () => {
  const view = (label: 'vm' | 'bare-metal' | undefined, probed: string | null) =>
    ({ host: { kind: 'local', name: 'a1', label }, state: 'connected', facts: probed ? { virtualization: { kind: probed, source: 'dmi' } } : null }) as unknown as HostView;

  it('prefers the label the user gave over what was probed', () => {
    expect(hostKindOf(view('bare-metal', 'vm'))).toEqual({ kind: 'bare-metal', source: 'label' });
    expect(hostKindOf(view(undefined, 'vm'))).toEqual({ kind: 'vm', source: 'probed' });
  });

  it('knows nothing of an unprobed or undetermined host', () => {
    expect(hostKindOf(view(undefined, null))).toBeNull();
    expect(hostKindOf(view(undefined, 'unknown'))).toBeNull();
    expect(hostKindOf(undefined)).toBeNull();
  });
});

describe('freeExperimentName', () => {
  it('keeps a free name and numbers a taken one', () => {
    expect(freeExperimentName('suo-launch', ['other'])).toBe('suo-launch');
    expect(freeExperimentName('suo-launch', ['suo-launch', 'suo-launch-2'])).toBe('suo-launch-3');
  });

  it('stays within the 31 characters a name may have', () => {
    const long = 'a'.repeat(30) + 'b';
    const free = freeExperimentName(long, [long]);
    expect(free).toBe(`${'a'.repeat(29)}-2`);
    expect(free.length).toBeLessThanOrEqual(31);
  });
});

describe('withExperimentName', () => {
  it("renames the file's own name, not a nested one", () => {
    const text = '# Suo — launch\nv: 1\nkind: experiment\nname: suo-launch\nmodes:\n  - label: bridge\n    name: x\n';
    expect(withExperimentName(text, 'suo-launch-2')).toBe('# Suo — launch\nv: 1\nkind: experiment\nname: suo-launch-2\nmodes:\n  - label: bridge\n    name: x\n');
  });
});
