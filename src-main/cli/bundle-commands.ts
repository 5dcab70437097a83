// `cnlab bundle export|verify|import` and `cnlab report`: result bundles from a terminal, thin over
// core/bundle. Export writes the named runs of the workspace into one .tar.gz with report.html and chart
// SVGs; verify checks every entry and checksum and writes nothing; import verifies first, then extracts
// into the workspace's imports/ folder (a new folder each time); report writes report.html alone.
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { readBundleArchive } from '../core/bundle/bundle-archive';
import { importBundle } from '../core/bundle/bundle-import';
import { registerBundleRerun } from './bundle-rerun';
import { exportRunBundle, parseBundleManifest, type BundleManifestSummary } from '../core/bundle/run-bundle';
import { RunStore } from '../core/experiment/run-store';
import { writeFileAtomic } from '../core/fs/atomic-write';
import { resolveWorkspaceDir } from '../core/workspace/paths';
import { bundlePresentationFiles, writeReportHtml } from '../api/report-runs';
import type { GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

function workspaceOf(globals: GlobalOptions): string {
  return resolveWorkspaceDir(globals.workspace, { env: process.env, homeDir: process.env.HOME || homedir() });
}

function runsTable(manifest: BundleManifestSummary): string {
  return formatTable(['RUN', 'EXPERIMENT', 'STATE', 'CREATED'], manifest.runs.map((run) => [run.runId, run.name, run.state, run.createdAt])).trimEnd();
}

export function registerBundleCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const bundle = program.command('bundle').description('export, verify and import result bundles (.tar.gz with SHA256SUMS)');

  bundle
    .command('export')
    .description('write runs of the workspace into one bundle')
    .argument('<runs...>', 'run ids (or unique prefixes), see `cnlab runs list`')
    .requiredOption('-o, --output <file>', 'the bundle to write (.tar.gz)')
    .action(async (runs: string[], options: { output: string }) => {
      const manifest = await exportRunBundle(new RunStore(workspaceOf(globals())), runs, options.output, { extraFiles: (runs) => bundlePresentationFiles(runs) });
      if (globals().json) return printJson(io, { ok: true, file: options.output, manifest });
      io.stdout(`wrote ${options.output}: ${manifest.runs.length} run${manifest.runs.length === 1 ? '' : 's'}\n${runsTable(manifest)}\n`);
    });

  registerBundleRerun(bundle, io, globals, workspaceOf);

  bundle
    .command('verify')
    .description('check every entry and checksum of a bundle; writes nothing')
    .argument('<file>', 'the bundle')
    .action(async (file: string) => {
      const files = await readBundleArchive(file);
      const manifest = parseBundleManifest(files.get('manifest.json')?.toString('utf8'), file);
      if (globals().json) return printJson(io, { ok: true, files: files.size, manifest });
      io.stdout(`${file}: ok, ${files.size} files match SHA256SUMS (bundle format ${manifest.bundleFormat}, cnlab ${manifest.cnlabVersion})\n${runsTable(manifest)}\n`);
    });

  bundle
    .command('import')
    .description('verify a bundle, then extract it into the workspace (imports/<name>/), read-only')
    .argument('<file>', 'the bundle')
    .action(async (file: string) => {
      // The manifest is checked before anything is written: a bundle refused here leaves no import behind.
      const files = await readBundleArchive(file);
      const manifest = parseBundleManifest(files.get('manifest.json')?.toString('utf8'), file);
      const { target, written } = await importBundle(workspaceOf(globals()), file, files);
      if (globals().json) return printJson(io, { ok: true, folder: target, files: written.length, manifest });
      io.stdout(`imported ${file} into ${target} (${written.length} files)\n${runsTable(manifest)}\n`);
    });

  program
    .command('report')
    .description('write a self-contained report.html of runs (tables, charts, hosts, labs, commands); opens offline')
    .argument('<runs...>', 'run ids (or unique prefixes), see `cnlab runs list`')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .action(async (runs: string[], options: { output: string }) => {
      const store = new RunStore(workspaceOf(globals()));
      const folders = await Promise.all(runs.map((runId) => store.open(runId)));
      await writeFileAtomic(options.output, await writeReportHtml(folders));
      if (globals().json) return printJson(io, { ok: true, file: options.output, runs: folders.map((folder) => folder.runId) });
      io.stdout(`wrote ${options.output}: ${folders.length} run${folders.length === 1 ? '' : 's'}\n`);
    });
}
