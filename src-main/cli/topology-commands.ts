// `cnlab topology …`, `cnlab sweep` and `cnlab exec`: thin wrappers over the core LabService.
// Progress goes to stderr; --json prints the applied state, the verify matrix or the sweep list.
import type { Command } from 'commander';
import { CnlabError } from '../core/errors';
import type { LabEvent } from '../core/topology/lab-runtime';
import { LabService } from '../core/topology/lab-service';
import type { VerifyOutcome } from '../core/topology/verify-script';
import { withHostService, type GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

function progressPrinter(io: CliIo): (event: LabEvent) => void {
  return (event) => {
    if (event.type === 'host') io.stderr(`[${event.host}] ${event.status}\n`);
    else if (event.durationMs !== null) io.stderr(`[${event.host}] ${event.stepId} ${event.noReply ? 'no reply' : 'ok'} (${event.durationMs.toFixed(1)} ms)\n`);
  };
}

function verifySummary(outcomes: readonly VerifyOutcome[]): { passed: number; failed: VerifyOutcome[] } {
  const failed = outcomes.filter((outcome) => !outcome.ok);
  return { passed: outcomes.length - failed.length, failed };
}

async function withLabs<T>(globals: GlobalOptions, body: (labs: LabService) => Promise<T>): Promise<T> {
  return withHostService(globals, (hosts) => body(new LabService(hosts, hosts.workspaceDir)));
}

export function registerTopologyCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const topology = program.command('topology').description('validate, plan, apply, verify and tear down lab topologies');

  topology
    .command('validate <file>')
    .description('check a topology file against the schema and the hosts\' probed facts')
    .action(async (file: string) => {
      await withLabs(globals(), async (labs) => {
        const plan = await labs.plan(await labs.readTopology(file));
        const steps = plan.hosts.reduce((sum, host) => sum + host.steps.length, 0);
        if (globals().json) printJson(io, { valid: true, labId: plan.labId, containers: plan.containers.length, steps });
        else io.stdout(`${file}: valid — lab ${plan.labId}, ${plan.containers.length} containers, ${steps} steps on ${plan.hosts.length} hosts\n`);
      });
    });

  topology
    .command('plan <file>')
    .description('dry run: show the exact script each host would run')
    .action(async (file: string) => {
      await withLabs(globals(), async (labs) => {
        const plan = await labs.plan(await labs.readTopology(file));
        const scripts = labs.previewScripts(plan);
        if (globals().json) {
          printJson(io, { labId: plan.labId, fingerprint: plan.fingerprint, hosts: scripts, containers: plan.containers, expectations: plan.expectations, ...(plan.controlPlanes ? { controlPlanes: plan.controlPlanes } : {}) });
        }
        else for (const { host, script } of scripts) io.stdout(`# ---- host ${host} ----\n${script}\n`);
      });
    });

  topology
    .command('apply <file>')
    .description('apply a topology on its hosts (rolls back everything on any failure)')
    .option('--timings', 'time every step on the hosts (per-container breakdown)')
    .action(async (file: string, options: { timings?: boolean }) => {
      await withLabs(globals(), async (labs) => {
        const spec = await labs.readTopology(file);
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        try {
          const applied = await labs.apply(spec, { timings: options.timings === true, signal: controller.signal, onEvent: progressPrinter(io) });
          if (globals().json) printJson(io, { status: applied.status, ...applied.record });
          else if (applied.status === 'unchanged') io.stdout(`lab ${spec.name} is already applied and unchanged\n`);
          else {
            const durations = Object.entries(applied.hostDurationsMs).map(([host, ms]) => `${host} ${ms.toFixed(0)} ms`).join(', ');
            io.stdout(`applied lab ${spec.name}: ${applied.record.containers.length} containers on ${applied.record.hosts.length} hosts (${durations})\n`);
          }
        } finally {
          process.removeListener('SIGINT', stop);
        }
      });
    });

  topology
    .command('verify <lab>')
    .description('ping matrix: pairs that should reach each other do, isolated pairs do not')
    .action(async (labId: string) => {
      await withLabs(globals(), async (labs) => {
        const outcomes = await labs.verify(labId);
        const { passed, failed } = verifySummary(outcomes);
        if (globals().json) printJson(io, { labId, passed, failed: failed.length, outcomes });
        else {
          io.stdout(`lab ${labId}: ${passed} of ${outcomes.length} checks as expected\n`);
          if (failed.length > 0) {
            io.stdout(formatTable(['FROM', 'TO', 'ADDRESS', 'NETWORK', 'EXPECTED', 'GOT'], failed.map((o) => [o.from, o.to, o.address, o.network, o.reachable ? 'reach' : 'isolated', o.replied ? 'reach' : 'no reply'])));
          }
        }
        if (failed.length > 0) throw new CnlabError('command-failed', `lab ${labId}: ${failed.length} connectivity checks did not match the topology`);
      });
    });

  topology
    .command('check <lab>')
    .description('backend cni: CNI CHECK of every plugin ADD of the lab, on its hosts')
    .action(async (labId: string) => {
      await withLabs(globals(), async (labs) => {
        const outcomes = await labs.check(labId);
        const failed = outcomes.filter((outcome) => !outcome.ok);
        if (globals().json) printJson(io, { labId, passed: outcomes.length - failed.length, failed: failed.length, outcomes });
        else {
          io.stdout(`lab ${labId}: ${outcomes.length - failed.length} of ${outcomes.length} CNI attachments pass CHECK\n`);
          if (failed.length > 0) io.stdout(formatTable(['HOST', 'CONTAINER', 'IFNAME', 'PLUGIN', 'ERROR'], failed.map((o) => [o.host, o.container, o.ifname, o.plugin, o.message])));
        }
        if (failed.length > 0) throw new CnlabError('command-failed', `lab ${labId}: ${failed.length} CNI attachments failed CHECK`);
      });
    });

  topology
    .command('status <lab>')
    .description('what the hosts hold of a lab, from their ledgers')
    .action(async (labId: string) => {
      await withLabs(globals(), async (labs) => {
        const { record, hosts } = await labs.status(labId);
        if (globals().json) {
          printJson(io, { labId, applied: record !== null, record, hosts });
          return;
        }
        io.stdout(record ? `lab ${labId}: applied ${record.appliedAt}, ${record.containers.length} containers\n` : `lab ${labId}: no record in this workspace\n`);
        io.stdout(formatTable(['HOST', 'STATE', 'LEDGER', 'NOTE'], hosts.map((h) => [h.host, h.state, String(h.ledgerEntries), h.error ?? (h.state === 'crashed' ? 'run `cnlab sweep`' : '')])));
      });
    });

  topology
    .command('teardown <lab>')
    .description('remove a lab from its hosts using their ledgers (works without the topology file)')
    .action(async (labId: string) => {
      await withLabs(globals(), async (labs) => {
        const result = await labs.teardown(labId);
        const unclean = result.filter((host) => host.error || host.leftovers.length > 0);
        if (globals().json) printJson(io, { labId, hosts: result });
        else for (const host of result) io.stdout(`[${host.host}] ${host.error ? `error: ${host.error}` : `${host.undone} objects removed${host.leftovers.length > 0 ? `, LEFT: ${host.leftovers.map((l) => `${l.kind} ${l.name}`).join(', ')}` : ''}`}\n`);
        if (unclean.length > 0) throw new CnlabError('command-failed', `lab ${labId}: teardown was not clean on ${unclean.map((h) => h.host).join(', ')}: run \`cnlab sweep\``);
      });
    });

  program
    .command('sweep')
    .description('find and remove leftovers of crashed runs (tagged by cnlab) on hosts, and what killed cnlab processes of this workspace left')
    .option('--host <name>', 'one host')
    .option('--all', 'every inventory host')
    .option('--dry-run', 'only list what would be removed')
    .action(async (options: { host?: string; all?: boolean; dryRun?: boolean }) => {
      if (!options.host && !options.all) throw new CnlabError('usage', 'sweep: give --host NAME or --all');
      await withLabs(globals(), async (labs) => {
        await sweepHosts(labs, options.all ? [] : [options.host as string], options.dryRun === true, io, globals().json === true);
      });
    });

  program
    .command('exec <lab> <container> [command...]')
    .description('run a command inside a container of an applied lab: cnlab exec LAB C -- CMD ...')
    .action(async (labId: string, container: string, command: string[]) => {
      await withLabs(globals(), async (labs) => {
        const result = await labs.exec(labId, container, command, { stdout: (line) => io.stdout(`${line}\n`), stderr: (line) => io.stderr(`${line}\n`) });
        if (result.code !== 0) throw new CnlabError('command-failed', `command exited with code ${String(result.code ?? result.signal)}`);
      });
    });
}

/**
 * The hosts' sweep (crashed applies, tagged objects no ledger lists), then what killed cnlab processes of this
 * workspace left (labs they applied or ran, even where the apply got to the end, and temp files). Per host,
 * the labs of both are one list; what was cleared in the workspace follows (on stderr with --json, so stdout
 * stays the per-host list).
 */
async function sweepHosts(labs: LabService, hostNames: string[], dryRun: boolean, io: CliIo, json: boolean): Promise<void> {
  const result = await labs.sweepHosts(hostNames, dryRun);
  const orphans = await labs.sweepOrphanedWork(hostNames, dryRun);
  for (const { labs: touched } of orphans.work) {
    for (const { labId, hosts } of touched) {
      for (const host of hosts) {
        const entry = result.get(host);
        if (entry instanceof CnlabError) continue;
        const list = entry ?? [];
        if (!list.some((item) => item.kind === 'lab' && item.name === labId)) list.push({ kind: 'lab', name: labId });
        result.set(host, list);
      }
    }
  }
  const errors = [...result].filter(([, entry]) => entry instanceof CnlabError);
  if (json) printJson(io, [...result].map(([host, entry]) => (entry instanceof CnlabError ? { host, error: entry.message } : { host, [dryRun ? 'found' : 'removed']: entry })));
  else {
    for (const [host, entry] of result) {
      if (entry instanceof CnlabError) io.stderr(`cnlab: ${entry.message}\n`);
      else io.stdout(`[${host}] ${entry.length === 0 ? 'nothing to sweep' : `${dryRun ? 'would remove' : 'removed'}: ${entry.map((l) => `${l.kind} ${l.name}`).join(', ')}`}\n`);
    }
  }
  const say = json ? io.stderr : io.stdout;
  for (const { work, error } of orphans.work) {
    const what = work.kind === 'run' ? `run ${work.id}` : `${work.kind === 'apply' ? 'apply' : 'teardown'} of lab ${work.id}`;
    if (error) io.stderr(`cnlab: ${what}, left by cnlab process ${work.pid}: ${error}\n`);
    else say(`[workspace] ${dryRun ? 'would clear' : 'cleared'} ${what}, left by cnlab process ${work.pid}${work.kind === 'run' ? `; finish the run with \`cnlab runs resume ${work.id}\`` : ''}\n`);
  }
  if (orphans.tempFiles.length > 0) say(`[workspace] ${dryRun ? 'would remove' : 'removed'} ${orphans.tempFiles.length} temp file${orphans.tempFiles.length === 1 ? '' : 's'} of unfinished writes: ${orphans.tempFiles.join(', ')}\n`);
  const failedWork = orphans.work.filter((item) => item.error);
  if (errors.length > 0 || failedWork.length > 0) {
    const where = [...errors.map(([host]) => host), ...failedWork.map(({ work }) => `${work.kind} ${work.id}`)];
    throw new CnlabError('command-failed', `sweep failed on ${where.join(', ')}: fix what the lines above say and run it again`);
  }
}
