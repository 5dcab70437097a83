// The order in which an apply runs its hosts: all at once, or in the groups a caller names.
import { describe, expect, it } from 'vitest';
import { hostGroups } from './lab-runtime';

const hosts = [{ host: 'h1' }, { host: 'h2' }, { host: 'h3' }];

describe('hostGroups', () => {
  it('runs every host at once unless told otherwise', () => {
    expect(hostGroups(hosts, undefined)).toEqual([hosts]);
  });

  it('keeps the named order and puts the hosts not named last', () => {
    expect(hostGroups(hosts, [['h2'], ['h1', 'nope']]).map((group) => group.map((entry) => entry.host))).toEqual([['h2'], ['h1'], ['h3']]);
  });
});
