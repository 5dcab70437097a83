// Reads run folders into what the report needs, and makes a bundle's presentation files from them:
// report.html and each detailed run's charts as charts/<run>/<name>.svg (the report inlines the same SVGs).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleFile } from '../core/bundle/bundle-archive';
import type { BundledRun } from '../core/bundle/run-bundle';
import { readRunDetails } from '../core/experiment/experiment-service';
import type { RunFolder } from '../core/experiment/run-store';
import { CNLAB_VERSION } from '../core/version';
import { DETAILED_RUNS, renderRunReport, runChartSvgs, type ReportRun } from './run-report';
import { runViewWithStudy } from './run-view';

async function readOptional(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** A run as the report shows it; `detailed` adds its charts, command log and deployed labs. */
async function reportRunOf({ folder, details, deployed }: BundledRun, detailed: boolean): Promise<ReportRun> {
  const view = await runViewWithStudy(details);
  if (!detailed) return { view, record: details.record, commandsLog: '' };
  return { view, record: details.record, charts: runChartSvgs(view), commandsLog: await readOptional(join(folder.dir, 'commands.log')), deployed };
}

const reportRuns = (runs: readonly BundledRun[]): Promise<ReportRun[]> => Promise.all(runs.map((run, index) => reportRunOf(run, index < DETAILED_RUNS)));

export function reportTitle(runs: readonly ReportRun[]): string {
  const names = [...new Set(runs.map((run) => run.view.name))];
  return `cnlab results: ${names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`}`;
}

function reportOf(runs: readonly ReportRun[], now: Date): string {
  return renderRunReport(runs, { title: reportTitle(runs), createdAt: now.toISOString(), cnlabVersion: CNLAB_VERSION });
}

export async function writeReportHtml(folders: readonly RunFolder[], now = new Date()): Promise<string> {
  const runs = await Promise.all(folders.map(async (folder) => ({ folder, details: await readRunDetails(folder), deployed: await folder.readDeployed() })));
  return reportOf(await reportRuns(runs), now);
}

/** report.html and charts/<run>/<chart>.svg for the runs of a bundle (as run-bundle.ts read them). */
export async function bundlePresentationFiles(bundled: readonly BundledRun[], now = new Date()): Promise<BundleFile[]> {
  const runs = await reportRuns(bundled);
  const files: BundleFile[] = [{ path: 'report.html', content: Buffer.from(reportOf(runs, now)) }];
  for (const run of runs) {
    for (const chart of run.charts ?? []) files.push({ path: `charts/${run.view.runId}/${chart.name}.svg`, content: Buffer.from(chart.svg) });
  }
  return files;
}
