// The verify matrix as heat-map data: one cell per (from, to) pair, its outcome aggregated over the
// networks it was pinged on, and the one-line summary the view (and the end-to-end test) reads.
import type { VerifyCell } from '@contract/lab-api';

/** reachable: answered as expected; isolated: stayed silent as expected; failed: anything unexpected. */
export type PairOutcome = 'reachable' | 'isolated' | 'failed';

export const OUTCOME_VALUE: Readonly<Record<PairOutcome, number>> = { failed: 0, isolated: 1, reachable: 2 };

export interface VerifyMatrix {
  /** Senders, top to bottom: every container once, so the diagonal is each one with itself. */
  rows: string[];
  /** Receivers, left to right, in the same order as the rows. */
  columns: string[];
  /** [column index, row index, OUTCOME_VALUE] as ECharts' heatmap reads them. */
  data: [number, number, number][];
  pairs: { from: string; to: string; outcome: PairOutcome; networks: string[] }[];
  summary: string;
}

function firstSeen(values: string[]): string[] {
  return [...new Set(values)];
}

export function verifyMatrix(cells: readonly VerifyCell[]): VerifyMatrix {
  const byPair = new Map<string, { from: string; to: string; outcome: PairOutcome; networks: string[] }>();
  for (const cell of cells) {
    const key = `${cell.from}\0${cell.to}`;
    const pair = byPair.get(key) ?? { from: cell.from, to: cell.to, outcome: 'isolated' as PairOutcome, networks: [] };
    pair.networks.push(cell.network);
    if (!cell.ok) pair.outcome = 'failed';
    else if (cell.reachable && pair.outcome !== 'failed') pair.outcome = 'reachable';
    byPair.set(key, pair);
  }
  const pairs = [...byPair.values()];
  const rows = firstSeen(pairs.flatMap((pair) => [pair.from, pair.to]));
  const columns = rows;
  const data = pairs.map((pair): [number, number, number] => [columns.indexOf(pair.to), rows.indexOf(pair.from), OUTCOME_VALUE[pair.outcome]]);
  const expected = pairs.filter((pair) => pair.outcome !== 'failed').length;
  return { rows, columns, data, pairs, summary: `${expected}/${pairs.length} pairs as expected` };
}
