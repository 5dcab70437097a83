// The runs list without reading every run: each run's listing (counts of results and failures) is kept in
// runs/index.json next to the size and mtime of the two files it came from, and recomputed only when one
// of them changed. Reading 10,000 runs' samples takes tens of seconds; a stat each takes a fraction of one.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';

const INDEX_FILE = 'index.json';
const INDEX_VERSION = 1;
/** Stats in flight at once: enough to hide the syscalls' latency, few enough to stay under open-file limits. */
const STAT_BATCH = 256;

interface IndexEntry<T> {
  stamp: string;
  listing: T;
}

interface IndexFile<T> {
  v: number;
  entries: Record<string, IndexEntry<T>>;
}

async function fileStamp(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** What the listing of a run depends on: its record and its sample lines. */
async function runStamp(runsDir: string, runId: string): Promise<string> {
  const [record, samples] = await Promise.all([fileStamp(join(runsDir, runId, 'run.json')), fileStamp(join(runsDir, runId, 'samples.jsonl'))]);
  return `${record}/${samples}`;
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
  /** Computes a run's listing; null leaves the run out (not a run, or unreadable). */
  compute(runId: string): Promise<T | null>;
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
  for (let start = 0; start < runIds.length; start += STAT_BATCH) {
    const batch = runIds.slice(start, start + STAT_BATCH);
    await Promise.all(
      batch.map(async (runId, offset) => {
        const stamp = await runStamp(runsDir, runId);
        const known = previous[runId];
        if (known && known.stamp === stamp) {
          next[runId] = known;
          results[start + offset] = known.listing;
          return;
        }
        const listing = await cache.compute(runId);
        results[start + offset] = listing;
        if (listing !== null && cache.cacheable(listing)) {
          next[runId] = { stamp, listing };
          changed = true;
        } else if (known) changed = true;
      }),
    );
  }
  if (changed) await writeFileAtomic(indexPath, JSON.stringify({ v: INDEX_VERSION, entries: next } satisfies IndexFile<T>)).catch(() => undefined);
  return results.filter((listing): listing is T => listing !== null);
}
