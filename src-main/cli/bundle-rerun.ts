// `cnlab bundle rerun FILE --map h1=hostA,h2=hostB`: the experiment of a bundle's run, measured again on
// the user's hosts. The bundle is verified and imported (or the identical import reused), each chosen run's
// experiment is bound to inventory hosts with --map and run with the bundle's seed (same run order, same
// labs per case), and the new run is compared cell by cell against the bundle's: differences with their
// 95% intervals and which are significant.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readBundleArchive } from '../core/bundle/bundle-archive';
import { importBundle, importedRunStore, IMPORTS_DIR, listImportedBundles } from '../core/bundle/bundle-import';
import { parseBundleManifest } from '../core/bundle/run-bundle';
import { CnlabError } from '../core/errors';
import { compareRunFolders } from '../core/experiment/experiment-service';
import { mapHosts, parseHostMap } from '../core/experiment/experiment-schema';
import type { CellComparison } from '../core/experiment/run-comparison';
import { parseRunRecord, type RunRecord } from '../core/experiment/run-store';
import type { GlobalOptions } from './cli-context';
import { cancelOnSignals, eventPrinter, finish, withExperiments } from './experiment-commands';
import { formatTable, printJson, type CliIo } from './output';
import { formatMetric } from './run-report';

/**
 * The import of this very bundle if one exists (same manifest bytes), else a new one; verified either way.
 * `check` sees each run's record first: a rerun that cannot start (a wrong --map) imports nothing.
 */
async function importedBundleOf(workspaceDir: string, file: string, check: (record: RunRecord) => void): Promise<{ bundle: string; runIds: string[]; reused: boolean }> {
  const files = await readBundleArchive(file);
  const manifestText = files.get('manifest.json')?.toString('utf8');
  const runIds = parseBundleManifest(manifestText, file).runs.map((run) => run.runId);
  for (const runId of runIds) {
    const record = files.get(`runs/${runId}/run.json`);
    if (!record) throw new CnlabError('invalid-input', `${file}: the manifest names run ${runId}, which the bundle does not hold`);
    check(parseRunRecord(record.toString('utf8'), `${file}: runs/${runId}/run.json`, runId));
  }
  for (const bundle of await listImportedBundles(workspaceDir)) {
    const existing = await readFile(join(workspaceDir, IMPORTS_DIR, bundle, 'manifest.json'), 'utf8').catch(() => null);
    if (existing === manifestText) return { bundle, runIds, reused: true };
  }
  return { bundle: (await importBundle(workspaceDir, file, files)).bundle, runIds, reused: false };
}

function comparisonRows(rows: readonly CellComparison[]): string[][] {
  return rows.map((row) => {
    const axes = Object.entries(row.axisValues).map(([axis, value]) => `${axis}=${String(value)}`).join(' ');
    const change = row.difference ? `${row.difference.percentChange >= 0 ? '+' : ''}${row.difference.percentChange.toFixed(1)} %${row.difference.ci95 ? ` [${row.difference.ci95.low.toFixed(1)}, ${row.difference.ci95.high.toFixed(1)}]` : ''}` : (row.note ?? '—');
    return [`${row.caseLabel}${axes ? ` ${axes}` : ''}`, row.metric, row.a ? formatMetric(row.metric, row.a.median) : '—', row.b ? formatMetric(row.metric, row.b.median) : '—', change, row.difference ? (row.difference.significant ? 'yes' : 'no') : '—'];
  });
}

export function registerBundleRerun(bundle: Command, io: CliIo, globals: () => GlobalOptions, workspaceOf: (globals: GlobalOptions) => string): void {
  bundle
    .command('rerun')
    .description("measure a bundle's experiment again on your hosts and compare the new run with the bundle's")
    .argument('<file>', 'the bundle (.tar.gz)')
    .requiredOption('--map <pairs>', "bind the bundle's hosts to inventory hosts: h1=hostA,h2=hostB")
    .option('--run <id>', "which of the bundle's runs (default: each, in order)")
    .option('--no-preflight', 'skip the preflight checks (recorded in the run)')
    .action(async (file: string, options: { map: string; run?: string; preflight: boolean }) => {
      const hostMap = parseHostMap(options.map);
      const workspaceDir = workspaceOf(globals());
      const { bundle, runIds, reused } = await importedBundleOf(workspaceDir, file, (record) => mapHosts(record.experiment, hostMap));
      if (!globals().json) io.stderr(`${reused ? 'using the earlier import' : 'imported'} ${IMPORTS_DIR}/${bundle} (every checksum verified)\n`);
      const chosen = options.run ? runIds.filter((id) => id.startsWith(options.run ?? '')) : runIds;
      if (chosen.length === 0) throw new CnlabError('not-found', `the bundle has no run ${options.run ?? ''} (its runs: ${runIds.join(', ') || 'none'})`);
      const store = importedRunStore(workspaceDir, bundle);
      await withExperiments(globals(), async (experiments) => {
        for (const runId of chosen) {
          const original = await store.open(runId);
          const record = await original.readRecord();
          // The same seed gives the same run order; mapHosts refuses names the experiment does not use.
          const spec = { ...mapHosts(record.experiment, hostMap), seed: record.seed };
          const cancel = cancelOnSignals(io);
          try {
            const rerun = await experiments.start(spec, { hostMap, signal: cancel.signal, onEvent: eventPrinter(io, process.stderr.isTTY === true), skipPreflight: !options.preflight });
            const { rows } = await compareRunFolders(original, await experiments.store.open(rerun.runId));
            if (globals().json) {
              printJson(io, { ok: rerun.state === 'completed', bundleRun: `${IMPORTS_DIR}/${bundle}/${runId}`, runId: rerun.runId, state: rerun.state, comparison: rows });
              if (rerun.state !== 'completed') throw new CnlabError('command-failed', `run ${rerun.runId} ${rerun.state}: resume it with \`cnlab runs resume ${rerun.runId}\``);
              continue;
            }
            try {
              await finish(io, globals(), experiments, rerun);
            } finally {
              // Also for a run that stopped early: what it measured is compared.
              io.stdout(`\n${rerun.runId} (here) against ${IMPORTS_DIR}/${bundle}/${runId} (the bundle):\n${formatTable(['CELL', 'METRIC', 'BUNDLE', 'HERE', 'CHANGE [95% CI]', 'SIGNIFICANT'], comparisonRows(rows)).trimEnd()}\n`);
            }
          } finally {
            cancel.dispose();
          }
        }
      });
    });
}
