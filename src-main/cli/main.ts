// The `cnlab` command line: one program, global --workspace and --json, subcommands per area.
// Commander's own usage errors become exit code 2; cnlab errors print one line and exit 1.
import { Command, CommanderError } from 'commander';
import { CnlabError } from '../core/errors';
import { registerHostsCommands } from './hosts-commands';
import { registerTopologyCommands } from './topology-commands';
import { registerExperimentCommands } from './experiment-commands';
import { registerStudyCommands } from './study-commands';
import { registerServeCommand } from './serve-command';
import { registerDemoLabCommands } from './demo-lab-commands';
import { registerBundleCommands } from './bundle-commands';
import { registerWorkspaceCommands } from './workspace-commands';
import { registerLeftoverNotice } from './leftover-notice';
import { EXIT_USAGE, processIo, reportError, terminalSafe, type CliIo } from './output';
import type { GlobalOptions } from './cli-context';
import { CNLAB_VERSION } from '../core/version';

export function buildProgram(io: CliIo): Command {
  const program = new Command('cnlab')
    .description('container-network lab console: hosts, topologies, experiments')
    .version(CNLAB_VERSION)
    .option('--workspace <dir>', 'workspace folder (default: $CNLAB_WORKSPACE or ~/.local/share/cnlab/default.cnlab)')
    .option('--json', 'print machine-readable JSON only on stdout')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerHostsCommands(program, io, globals);
  registerTopologyCommands(program, io, globals);
  registerExperimentCommands(program, io, globals);
  registerStudyCommands(program, io, globals);
  registerServeCommand(program, io, globals);
  registerDemoLabCommands(program, io, globals);
  registerBundleCommands(program, io, globals);
  registerWorkspaceCommands(program, io, globals);
  registerLeftoverNotice(program, io, globals);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    for (const sub of command.commands) sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  }
  return program;
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; anything else commander rejects is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const json = program.opts<GlobalOptions>().json === true;
    if (error instanceof CnlabError && error.code === 'usage') {
      io.stderr(`cnlab: ${terminalSafe(error.message)}\n`);
      return EXIT_USAGE;
    }
    return reportError(io, error, json);
  }
}
