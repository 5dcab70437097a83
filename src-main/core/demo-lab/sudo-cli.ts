// Runs `cnlab demo-lab …` as root through passwordless sudo, for a console that is not root itself.
// The same Electron or Node binary runs the CLI bundle (ELECTRON_RUN_AS_NODE=1 makes Electron behave as node).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CnlabError, type ErrorCode } from '../errors';

export interface SudoCliOptions {
  /** The built CLI bundle (out/main/cli.js); found next to the running program when omitted. */
  cliBundle?: string;
  /** Default: process.execPath. */
  runtime?: string;
}

/** Loads the bundle and runs its exported runCli with the remaining arguments (the bundle has no main of its own). */
const RUN_BUNDLE = 'const [b, ...a] = process.argv.slice(1); require(b).runCli(a).then((c) => { process.exitCode = c; });';

/** Where the CLI bundle sits next to the Electron main bundle, the `cnlab` launcher or the project folder. */
export function findCliBundle(): string | undefined {
  const script = process.argv[1] ?? '';
  // In the bundled Electron main (CommonJS) the entry is out/main/index.js, right beside cli.js.
  const entry = typeof require === 'undefined' ? undefined : require.main?.filename;
  const candidates = [
    ...(entry ? [join(dirname(entry), 'cli.js')] : []),
    join(dirname(script), 'cli.js'),
    join(script, 'out', 'main', 'cli.js'),
    join(dirname(script), '..', '..', 'out', 'main', 'cli.js'),
    ...(process.resourcesPath ? [join(process.resourcesPath, 'app.asar', 'out', 'main', 'cli.js')] : []),
    join(process.cwd(), 'out', 'main', 'cli.js'),
  ];
  return candidates.find((path) => existsSync(path));
}

export function sudoCliArgv(args: readonly string[], options: SudoCliOptions = {}): string[] {
  const bundle = options.cliBundle ?? findCliBundle();
  if (!bundle) throw new CnlabError('not-found', 'the demo lab needs the built cnlab CLI to run through sudo: run `npm run build` in the cnlab folder');
  return ['-n', '--preserve-env=ELECTRON_RUN_AS_NODE', options.runtime ?? process.execPath, '-e', RUN_BUNDLE, bundle, ...args];
}

const PROGRESS_LINE = /^progress (\d+)\/(\d+) (.*)$/;

/** Turns the CLI's stderr progress lines (`progress 2/7 message`) into onProgress calls. */
export function progressReader(onProgress?: (done: number, total: number, message: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = PROGRESS_LINE.exec(line);
      if (match) onProgress?.(Number(match[1]), Number(match[2]), match[3] ?? '');
    }
  };
}

/** The CLI's `--json` answer: the value itself, or `{ ok: false, error }` turned back into a CnlabError. */
export function parseCliAnswer<T>(stdout: string, stderr: string, code: number): T {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    const detail = stderr.trim().split('\n').pop() ?? '';
    throw new CnlabError('command-failed', `the demo lab through sudo failed (exit ${code})${detail ? `: ${detail}` : ''}`);
  }
  const failure = value as { ok?: unknown; error?: { code?: string; message?: string } };
  if (failure.ok === false) throw new CnlabError((failure.error?.code ?? 'command-failed') as ErrorCode, failure.error?.message ?? 'the demo lab through sudo failed');
  return value as T;
}

export interface SudoRun {
  (args: readonly string[], options: { signal?: AbortSignal; onProgress?: (done: number, total: number, message: string) => void }): Promise<unknown>;
}

/** Runs the CLI as root with sudo -n and returns its parsed `--json` answer. */
export function sudoCliRunner(options: SudoCliOptions = {}): SudoRun {
  return (args, { signal, onProgress }) =>
    new Promise((resolve, reject) => {
      const child = spawn('sudo', sudoCliArgv(args, options), {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: string[] = [];
      const stderr: string[] = [];
      const readProgress = progressReader(onProgress);
      // sudo relays SIGTERM to the CLI, which stops its start at the next step and removes what it made.
      const abort = (): void => void child.kill('SIGTERM');
      signal?.addEventListener('abort', abort, { once: true });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr.push(chunk);
        readProgress(chunk);
      });
      child.on('error', (error) => reject(new CnlabError('tool-missing', `cannot run sudo for the demo lab: ${error.message}`)));
      child.on('close', (code) => {
        signal?.removeEventListener('abort', abort);
        if (signal?.aborted) return reject(new CnlabError('cancelled', 'the demo lab start was cancelled'));
        try {
          resolve(parseCliAnswer(stdout.join(''), stderr.join(''), code ?? 1));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
}
