// The order in which an apply runs its hosts: all at once, or in the groups a caller names.
import { describe, expect, it } from 'vitest';
import { hostGroups, stepGate } from './lab-runtime';

const hosts = [{ host: 'h1' }, { host: 'h2' }, { host: 'h3' }];

describe('hostGroups', () => {
  it('runs every host at once unless told otherwise', () => {
    expect(hostGroups(hosts, undefined)).toEqual([hosts]);
  });

  it('keeps the named order and puts the hosts not named last', () => {
    expect(hostGroups(hosts, [['h2'], ['h1', 'nope']]).map((group) => group.map((entry) => entry.host))).toEqual([['h2'], ['h1'], ['h3']]);
  });
});

describe('stepGate', () => {
  it('opens once the named step is done on the named host, not on another host or step', async () => {
    const gate = stepGate({ host: 'h2', stepId: 'p/first-reply' });
    let open = false;
    void gate.reached.then(() => (open = true));
    gate.seen('h1', 'p/first-reply');
    gate.seen('h2', 'p/netns');
    await Promise.resolve();
    expect(open).toBe(false);
    gate.seen('h2', 'p/first-reply');
    await gate.reached;
    expect(open).toBe(true);
  });

  it('has no step without startNextAfter', () => {
    expect(stepGate(undefined).step).toBeNull();
  });
});
