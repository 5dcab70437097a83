// What a cnlab start says about work an earlier process of the workspace was killed in (an apply, a
// teardown, a run: see core/workspace/pending-work.ts) and temp files of its unfinished writes: one line
// each on stderr, naming what may be left where and the fix, `cnlab sweep --all`. Reading it costs a listing
// of pending/ and of the few folders atomic writes go to (runs/ among them: one readdir, no stat per run), so
// every command can afford it; `cnlab sweep` itself says what it cleared instead.
import type { Command } from 'commander';
import { homedir } from 'node:os';
import { RunStore } from '../core/experiment/run-store';
import { orphanedTempFiles, orphanedWork, type PendingWork } from '../core/workspace/pending-work';
import { resolveWorkspaceDir } from '../core/workspace/paths';
import type { GlobalOptions } from './cli-context';
import type { CliIo } from './output';

/** At most this many lines; the rest are counted. */
const MAX_LINES = 5;

const list = (names: readonly string[]): string => (names.length > 0 ? names.join(', ') : 'its hosts');

/**
 * One sentence about an orphaned piece of work: what it was, where leftovers may be, the fix. `runState`: what
 * the run's record says (a process killed after its run had ended, before it cleared its marker, left a
 * finished run).
 */
export function describeOrphanedWork(work: PendingWork, runState: string | null = 'running'): string {
  const who = `cnlab process ${work.pid}${work.startedAt ? ` (started ${work.startedAt})` : ''}`;
  if (work.kind === 'run') {
    const labs = work.labs.length > 0 ? `its labs (${work.labs.join(', ')}) and load generators` : 'its load generators';
    if (runState !== null && runState !== 'running') return `run ${work.id} is ${runState}, but its ${who} ended before it had cleaned up, so ${list(work.hosts)} may still hold ${labs} — remove them with \`cnlab sweep --all\``;
    return `run ${work.id} was interrupted: its ${who} ended mid-run, so ${list(work.hosts)} may still hold ${labs} — remove them with \`cnlab sweep --all\`, then finish the run with \`cnlab runs resume ${work.id}\``;
  }
  const doing = work.kind === 'apply' ? 'applying' : 'tearing down';
  return `${who} ended while ${doing} lab ${work.id}, so ${list(work.hosts)} may still hold part of it — remove it with \`cnlab sweep --all\``;
}

export function describeTempFiles(files: readonly string[]): string {
  const shown = files.slice(0, 2).join(', ');
  return `${files.length} temp file${files.length === 1 ? '' : 's'} of writes a killed cnlab did not finish lie in the workspace (${shown}${files.length > 2 ? ', …' : ''}): nothing reads them — \`cnlab sweep --all\` removes them`;
}

/** The state run.json holds, or null when it cannot be read. */
async function storedRunState(workspaceDir: string, runId: string): Promise<string | null> {
  try {
    return (await new RunStore(workspaceDir).folderOf(runId).readRecord()).state;
  } catch {
    return null;
  }
}

/** The notice lines for a workspace (none when nothing was left). */
export async function leftoverNotice(workspaceDir: string): Promise<string[]> {
  const work = await orphanedWork(workspaceDir);
  const temp = await orphanedTempFiles(workspaceDir, work.filter((item) => item.kind === 'run').map((item) => item.id));
  const lines = await Promise.all(work.map(async (item) => describeOrphanedWork(item, item.kind === 'run' ? await storedRunState(workspaceDir, item.id) : null)));
  if (temp.length > 0) lines.push(describeTempFiles(temp));
  if (lines.length > MAX_LINES) return [...lines.slice(0, MAX_LINES - 1), `and ${lines.length - MAX_LINES + 1} more: \`cnlab sweep --all --dry-run\` lists them`];
  return lines;
}

/** Commands that need no notice: sweep is the fix, and these do not work in the workspace. */
function skipsNotice(command: Command): boolean {
  const path = [command.parent?.name() === 'cnlab' ? '' : command.parent?.name(), command.name()].filter(Boolean).join(' ');
  return path === 'sweep' || path === 'workspace new' || path === 'workspace recent';
}

/** Prints the notice before a command's action runs (a commander preAction hook). */
export function registerLeftoverNotice(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  program.hook('preAction', async (_program, command) => {
    if (skipsNotice(command)) return;
    const workspaceDir = resolveWorkspaceDir(globals().workspace, { env: process.env, homeDir: process.env.HOME || homedir() });
    // A notice must never stop the command the user asked for.
    const lines = await leftoverNotice(workspaceDir).catch(() => [] as string[]);
    for (const line of lines) io.stderr(`cnlab: ${line}\n`);
  });
}
