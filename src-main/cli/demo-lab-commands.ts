// `cnlab demo-lab up|down|status`: the console's demo lab from a terminal (thin over core's DemoLab).
// A console that is not root runs `up`/`down` through sudo with --owner-uid/--owner-pid and reads the --json answer.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DemoLab, type DemoLabOptions, type DemoLabStarted } from '../core/demo-lab/demo-lab';
import { CnlabError } from '../core/errors';
import { resolveConfigDir } from '../core/workspace/paths';
import type { GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

interface UpOptions {
  hosts?: string;
  ownerUid?: string;
  ownerPid?: string;
}

function positiveInteger(flag: string, text: string | undefined, allowZero = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new CnlabError('usage', `${flag} ${text} is not a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
  return value;
}

function demoLabStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(resolveConfigDir({ env, homeDir: env.HOME || homedir() }), 'demo-lab');
}

function upOptions(options: UpOptions): DemoLabOptions {
  const hostCount = positiveInteger('--hosts', options.hosts);
  const clientUid = positiveInteger('--owner-uid', options.ownerUid, true);
  const ownerPid = positiveInteger('--owner-pid', options.ownerPid);
  return {
    stateDir: demoLabStateDir(),
    ...(hostCount !== undefined ? { hostCount } : {}),
    ...(clientUid !== undefined ? { clientUid, remember: false } : {}),
    // Started for a console (its pid given): swept once that console is gone. Started by a person: stays until down.
    ...(ownerPid !== undefined ? { ownerPid } : { detached: true }),
  };
}

function describe(started: DemoLabStarted): string {
  const rows = started.hosts.map((host) => [host.name, host.kind === 'ssh' ? `${host.address}:${host.port ?? 22}` : 'local']);
  return [
    `demo lab ${started.id} is up (${started.dir})`,
    formatTable(['HOST', 'ADDRESS'], rows).trimEnd(),
    `example topology "${started.topologyName}": open the console and press "Start demo lab", or add these hosts yourself`,
    'stop: cnlab demo-lab down',
  ].join('\n');
}

/** Ctrl-C or SIGTERM (also relayed by sudo) during a start stops it and removes what was made. */
async function withInterrupts<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}

export function registerDemoLabCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const demo = program.command('demo-lab').description('emulated lab hosts on this machine to try cnlab (needs root)');

  demo
    .command('up')
    .description('start the demo lab (3 emulated hosts demo-h1… reachable over SSH); a running one is reused')
    .option('--hosts <n>', 'number of hosts (default 3)')
    .option('--owner-uid <uid>', 'give the client key and known_hosts to this user (a console running without root)')
    .option('--owner-pid <pid>', 'the lab belongs to this process and is swept once it is gone')
    .action(async (options: UpOptions) => {
      const lab = new DemoLab(upOptions(options));
      const started = await withInterrupts((signal) =>
        lab.start({ signal, onProgress: (done, total, message) => io.stderr(`progress ${done}/${total} ${message}\n`) }),
      );
      if (globals().json) printJson(io, started);
      else io.stdout(`${describe(started)}\n`);
    });

  demo
    .command('down')
    .description('stop the demo lab and remove everything it made')
    .option('--testbed <id>', 'the demo lab testbed to remove (what a console started through sudo)')
    .action(async (options: { testbed?: string }) => {
      const lab = new DemoLab({ stateDir: demoLabStateDir() });
      const before = options.testbed ?? (await lab.current())?.id ?? null;
      if (options.testbed) await lab.stopTestbed(options.testbed);
      else await lab.stop();
      if (globals().json) printJson(io, { stopped: before });
      else io.stdout(before ? `demo lab ${before} removed\n` : 'no demo lab was running\n');
    });

  demo
    .command('status')
    .description('whether the demo lab can start here and whether it runs')
    .action(async () => {
      const lab = new DemoLab({ stateDir: demoLabStateDir() });
      const [availability, running] = await Promise.all([lab.availability(), lab.current()]);
      if (globals().json) {
        printJson(io, { ...availability, running });
        return;
      }
      const can = availability.available ? 'can start here' : `cannot start here: ${availability.reason ?? 'unknown reason'}`;
      io.stdout(`demo lab ${can}\n${running ? describe(running) : 'not running'}\n`);
    });
}
