// Verify heat-map data: pairs aggregated over networks, cells placed at (column = to, row = from),
// outcomes ok / isolated / failed, and the summary the end-to-end test reads.
import { describe, expect, it } from 'vitest';
import type { VerifyCell } from '@contract/lab-api';
import { OUTCOME_VALUE, verifyMatrix } from './heatmap-data';

const cell = (from: string, to: string, network: string, reachable: boolean, ok: boolean): VerifyCell => ({ from, to, network, reachable, ok, replied: reachable === ok, address: '198.19.0.1' });

describe('verify matrix', () => {
  it('places every pair by sender row and receiver column', () => {
    const matrix = verifyMatrix([cell('web', 'db', 'lan', true, true), cell('db', 'web', 'lan', true, true), cell('web', 'client', 'ov', true, true)]);
    expect(matrix.rows).toEqual(['web', 'db', 'client']);
    expect(matrix.columns).toEqual(matrix.rows);
    expect(matrix.data).toContainEqual([2, 0, OUTCOME_VALUE.reachable]);
    expect(matrix.data).toContainEqual([0, 1, OUTCOME_VALUE.reachable]);
    expect(matrix.summary).toBe('3/3 pairs as expected');
  });

  it('shows isolation as expected in its own colour and any wrong answer as failed', () => {
    const matrix = verifyMatrix([cell('db', 'client', 'lan', false, true), cell('web', 'db', 'lan', true, true), cell('web', 'db', 'ov', true, false)]);
    expect(matrix.pairs.map((pair) => [pair.from, pair.to, pair.outcome])).toEqual([
      ['db', 'client', 'isolated'],
      ['web', 'db', 'failed'],
    ]);
    expect(matrix.summary).toBe('1/2 pairs as expected');
  });
});
