// Starts the built console in browser mode (`cnlab serve`) as a user would, with its own HOME, config
// folder and workspace, reads the URL with the token it prints, and stops it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, CLI_BIN } from '../../support/run-cli';

export interface ConsoleServer {
  /** `http://127.0.0.1:PORT/#token=…` */
  url: string;
  origin: string;
  token: string;
  scratch: string;
  workspaceDir: string;
  output(): string;
  stop(): Promise<void>;
}

export interface ConsoleServerOptions {
  /** An existing workspace to open (default: a new empty one in the scratch folder). */
  workspaceDir?: string;
  /** The console's config folder (cnlab's known_hosts); default: in the scratch folder. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startConsoleServer(options: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  assertCliBuilt();
  const scratch = mkdtempSync(join(tmpdir(), 'cnlab-e2e-'));
  const workspaceDir = options.workspaceDir ?? join(scratch, 'workspace');
  const env = { PATH: process.env.PATH, HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: options.configDir ?? join(scratch, 'config'), ...options.env };
  const child: ChildProcess = spawn(process.execPath, [CLI_BIN, '--workspace', workspaceDir, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cnlab serve printed no URL within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /cnlab console: (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`cnlab serve exited with ${String(code)}:\n${output}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.hash.replace('#token=', ''),
    scratch,
    workspaceDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
