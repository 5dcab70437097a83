// `cnlab run`, `cnlab runs list|show|resume` and `cnlab preflight`: thin wrappers over the core
// ExperimentService. Progress goes to stderr (a redrawn bar on a TTY, lines otherwise); Ctrl-C
// cancels cleanly (every host torn down), a second Ctrl-C exits at once.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CnlabError } from '../core/errors';
import { ExperimentService, type ExperimentPlan, type InstallRequest, type RunDetails } from '../core/experiment/experiment-service';
import { parseHostMap } from '../core/experiment/experiment-schema';
import type { RunEvent } from '../core/experiment/run-events';
import type { RunRecord } from '../core/experiment/run-store';
import { LabService } from '../core/topology/lab-service';
import { withHostService, type GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';
import { cellTable, launchTable, progressLine } from './run-report';
import { formatStudyComparison, parsePartList, readStudyReference, studyRunnables } from './study-commands';
import { studyComparisonOfRun } from '../core/studies/study-catalog';

export async function withExperiments<T>(globals: GlobalOptions, body: (experiments: ExperimentService) => Promise<T>): Promise<T> {
  return withHostService(globals, (hosts) => body(new ExperimentService(hosts, new LabService(hosts, hosts.workspaceDir), hosts.workspaceDir)));
}

export function eventPrinter(io: CliIo, tty: boolean): (event: RunEvent) => void {
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) io.stderr('\r\x1b[K');
    barShown = false;
  };
  return (event) => {
    switch (event.type) {
      case 'progress':
        if (tty) {
          clearBar();
          io.stderr(progressLine(event));
          barShown = true;
        } else io.stderr(`${progressLine(event)}\n`);
        return;
      case 'state':
        clearBar();
        io.stderr(`${event.state}${event.detail ? `: ${event.detail}` : ''}\n`);
        return;
      case 'warning':
        clearBar();
        io.stderr(`warning: ${event.message} — ${event.fix}\n`);
        return;
      case 'failure':
        clearBar();
        io.stderr(`run ${event.key} (${event.cellId}) failed: ${event.message}\n`);
        return;
      default:
        return;
    }
  };
}

/** Ctrl-C cancels the run (hosts cleaned); a second one exits without waiting. */
export function cancelOnSignals(io: CliIo): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr('\ncancelling: stopping the run and cleaning the hosts (Ctrl-C again to exit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Install consent: --install-missing says yes to all; on a terminal the user is asked per host; otherwise no. */
function installConsent(always: boolean): ((request: InstallRequest) => Promise<boolean>) | undefined {
  if (always) return () => Promise.resolve(true);
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (request) => {
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await prompt.question(`${request.host} lacks ${request.tools.join(', ')}: install ${request.packages.join(' ')} with ${request.packageManager ?? 'its package manager'}? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      prompt.close();
    }
  };
}

function consentOption(always: boolean): { consentToInstall?: (request: InstallRequest) => Promise<boolean> } {
  const consent = installConsent(always);
  return consent ? { consentToInstall: consent } : {};
}

function planText(plan: ExperimentPlan): string {
  const cells = formatTable(['#', 'cell', 'server', 'client'], plan.cells.map((cell) => {
    const entry = plan.spec.modes.find((item) => item.label === cell.caseLabel);
    return [String(cell.index), cell.id, entry?.placement.server ?? '', entry?.placement.client ?? ''];
  }));
  const labs = plan.topologies.map((item) => {
    const what = item.topology ? `lab ${item.labId}: ${item.topology.containers.map((c) => `${c.name}×${c.count ?? 1}@${c.host}`).join(', ')}` : item.labId ? `lab ${item.labId} applied per run (launch time)` : 'no lab (on the hosts themselves)';
    return `  ${item.caseLabel}: ${what}\n`;
  });
  const order = plan.blocks.map((block) => `  ${block.caseLabel}: ${block.runs.map((run) => run.key).join(' ')}\n`);
  const head = `experiment ${plan.spec.name}: ${plan.cells.length} cells, ${plan.totalRuns} runs (seed ${plan.seed}${plan.spec.randomize ? ', randomised within each case' : ', file order'})\n\n`;
  return `${head}${cells}\ntopologies:\n${labs.join('')}\norder:\n${order.join('')}`;
}

function printDetails(io: CliIo, details: RunDetails): void {
  const { record } = details;
  io.stdout(`run ${record.runId} (${record.experiment.name}): ${details.state}${record.error ? ` — ${record.error}` : ''}\n`);
  io.stdout(`workload ${record.experiment.workload.tool}, ${record.experiment.repetitions} repetitions + ${record.experiment.warmup} warm-up, seed ${record.seed}\n\n`);
  io.stdout(cellTable(details.cells));
  const launch = launchTable(details.cells);
  if (launch) io.stdout(`\n${launch}`);
  const warnings = details.cells.flatMap((cell) => {
    const summary = cell.metrics[cell.primary.name];
    return summary?.warning ? [`${cell.cellId}: ${summary.warning}`] : [];
  });
  warnings.push(...(record.warnings ?? []).map((finding) => `${finding.message} — ${finding.fix}`));
  if (warnings.length > 0) io.stdout(`\nwarnings:\n${warnings.map((line) => `  ${line}`).join('\n')}\n`);
  if (details.failures.length > 0) io.stdout(`\n${details.failures.length} failed run(s): ${details.failures.slice(0, 5).map((failure) => `${failure.key}: ${failure.error.message}`).join('; ')}\n`);
}

function outcomeJson(details: RunDetails): unknown {
  return {
    runId: details.record.runId,
    state: details.state,
    error: details.record.error,
    cells: details.cells.map((cell) => ({
      cell: cell.cellId,
      case: cell.caseLabel,
      axes: cell.axisValues,
      runs: cell.runs,
      metric: cell.primary.name,
      median: cell.metrics[cell.primary.name]?.median ?? null,
      mean: cell.metrics[cell.primary.name]?.mean ?? null,
      ci95: cell.metrics[cell.primary.name]?.ci95 ?? null,
      cv: cell.metrics[cell.primary.name]?.cv ?? null,
      metrics: Object.fromEntries(Object.entries(cell.metrics).map(([name, summary]) => [name, { median: summary.median, mean: summary.mean, ci95: summary.ci95, n: summary.n }])),
      baseline: cell.baseline,
      failures: cell.failures,
    })),
  };
}

export async function finish(io: CliIo, globals: GlobalOptions, experiments: ExperimentService, record: RunRecord): Promise<void> {
  const details = await experiments.show(record.runId);
  const study = await studyComparisonOfRun(details);
  if (globals.json) printJson(io, { ...(outcomeJson(details) as object), ...(study ? { study } : {}) });
  else {
    printDetails(io, details);
    if (study) io.stdout(formatStudyComparison(study));
  }
  if (record.state !== 'completed') {
    throw new CnlabError(record.state === 'cancelled' ? 'cancelled' : 'command-failed', `run ${record.runId} ${record.state}${record.error ? `: ${record.error}` : ''} — resume it with \`cnlab runs resume ${record.runId}\``);
  }
}

export function registerExperimentCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  program
    .command('run <file>')
    .description('run an experiment file, or a study template (id or file: every part, or --part): preflight, apply, measure, tear down; results in the workspace')
    .option('--plan', 'list the cells, labs and run order without running anything')
    .option('--map <pairs>', "bind the file's host names to inventory hosts: name=host,…")
    .option('--part <names>', 'a study template: run only these parts (comma-separated; `cnlab studies show STUDY` lists them)')
    .option('--no-preflight', 'skip the preflight checks (recorded in the run)')
    .option('--install-missing', "install tools the preflight finds missing with each host's package manager (recorded in the run)")
    .action(async (file: string, options: { plan?: boolean; map?: string; part?: string; preflight: boolean; installMissing?: boolean }) => {
      const hostMap = options.map ? parseHostMap(options.map) : {};
      const study = await readStudyReference(file);
      if (!study && options.part) throw new CnlabError('usage', `--part is for study templates, and ${file} is an experiment file: leave --part out`);
      await withExperiments(globals(), async (experiments) => {
        let specs = study ? [] : [await experiments.readExperiment(file, hostMap)];
        if (study) {
          const runnable = studyRunnables(study, hostMap, parsePartList(options.part), experiments.hosts.inventory.list());
          specs = runnable.specs;
          for (const note of runnable.notes) io.stderr(`note: ${note}\n`);
        }
        if (options.plan) {
          const plans = specs.map((spec) => experiments.plan(spec));
          if (globals().json) printJson(io, study ? { study: study.id, parts: plans } : plans[0]);
          else for (const [index, plan] of plans.entries()) io.stdout(`${index > 0 ? '\n' : ''}${study ? `${study.title}, part ${plan.spec.study?.part ?? ''}\n` : ''}${planText(plan)}`);
          return;
        }
        const cancel = cancelOnSignals(io);
        try {
          for (const spec of specs) {
            if (study) io.stderr(`${study.title}: part ${spec.study?.part ?? ''} (${spec.name})\n`);
            const record = await experiments.start(spec, { file, hostMap, signal: cancel.signal, onEvent: eventPrinter(io, process.stderr.isTTY === true), skipPreflight: !options.preflight, ...consentOption(options.installMissing === true) });
            await finish(io, globals(), experiments, record);
          }
        } finally {
          cancel.dispose();
        }
      });
    });

  const runs = program.command('runs').description('stored experiment runs of the workspace');
  runs
    .command('list')
    .description('every run with its state and progress')
    .action(async () => {
      await withExperiments(globals(), async (experiments) => {
        const listing = await experiments.list();
        if (globals().json) printJson(io, listing);
        else if (listing.length === 0) io.stdout('no runs yet: start one with `cnlab run EXPERIMENT_FILE`\n');
        else io.stdout(formatTable(['run', 'experiment', 'state', 'results', 'failures', 'cells'], listing.map((run) => [run.runId, run.name, run.state, `${run.results}/${run.planned}`, String(run.failures), String(run.cells)])));
      });
    });
  runs
    .command('show <run>')
    .description("a run's per-cell statistics (median, mean ± 95% CI, CV, vs baseline)")
    .action(async (runId: string) => {
      await withExperiments(globals(), async (experiments) => {
        const details = await experiments.show(runId);
        const study = await studyComparisonOfRun(details);
        if (globals().json) printJson(io, { ...(outcomeJson(details) as object), record: details.record, ...(study ? { study } : {}) });
        else {
          printDetails(io, details);
          if (study) io.stdout(formatStudyComparison(study));
        }
      });
    });
  runs
    .command('resume <run>')
    .description('continue an interrupted, cancelled or failed run: only runs without a result are run')
    .action(async (runId: string) => {
      await withExperiments(globals(), async (experiments) => {
        const cancel = cancelOnSignals(io);
        try {
          const record = await experiments.resume(runId, { signal: cancel.signal, onEvent: eventPrinter(io, process.stderr.isTTY === true) });
          await finish(io, globals(), experiments, record);
        } finally {
          cancel.dispose();
        }
      });
    });

  program
    .command('preflight <file>')
    .description("check an experiment's hosts before running: reachable, privileged, tools, and what would skew results")
    .option('--map <pairs>', "bind the file's host names to inventory hosts: name=host,…")
    .action(async (file: string, options: { map?: string }) => {
      await withExperiments(globals(), async (experiments) => {
        const spec = await experiments.readExperiment(file, options.map ? parseHostMap(options.map) : {});
        const report = await experiments.preflight(spec);
        if (globals().json) printJson(io, report);
        else {
          for (const finding of report.findings) io.stdout(`${finding.severity.padEnd(7)} ${finding.host ?? '-'}: ${finding.message} — ${finding.fix}\n`);
          io.stdout(report.ok ? `preflight ok (${report.findings.length} notes)\n` : 'preflight failed\n');
        }
        if (!report.ok) throw new CnlabError('command-failed', `preflight of ${file} found errors: fix them and run it again`);
      });
    });
}


