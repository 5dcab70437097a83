// The runs list's index (recomputed only for runs whose files changed) and run-to-run comparison, on
// synthetic runs written by the real run store.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedListings, type ListingCache } from '../../src-main/core/experiment/run-listing-index';
import { compareRunCells } from '../../src-main/core/experiment/run-comparison';
import { RunStore, type SampleLine } from '../../src-main/core/experiment/run-store';
import { syntheticRun, writeSyntheticRuns } from '../support/synthetic-runs';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workspace(runs: number): Promise<{ store: RunStore; ids: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'cnlab-runs-'));
  dirs.push(dir);
  return { store: new RunStore(dir), ids: await writeSyntheticRuns(dir, runs) };
}

interface TestListing {
  runId: string;
  state: string;
  results: number;
}

function countingCache(store: RunStore, states: Record<string, string> = {}): { computed: string[]; cache: ListingCache<TestListing> } {
  const computed: string[] = [];
  return {
    computed,
    cache: {
      compute: (runId: string) => {
        computed.push(runId);
        return { runId, state: states[runId] ?? 'completed', results: store.folderOf(runId).countMeasuredSync().results };
      },
      cacheable: (listing: TestListing) => listing.state !== 'running',
    },
  };
}

describe('runs list index', () => {
  it('computes each run once, then only runs whose files changed', async () => {
    const { store, ids } = await workspace(12);
    const first = countingCache(store);
    const listed = await cachedListings(store.dir, await store.list(), first.cache);
    expect(listed.map((listing) => listing.runId)).toEqual(ids);
    expect(first.computed).toHaveLength(12);

    const second = countingCache(store);
    expect(await cachedListings(store.dir, await store.list(), second.cache)).toEqual(listed);
    expect(second.computed).toEqual([]);

    // A resumed run: new lines, and its record rewritten (every change of state rewrites it).
    const changed = ids[3] ?? '';
    await appendFile(join(store.dir, changed, 'samples.jsonl'), `${JSON.stringify({ type: 'result', key: '0.r9', cellIndex: 0, repetition: 9, warmup: false, startedAt: '', durationMs: 1, metrics: {} } satisfies SampleLine)}\n`);
    const record = await readFile(join(store.dir, changed, 'run.json'), 'utf8');
    await writeFile(join(store.dir, changed, 'run.json'), record.replace('"state":"completed"', '"state": "completed"'));
    const third = countingCache(store);
    const after = await cachedListings(store.dir, await store.list(), third.cache);
    expect(third.computed).toEqual([changed]);
    expect(after.find((listing) => listing.runId === changed)?.results).toBe((listed[3]?.results ?? 0) + 1);
  });

  it('never caches a running run, drops removed runs and survives a damaged index', async () => {
    const { store, ids } = await workspace(4);
    const running = ids[0] ?? '';
    await cachedListings(store.dir, await store.list(), countingCache(store, { [running]: 'running' }).cache);
    const again = countingCache(store, { [running]: 'running' });
    await cachedListings(store.dir, await store.list(), again.cache);
    expect(again.computed).toEqual([running]);

    await rm(join(store.dir, ids[1] ?? ''), { recursive: true });
    expect((await cachedListings(store.dir, await store.list(), countingCache(store).cache)).map((listing) => listing.runId)).toEqual([ids[0], ids[2], ids[3]]);
    const index = JSON.parse(await readFile(join(store.dir, 'index.json'), 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(index.entries)).not.toContain(ids[1]);

    await writeFile(join(store.dir, 'index.json'), '{ not json');
    const rebuilt = countingCache(store);
    expect(await cachedListings(store.dir, await store.list(), rebuilt.cache)).toHaveLength(3);
    expect(rebuilt.computed).toHaveLength(3);
  });
});

describe('run comparison', () => {
  it('matches cells by case and axis values and tells real differences from noise', () => {
    const a = syntheticRun(1);
    const b = syntheticRun(2);
    // Run B's vxlan at 64 KiB is 20% slower: the only difference that should be significant.
    const slowed = b.lines.map((line) => {
      const cell = b.record.cells[line.type === 'result' ? line.cellIndex : -1];
      if (line.type !== 'result' || cell?.caseLabel !== 'vxlan' || cell.axisValues.blockSize !== 65536) return line;
      return { ...line, metrics: { ...line.metrics, throughputBitsPerSecond: (line.metrics.throughputBitsPerSecond ?? 0) * 0.8 } };
    });
    const rows = compareRunCells(a, { record: b.record, lines: slowed });
    expect(rows).toHaveLength(6);
    const vxlan = rows.find((row) => row.caseLabel === 'vxlan' && row.axisValues.blockSize === 65536);
    expect(vxlan?.difference?.percentChange).toBeLessThan(-15);
    expect(vxlan?.difference?.significant).toBe(true);
    expect(vxlan?.a?.n).toBe(2);
    const bridge = rows.find((row) => row.caseLabel === 'bridge' && row.axisValues.blockSize === 65536);
    expect(Math.abs(bridge?.difference?.percentChange ?? 100)).toBeLessThan(8);
    expect(rows.every((row) => row.metric === 'throughputBitsPerSecond' && row.unit === 'bit/s')).toBe(true);
  });

  it('lists cells only one run has, with a note', () => {
    const a = syntheticRun(1);
    const b = syntheticRun(2);
    const oneCell = { record: { ...b.record, cells: b.record.cells.slice(0, 1) }, lines: b.lines };
    const rows = compareRunCells(a, oneCell);
    expect(rows.filter((row) => row.note === 'run B has no such cell')).toHaveLength(5);
    const reversed = compareRunCells(oneCell, a);
    expect(reversed.filter((row) => row.note === 'run A has no such cell')).toHaveLength(5);
    expect(reversed.filter((row) => row.b === null || row.a === null)).toHaveLength(5);
  });
});
