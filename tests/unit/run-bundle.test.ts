// Runs exported to a bundle and extracted again: every file byte for byte, the same parsed results
// (per-cell statistics computed from the extracted folders), a manifest and results.csv that describe them.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractBundleArchive, readBundleArchive } from '../../src-main/core/bundle/bundle-archive';
import { exportRunBundle } from '../../src-main/core/bundle/run-bundle';
import { summarizeCells } from '../../src-main/core/experiment/cell-summary';
import { RunStore } from '../../src-main/core/experiment/run-store';
import { writeSyntheticRuns } from '../support/synthetic-runs';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cnlab-run-bundle-'));
  dirs.push(dir);
  return dir;
}

async function parsed(store: RunStore, runId: string): Promise<unknown> {
  const folder = await store.open(runId);
  return summarizeCells(await folder.readRecord(), await folder.readSamples());
}

describe('run bundles', () => {
  it('round-trips runs: identical files and identical parsed results', async () => {
    const workspace = await scratch();
    const ids = await writeSyntheticRuns(workspace, 3);
    const store = new RunStore(workspace);
    const out = join(workspace, 'three-runs.tar.gz');
    const manifest = await exportRunBundle(store, ids.slice(0, 2), out);
    expect(manifest).toMatchObject({ bundleFormat: 1, runs: [{ runId: ids[0], name: 'synthetic', state: 'completed' }, { runId: ids[1] }] });

    const files = await readBundleArchive(out);
    expect([...files.keys()].filter((path) => path.startsWith('runs/')).sort()).toEqual(ids.slice(0, 2).flatMap((id) => [`runs/${id}/run.json`, `runs/${id}/samples.jsonl`]));
    const csv = files.get('results.csv')?.toString('utf8').trim().split('\n') ?? [];
    expect(csv[0]).toBe('runId,cellId,case,axes,metric,n,mean,median,ci95Low,ci95High,noisy');
    // 2 runs × 6 cells × 4 metrics (throughput, bytes, CPU per side).
    expect(csv).toHaveLength(1 + 2 * 6 * 4);

    const imported = join(await scratch(), 'imported');
    await extractBundleArchive(out, imported);
    const importedStore = new RunStore(imported);
    for (const id of ids.slice(0, 2)) {
      expect(await readFile(join(imported, 'runs', id, 'samples.jsonl'))).toEqual(await readFile(join(workspace, 'runs', id, 'samples.jsonl')));
      expect(await parsed(importedStore, id)).toEqual(await parsed(store, id));
    }
    expect(await importedStore.list()).toEqual(ids.slice(0, 2));
  });

  it('refuses an empty run list and an unknown run with the fix', async () => {
    const workspace = await scratch();
    const store = new RunStore(workspace);
    await expect(exportRunBundle(store, [], join(workspace, 'x.tar.gz'))).rejects.toThrow(/name at least one run/);
    await expect(exportRunBundle(store, ['20990101-000000-nothing'], join(workspace, 'x.tar.gz'))).rejects.toThrow(/no run 20990101-000000-nothing/);
  });
});
