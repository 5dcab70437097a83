import { describe, expect, it } from 'vitest';
import { formatNumberList, parseNumberList } from './number-list';

describe('number lists of the builder', () => {
  it('reads commas, spaces and semicolons, and reports what is not a number', () => {
    expect(parseNumberList('1400, 65536')).toEqual({ values: [1400, 65536], rejected: [] });
    expect(parseNumberList(' 1 2;4 ,8 ')).toEqual({ values: [1, 2, 4, 8], rejected: [] });
    expect(parseNumberList('64, 1k')).toEqual({ values: [64], rejected: ['1k'] });
    expect(parseNumberList('')).toEqual({ values: [], rejected: [] });
    expect(formatNumberList([1400, 65536])).toBe('1400, 65536');
  });
});
