// Tests of the experiment matrix: axis combinations in file order, cells (ids, params merged with the
// axis values, pairs/interferers as axes only when they vary or interference is asked), and the run
// plan: counts, warm-ups first within each per-case block, a repeatable seeded order, file order when
// randomize is off; plus the seeded generator's range.
import { describe, expect, it } from 'vitest';
import { thrownCnlabError } from '../../../tests/support/cnlab-error';
import { experimentFromData, type ExperimentSpec } from './experiment-schema';
import { combinations, expandCells, planRuns, runKey, seededRandom, shuffled } from './matrix';

function spec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return experimentFromData({
    v: 1,
    kind: 'experiment',
    name: 'matrix',
    hosts: ['h1', 'h2'],
    placement: { server: 'h1', client: 'h2' },
    modes: ['macvlan', 'vxlan'],
    workload: { tool: 'iperf3', duration: 3 },
    ...overrides,
  });
}

describe('combinations', () => {
  it('gives one empty combination without axes', () => {
    expect(combinations({})).toEqual([{}]);
  });

  it('varies the last axis fastest, in file order', () => {
    expect(combinations({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
  });

  it('multiplies the axes’ lengths', () => {
    expect(combinations({ a: [1, 2, 3], b: [true, false], c: ['p', 'q', 'r', 's'] })).toHaveLength(24);
  });
});

describe('expandCells', () => {
  it('makes one cell per case without axes, named by its case', () => {
    const cells = expandCells(spec());
    expect(cells.map((cell) => [cell.index, cell.id, cell.caseLabel, cell.pairs, cell.interferers])).toEqual([
      [0, 'macvlan', 'macvlan', 1, 0],
      [1, 'vxlan', 'vxlan', 1, 0],
    ]);
    expect(cells[0]?.axisValues).toEqual({});
    expect(cells[0]?.params).toEqual({ tool: 'iperf3', protocol: 'tcp', duration: 3, omit: 0, parallel: 1, reverse: false });
  });

  it('merges the axis values into the workload, case by case', () => {
    const cells = expandCells(spec({ axes: { parallel: [1, 4], blockSize: ['1K', '64K'] } }));
    expect(cells.map((cell) => cell.id)).toEqual([
      'macvlan parallel=1 blockSize=1K',
      'macvlan parallel=1 blockSize=64K',
      'macvlan parallel=4 blockSize=1K',
      'macvlan parallel=4 blockSize=64K',
      'vxlan parallel=1 blockSize=1K',
      'vxlan parallel=1 blockSize=64K',
      'vxlan parallel=4 blockSize=1K',
      'vxlan parallel=4 blockSize=64K',
    ]);
    expect(cells.map((cell) => cell.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(cells[6]?.params).toMatchObject({ tool: 'iperf3', duration: 3, parallel: 4, blockSize: '1K' });
    expect(cells[6]?.axisValues).toEqual({ parallel: 4, blockSize: '1K' });
  });

  it('makes pairs an axis only when it varies', () => {
    const single = expandCells(spec({ pairs: [4] }));
    expect(single.map((cell) => [cell.id, cell.pairs])).toEqual([
      ['macvlan', 4],
      ['vxlan', 4],
    ]);
    expect(single[0]?.axisValues).toEqual({});
    const varied = expandCells(spec({ modes: ['vxlan'], pairs: [1, 2, 4] }));
    expect(varied.map((cell) => [cell.id, cell.pairs, cell.axisValues])).toEqual([
      ['vxlan pairs=1', 1, { pairs: 1 }],
      ['vxlan pairs=2', 2, { pairs: 2 }],
      ['vxlan pairs=4', 4, { pairs: 4 }],
    ]);
    // pairs is the lab's, not the workload's.
    expect(varied[2]?.params).not.toHaveProperty('pairs');
  });

  it('names the axis containers for all-to-all, where N counts containers', () => {
    const cells = expandCells(spec({ modes: ['vxlan'], pattern: 'all-to-all', pairs: [2, 4] }));
    expect(cells.map((cell) => [cell.id, cell.pairs, cell.axisValues])).toEqual([
      ['vxlan containers=2', 2, { containers: 2 }],
      ['vxlan containers=4', 4, { containers: 4 }],
    ]);
    expect(cells[1]?.params).not.toHaveProperty('containers');
    expect(expandCells(spec({ modes: ['vxlan'], pattern: 'all-to-all', pairs: [3] })).map((cell) => [cell.id, cell.pairs])).toEqual([['vxlan', 3]]);
  });

  it('makes interferers an axis whenever interference is asked, even with one value', () => {
    const cells = expandCells(spec({ modes: ['bridge'], placement: { server: 'h1', client: 'h1' }, interference: { containers: [2] } }));
    expect(cells.map((cell) => [cell.id, cell.interferers, cell.axisValues])).toEqual([['bridge interferers=2', 2, { interferers: 2 }]]);
    expect(cells[0]?.params).not.toHaveProperty('interferers');
  });

  it('combines workload axes, pairs and interferers', () => {
    const cells = expandCells(spec({ modes: ['vxlan'], axes: { parallel: [1, 2] }, pairs: [1, 2], interference: { containers: [0, 1] } }));
    expect(cells).toHaveLength(8);
    expect(cells[7]).toMatchObject({ id: 'vxlan parallel=2 pairs=2 interferers=1', pairs: 2, interferers: 1, params: { parallel: 2 } });
  });
});

describe('planRuns', () => {
  const big = spec({ modes: ['macvlan', 'vxlan', 'ipvlan'], axes: { parallel: [1, 2, 4, 8] }, repetitions: 5, warmup: 2 });

  it('plans warmup + repetitions runs per cell, each key once', () => {
    const plan = planRuns(big, 7);
    const runs = plan.blocks.flatMap((block) => block.runs);
    expect(plan.cells).toHaveLength(12);
    expect(runs).toHaveLength(12 * (2 + 5));
    expect(new Set(runs.map((run) => run.key)).size).toBe(runs.length);
    expect(runs.filter((run) => run.warmup)).toHaveLength(12 * 2);
    for (const cell of plan.cells) {
      const mine = runs.filter((run) => run.cellIndex === cell.index);
      expect(mine.filter((run) => !run.warmup).map((run) => run.repetition).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(mine.filter((run) => run.warmup).map((run) => run.key).sort()).toEqual([runKey(cell.index, true, 1), runKey(cell.index, true, 2)]);
    }
    expect(plan.seed).toBe(7);
  });

  it('makes one block per case, holding only its cells, warm-ups first', () => {
    const plan = planRuns(big, 7);
    expect(plan.blocks.map((block) => block.caseLabel).sort()).toEqual(['ipvlan', 'macvlan', 'vxlan']);
    for (const block of plan.blocks) {
      for (const run of block.runs) expect(plan.cells[run.cellIndex]?.caseLabel).toBe(block.caseLabel);
      const lastWarmup = block.runs.map((run) => run.warmup).lastIndexOf(true);
      const firstMeasured = block.runs.findIndex((run) => !run.warmup);
      expect(lastWarmup).toBeLessThan(firstMeasured);
      expect(block.runs).toHaveLength(4 * 7);
    }
  });

  it('repeats its order for the same seed', () => {
    expect(planRuns(big, 12345)).toEqual(planRuns(big, 12345));
  });

  it('orders differently for another seed', () => {
    const order = (seed: number): string[] => planRuns(big, seed).blocks.flatMap((block) => block.runs.map((run) => run.key));
    expect(order(1)).not.toEqual(order(2));
    expect([...order(1)].sort()).toEqual([...order(2)].sort());
  });

  it('keeps file order without randomize', () => {
    const plan = planRuns(spec({ randomize: false, axes: { parallel: [1, 2] }, repetitions: 2, warmup: 1 }), 99);
    expect(plan.blocks.map((block) => block.caseLabel)).toEqual(['macvlan', 'vxlan']);
    expect(plan.blocks[0]?.runs.map((run) => run.key)).toEqual(['0.w1', '1.w1', '0.r1', '0.r2', '1.r1', '1.r2']);
    expect(plan.blocks[1]?.runs.map((run) => run.key)).toEqual(['2.w1', '3.w1', '2.r1', '2.r2', '3.r1', '3.r2']);
    expect(planRuns(spec({ randomize: false, axes: { parallel: [1, 2] }, repetitions: 2, warmup: 1 }), 1).blocks).toEqual(plan.blocks);
  });

  it('plans no warm-ups when warmup is 0', () => {
    const runs = planRuns(spec({ warmup: 0, repetitions: 2 }), 3).blocks.flatMap((block) => block.runs);
    expect(runs).toHaveLength(4);
    expect(runs.some((run) => run.warmup)).toBe(false);
  });

  it('refuses a combination of axis values that is invalid as a whole', () => {
    // A spec that skipped the file checks (the schemas have no cross-field rules today): the cell check still names the cell.
    const clash = { ...spec(), axes: { parallel: [1, 500] } } as ExperimentSpec;
    const error = thrownCnlabError(() => expandCells(clash));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('cell macvlan parallel=500: parallel:');
  });
});

describe('seededRandom and shuffled', () => {
  it('stays in [0, 1) and repeats for a seed', () => {
    const random = seededRandom(42);
    const values = Array.from({ length: 10_000 }, () => random());
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
    const again = seededRandom(42);
    expect(Array.from({ length: 10 }, () => again())).toEqual(values.slice(0, 10));
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('gives other values for another seed', () => {
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });

  it('shuffles into a permutation without changing its input', () => {
    const items = Array.from({ length: 50 }, (_, index) => index);
    const result = shuffled(items, seededRandom(5));
    expect(result).not.toEqual(items);
    expect([...result].sort((a, b) => a - b)).toEqual(items);
    expect(items[0]).toBe(0);
  });
});
