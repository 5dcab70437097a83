// Bundles through the console's API, as the Results view uses it: a bundle exported from one workspace is
// imported into another (verified first, then read-only), listed beside the own runs, shown, compared with
// an own run, exported again with its own runs and reported; a resume of an imported run, a tampered or
// hostile bundle and a run chosen twice are refused with the reason, and nothing is written for them.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleExportView, BundleImportView, RunComparisonView, RunListingView, RunView } from '../../src-main/contract/lab-api';
import { openTestConsole, type TestConsole } from '../support/lab-console';
import { writeSyntheticRuns } from '../support/synthetic-runs';

let theirs: TestConsole;
let ours: TestConsole;
let theirIds: string[];
let ourIds: string[];
let bundleFile: string;

beforeAll(async () => {
  theirs = await openTestConsole('cnlab-bundles-theirs-');
  ours = await openTestConsole('cnlab-bundles-ours-');
  theirIds = await writeSyntheticRuns(theirs.workspaceDir, 2);
  // Our own runs: a later slice of the same series, so run ids differ from the bundle's.
  ourIds = (await writeSyntheticRuns(join(ours.scratch, 'seed'), 4)).slice(2);
  mkdirSync(join(ours.workspaceDir, 'runs'), { recursive: true });
  for (const id of ourIds) {
    mkdirSync(join(ours.workspaceDir, 'runs', id));
    for (const file of ['run.json', 'samples.jsonl']) writeFileSync(join(ours.workspaceDir, 'runs', id, file), readFileSync(join(ours.scratch, 'seed', 'runs', id, file)));
  }
  bundleFile = join(theirs.scratch, 'their-runs.tar.gz');
});

afterAll(async () => {
  await theirs?.dispose();
  await ours?.dispose();
});

describe('bundles through the LabApi', () => {
  it('exports runs with report.html and chart SVGs', async () => {
    const exported = await theirs.value<BundleExportView>('exportBundle', { runIds: theirIds, file: bundleFile });
    expect(exported).toMatchObject({ file: bundleFile, runs: 2 });
    expect(exported.bytes).toBeGreaterThan(1000);
    const again = await theirs.call('exportBundle', { runIds: theirIds, file: bundleFile });
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.message).toBe(`${bundleFile} already exists: choose another file name (the console never replaces a file)`);
  });

  it('imports it read-only: listed beside the own runs, shown, compared with an own run', async () => {
    const imported = await ours.value<BundleImportView>('importBundle', { file: bundleFile });
    expect(imported.bundle).toBe('their-runs');
    expect(imported.runs.map((run) => run.runId)).toEqual(theirIds.map((id) => `imports/their-runs/${id}`));

    const listed = await ours.value<RunListingView[]>('listRuns');
    expect(listed.map((run) => run.runId)).toEqual([...ourIds, ...theirIds.map((id) => `imports/their-runs/${id}`)]);
    expect(listed.filter((run) => run.imported).map((run) => run.imported?.bundle)).toEqual(['their-runs', 'their-runs']);

    const ref = `imports/their-runs/${theirIds[0] ?? ''}`;
    const view = await ours.value<RunView>('getRun', { runId: ref });
    expect(view).toMatchObject({ runId: ref, imported: { bundle: 'their-runs' }, state: 'completed' });
    expect(view.cells).toHaveLength(6);

    const comparison = await ours.value<RunComparisonView>('compareRuns', { runA: ref, runB: ourIds[0] });
    expect(comparison.a.runId).toBe(ref);
    expect(comparison.b.runId).toBe(ourIds[0]);
    expect(comparison.rows).toHaveLength(6);
    expect(comparison.rows.every((row) => row.a !== null && row.b !== null)).toBe(true);
  });

  it('refuses to resume an imported run, with the way to re-run it', async () => {
    const envelope = await ours.call('resumeRun', { runId: `imports/their-runs/${theirIds[0] ?? ''}` });
    expect(envelope.ok).toBe(false);
    if (!envelope.ok) expect(envelope.error.message).toMatch(/read-only.*cnlab bundle rerun/);
  });

  it('exports own and imported runs together, and writes their report', async () => {
    const mixed = join(ours.scratch, 'mixed.tar.gz');
    const exported = await ours.value<BundleExportView>('exportBundle', { runIds: [ourIds[0], `imports/their-runs/${theirIds[1] ?? ''}`], file: mixed });
    expect(exported.runs).toBe(2);
    const report = join(ours.scratch, 'mixed.html');
    await ours.value('writeRunReport', { runIds: [ourIds[0], `imports/their-runs/${theirIds[1] ?? ''}`], file: report });
    const html = readFileSync(report, 'utf8');
    expect(html).toContain(ourIds[0]);
    expect(html).toContain(theirIds[1]);
  });

  it('refuses a run chosen twice, a tampered bundle and a bundle path that is not a bundle, writing nothing', async () => {
    const twice = await ours.call('exportBundle', { runIds: [ourIds[0], ourIds[0]], file: join(ours.scratch, 'twice.tar.gz') });
    expect(twice.ok).toBe(false);
    if (!twice.ok) expect(twice.error.message).toMatch(/chosen twice/);
    expect(existsSync(join(ours.scratch, 'twice.tar.gz'))).toBe(false);

    const tampered = join(ours.scratch, 'tampered.tar.gz');
    const tar = gunzipSync(readFileSync(bundleFile));
    const at = tar.indexOf('"throughputBitsPerSecond"');
    tar[at + 2] = tar[at + 2] === 0x68 ? 0x48 : 0x68;
    writeFileSync(tampered, gzipSync(tar));
    const refused = await ours.call('importBundle', { file: tampered });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toMatch(/samples\.jsonl does not match its checksum/);

    const notBundle = join(ours.scratch, 'notes.tar.gz');
    writeFileSync(notBundle, 'just some text');
    const garbage = await ours.call('importBundle', { file: notBundle });
    expect(garbage.ok).toBe(false);
    expect(readdirSync(join(ours.workspaceDir, 'imports')).sort()).toEqual(['their-runs']);
  });

  it('refuses refs that try to leave the workspace', async () => {
    for (const runId of ['imports/../runs/x', '../x', 'imports/their-runs/../../etc']) {
      const envelope = await ours.call('getRun', { runId });
      expect(envelope.ok).toBe(false);
      if (!envelope.ok) expect(envelope.error.message).toMatch(/a run id is a run folder name/);
    }
  });
});
