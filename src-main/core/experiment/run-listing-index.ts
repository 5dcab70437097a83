// The runs list without reading every run: each run's listing (counts of results and failures) is kept in
// runs/index.json next to the size and mtime of the run's record, and recomputed only when it changed.
// Reading 10,000 runs' files takes seconds; one stat each takes about 40 ms here.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';

const INDEX_FILE = 'index.json';
const INDEX_VERSION = 1;
/** Listings computed between two turns of the event loop (each is a few KB read and parsed). */
const YIELD_EVERY = 200;

interface IndexEntry<T> {
  stamp: string;
  listing: T;
}

interface IndexFile<T> {
  v: number;
  entries: Record<string, IndexEntry<T>>;
}

/**
 * What the listing of a finished run depends on: its record alone. Its samples change only while the record
 * says "running" (such listings are never cached), and every change of state rewrites the record. A stat
 * in a loop, not 10,000 promises: the thread pool's round trips cost three times the syscalls themselves.
 */
function runStamp(runsDir: string, runId: string): string {
  try {
    const info = statSync(join(runsDir, runId, 'run.json'));
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

async function readIndex<T>(path: string): Promise<Record<string, IndexEntry<T>>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<IndexFile<T>>;
    // An index from another version, or damaged, is only a cache: start again.
    return parsed.v === INDEX_VERSION && typeof parsed.entries === 'object' && parsed.entries !== null ? parsed.entries : {};
  } catch {
    return {};
  }
}

export interface ListingCache<T> {
  /**
   * Computes a run's listing; null leaves the run out (not a run, or unreadable). Synchronous: a run's few KB
   * read directly cost a third of a trip through the thread pool, and the list yields every few hundred.
   */
  compute(runId: string): T | null;
  /** False for listings that depend on more than the files (a running run's liveness): never cached. */
  cacheable(listing: T): boolean;
}

/** Listings of `runIds` in order, from the index where still valid; the index is rewritten when it changed. */
export async function cachedListings<T>(runsDir: string, runIds: readonly string[], cache: ListingCache<T>): Promise<T[]> {
  const indexPath = join(runsDir, INDEX_FILE);
  const previous = await readIndex<T>(indexPath);
  const next: Record<string, IndexEntry<T>> = {};
  const results: (T | null)[] = new Array<T | null>(runIds.length).fill(null);
  const wanted = new Set(runIds);
  let changed = Object.keys(previous).some((runId) => !wanted.has(runId));
  // Stamps are taken before any listing is computed: a run changing meanwhile is recomputed next time.
  const stale: { index: number; stamp: string }[] = [];
  runIds.forEach((runId, index) => {
    const stamp = runStamp(runsDir, runId);
    const known = previous[runId];
    if (known && known.stamp === stamp) {
      next[runId] = known;
      results[index] = known.listing;
    } else stale.push({ index, stamp });
  });
  for (const [done, { index, stamp }] of stale.entries()) {
    if (done > 0 && done % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const runId = runIds[index] ?? '';
    const listing = cache.compute(runId);
    results[index] = listing;
    if (listing !== null && cache.cacheable(listing)) {
      next[runId] = { stamp, listing };
      changed = true;
    } else if (previous[runId]) changed = true;
  }
  if (changed) await writeFileAtomic(indexPath, JSON.stringify({ v: INDEX_VERSION, entries: next } satisfies IndexFile<T>)).catch(() => undefined);
  return results.filter((listing): listing is T => listing !== null);
}
