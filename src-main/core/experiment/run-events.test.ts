// Tests of the live-sample batcher (at most one delivery per interval, the rest on flush, nothing
// delivered when empty) and of the ETA from the mean duration of this session's runs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveSample } from '../workloads/workload-context';
import { estimateRemainingMs, SampleBatcher } from './run-events';

const sample = (t: number): LiveSample => ({ t, metric: 'throughputBitsPerSecond', value: t * 1e6, source: 'client' });

describe('SampleBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers the samples of an interval in one batch', () => {
    const batches: LiveSample[][] = [];
    const batcher = new SampleBatcher((samples) => batches.push(samples), 250);
    batcher.push(sample(1));
    vi.advanceTimersByTime(100);
    batcher.push(sample(2));
    batcher.push(sample(3));
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(150);
    expect(batches).toEqual([[sample(1), sample(2), sample(3)]]);
  });

  it('starts a new interval with the next sample', () => {
    const batches: LiveSample[][] = [];
    const batcher = new SampleBatcher((samples) => batches.push(samples), 250);
    batcher.push(sample(1));
    vi.advanceTimersByTime(250);
    vi.advanceTimersByTime(1000);
    expect(batches).toHaveLength(1);
    batcher.push(sample(2));
    vi.advanceTimersByTime(249);
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[sample(1)], [sample(2)]]);
  });

  it('delivers what remains on flush, once', () => {
    const batches: LiveSample[][] = [];
    const batcher = new SampleBatcher((samples) => batches.push(samples), 250);
    batcher.push(sample(1));
    batcher.push(sample(2));
    batcher.flush();
    expect(batches).toEqual([[sample(1), sample(2)]]);
    vi.advanceTimersByTime(1000);
    batcher.flush();
    expect(batches).toHaveLength(1);
  });

  it('delivers nothing when nothing was pushed', () => {
    const deliver = vi.fn();
    const batcher = new SampleBatcher(deliver);
    batcher.flush();
    vi.advanceTimersByTime(1000);
    expect(deliver).not.toHaveBeenCalled();
  });

  it('uses 250 ms by default', () => {
    const deliver = vi.fn();
    new SampleBatcher(deliver).push(sample(1));
    vi.advanceTimersByTime(249);
    expect(deliver).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(deliver).toHaveBeenCalledOnce();
  });
});

describe('estimateRemainingMs', () => {
  it('has no estimate before the first run', () => {
    expect(estimateRemainingMs([], 10)).toBeNull();
  });

  it('multiplies the mean duration by the runs left, rounded', () => {
    expect(estimateRemainingMs([1000, 2000, 3000], 4)).toBe(8000);
    expect(estimateRemainingMs([100, 101], 3)).toBe(302);
  });

  it('is 0 when nothing remains', () => {
    expect(estimateRemainingMs([5000], 0)).toBe(0);
  });
});
