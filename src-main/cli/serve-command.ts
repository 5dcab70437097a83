// `cnlab serve`: the console in a browser. Opens the console backend for the workspace, serves the built
// renderer and the LabApi WebSocket, prints the one URL to open, and runs until SIGINT or SIGTERM.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { openLabConsole } from '../api/lab-console';
import { CnlabError } from '../core/errors';
import { resolveConfigDir, resolveWorkspaceDir } from '../core/workspace/paths';
import { DEFAULT_LISTEN_ADDRESS, isLoopbackAddress, startBrowserServer } from '../server/browser-server';
import type { GlobalOptions } from './cli-context';
import type { CliIo } from './output';

interface ServeOptions {
  port: string;
  listen: string;
  rendererDir?: string;
}

/** Resolves when the process is asked to stop; injectable so the command can run inside a test. */
export type StopSignal = () => Promise<string>;

const processStopSignal: StopSignal = () =>
  new Promise((resolveSignal) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new CnlabError('usage', `--port ${text} is not a port number: give 1-65535, or 0 for any free port`);
  return port;
}

function parseListen(text: string): string {
  if (text !== 'localhost' && isIP(text) === 0) throw new CnlabError('usage', `--listen ${text} is not an IP address: give e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every network)`);
  return text;
}

/** The CLI bundle is out/main/cli.js and the renderer build out/renderer, so it sits at ../renderer. */
function rendererDirOf(flag: string | undefined): string {
  const dir = flag ? resolve(flag) : resolve(__dirname, '..', 'renderer');
  if (!existsSync(join(dir, 'index.html'))) {
    throw new CnlabError('not-found', `no built console in ${dir} (index.html is missing): run \`npm run build\` first, or point --renderer-dir at a built renderer folder`);
  }
  return dir;
}

export function registerServeCommand(program: Command, io: CliIo, globals: () => GlobalOptions, waitForStop: StopSignal = processStopSignal): void {
  program
    .command('serve')
    .description('serve the console to a web browser (the URL with its access token is printed)')
    .option('--port <n>', 'TCP port (0: any free port)', '0')
    .option('--listen <addr>', 'address to listen on; anything but loopback exposes the console to the network', DEFAULT_LISTEN_ADDRESS)
    .option('--renderer-dir <dir>', 'built renderer folder (default: the one next to this CLI)')
    .action(async (options: ServeOptions) => {
      const port = parsePort(options.port);
      const listen = parseListen(options.listen);
      const rendererDir = rendererDirOf(options.rendererDir);
      const env = process.env;
      const homeDir = env.HOME || homedir();
      const labConsole = await openLabConsole({
        workspaceDir: resolveWorkspaceDir(globals().workspace, { env, homeDir }),
        configDir: resolveConfigDir({ env, homeDir }),
        homeDir,
        env,
        shell: 'browser',
      });
      let server: Awaited<ReturnType<typeof startBrowserServer>>;
      try {
        server = await startBrowserServer({ dispatcher: labConsole.dispatcher, rendererDir, port, listen });
      } catch (error) {
        await labConsole.close();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new CnlabError('io', `port ${port} on ${listen} is already in use: pick another --port, or 0 for any free one`);
        if (code === 'EADDRNOTAVAIL') throw new CnlabError('usage', `--listen ${listen} is not an address of this machine`);
        throw error;
      }
      if (!isLoopbackAddress(listen)) {
        io.stderr(`cnlab: warning: listening on ${listen}: anyone who can reach this port and learns the token can drive root shells on your lab hosts\n`);
      }
      io.stdout(`cnlab console: ${server.url}\n`);
      await waitForStop();
      await server.close();
      await labConsole.close();
    });
}
