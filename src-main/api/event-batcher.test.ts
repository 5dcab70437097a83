// Events reach subscribers in batches no more often than the interval, in order, and none is lost.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabApiEvent } from '../contract/lab-api';
import { EventBatcher } from './event-batcher';

const event = (n: number): LabApiEvent => ({ type: 'job-progress', jobId: 'job-1', done: n, total: 1000, message: '' });

describe('EventBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends 1000 events emitted over one second as at most 10 batches, in order, all of them', () => {
    const batcher = new EventBatcher({ intervalMs: 100 });
    const batches: LabApiEvent[][] = [];
    batcher.subscribe((batch) => batches.push(batch));
    for (let n = 0; n < 1000; n += 1) {
      batcher.emit(event(n));
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(200);
    expect(batches.length).toBeLessThanOrEqual(11);
    expect(batches.flat().map((item) => (item as { done: number }).done)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it('stops delivering after unsubscribe, and a throwing subscriber does not stop the others', () => {
    const batcher = new EventBatcher();
    const got: number[] = [];
    const unsubscribe = batcher.subscribe(() => got.push(1));
    batcher.subscribe(() => {
      throw new Error('closed window');
    });
    batcher.subscribe(() => got.push(2));
    batcher.emit(event(1));
    batcher.flush();
    unsubscribe();
    batcher.emit(event(2));
    batcher.flush();
    expect(got).toEqual([1, 2, 2]);
  });
});
