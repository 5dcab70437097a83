import { describe, expect, it } from 'vitest';
import { formatDuration } from './format-duration';

describe('formatDuration', () => {
  it('says seconds, minutes and hours the way the run controls show them', () => {
    expect(formatDuration(40)).toBe('about 40 s');
    expect(formatDuration(150)).toBe('about 2 min 30 s');
    expect(formatDuration(120, false)).toBe('2 min');
    expect(formatDuration(3 * 3600 + 5 * 60 + 7)).toBe('about 3 h 5 min');
    expect(formatDuration(3900)).toBe('about 1 h 5 min');
    expect(formatDuration(-3, false)).toBe('0 s');
  });
});
