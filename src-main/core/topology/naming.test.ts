// Names must be deterministic, within Linux limits, tagged with the lab, and distinct per object.
import { describe, expect, it } from 'vitest';
import { expandedNames, labNames, MAX_IFNAME } from './naming';

describe('labNames', () => {
  const names = labNames('demo');

  it('makes interface names of at most 15 characters for the longest object names', () => {
    const long = 'a'.repeat(31);
    for (const role of ['b', 'v', 'm', 'i', 'x', 'd'] as const) expect(names.link(role, long).length).toBeLessThanOrEqual(MAX_IFNAME);
  });

  it('is deterministic and distinct per lab, role and object', () => {
    expect(names.link('v', 'c1')).toBe(labNames('demo').link('v', 'c1'));
    expect(names.link('v', 'c1')).not.toBe(names.link('v', 'c2'));
    expect(names.link('v', 'c1')).not.toBe(names.link('b', 'c1'));
    expect(names.link('v', 'c1')).not.toBe(labNames('other').link('v', 'c1'));
  });

  it('shares one lab tag among all links of a lab', () => {
    expect(names.link('b', 'net').slice(0, 5)).toBe(names.link('v', 'c9').slice(0, 5));
  });

  it('names namespaces, the ledger folder and the nft table after the lab', () => {
    expect(names.netns('c1')).toBe('cnl-demo-c1');
    expect(names.ledgerDir).toBe('/run/cnlab/demo');
    expect(labNames('my-lab').nftTable).toBe('cnlab_my_lab');
  });
});

describe('expandedNames', () => {
  it('expands a count into numbered names', () => {
    expect(expandedNames('c', 3)).toEqual(['c1', 'c2', 'c3']);
    expect(expandedNames('web', undefined)).toEqual(['web']);
  });
});
