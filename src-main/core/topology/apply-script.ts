// Renders one host's plan into one sh script, sent in one round trip: ledger entries are appended
// before each batch runs (write-ahead), ip commands go through `ip -batch`, and progress comes back
// as marker lines. A failure stops the script; the caller rolls back from the ledger.
import { randomBytes } from 'node:crypto';
import { quoteShellArg, sh } from '../shell/quote';
import type { LabNames } from './naming';
import type { HostPlan, LedgerEntry, PlanStep, StepCommand } from './plan';

export const MARK_OK = '@@cnlab-ok';
export const MARK_FAIL = '@@cnlab-fail';
export const MARK_ERR = '@@cnlab-err';

export interface ApplyScriptOptions {
  fingerprint: string;
  /** Fault injection for rollback tests: the script fails right after this step's commands. */
  failAfterStep?: string;
  /** Time every step on the host (monotonic enough for step breakdowns; costs one `date` per step). */
  timings: boolean;
}

/** A unit the script runs at once: one ip -batch, or one shell command, with the steps it serves. */
interface Chunk {
  command: StepCommand;
  /** For each line of an ip batch, the step it belongs to (ip reports failures by line number). */
  lineSteps: string[];
  steps: PlanStep[];
}

/**
 * Untimed applies run as few processes as possible: every host-namespace `ip` line of the plan goes
 * into one batch (in plan order), then one batch per container namespace, then the shell commands in
 * plan order. That keeps every dependency of the plan: namespace, bridge and veth lines all live in
 * the host batch, a namespace's own lines only need what the host batch made, and shell steps
 * (forwarding, NAT rules, gratuitous ARP) come after the links they use.
 */
function mergedChunks(steps: readonly PlanStep[]): Chunk[] {
  const batches = new Map<string, Chunk>();
  const shells: Chunk[] = [];
  for (const step of steps) {
    for (const command of step.run) {
      if (command.kind === 'shell') {
        shells.push({ command, lineSteps: [step.id], steps: [step] });
        continue;
      }
      const key = command.netns ?? '';
      let chunk = batches.get(key);
      if (!chunk) {
        chunk = { command: { kind: 'ip-batch', netns: command.netns, lines: [] }, lineSteps: [], steps: [] };
        batches.set(key, chunk);
      }
      (chunk.command as { lines: string[] }).lines.push(...command.lines);
      chunk.lineSteps.push(...command.lines.map(() => step.id));
      if (!chunk.steps.includes(step)) chunk.steps.push(step);
    }
  }
  const hostBatch = batches.get('');
  batches.delete('');
  return [...(hostBatch ? [hostBatch] : []), ...batches.values(), ...shells];
}

/** Timed applies keep plan order, one chunk per command, so each step's time is its own. */
function stepChunks(step: PlanStep): Chunk[] {
  return step.run.map((command) => ({ command, lineSteps: command.kind === 'ip-batch' ? command.lines.map(() => step.id) : [step.id], steps: [step] }));
}

function chunksOf(steps: readonly PlanStep[], merge: boolean): Chunk[][] {
  if (merge) return [mergedChunks(steps)].filter((group) => group.length > 0);
  return steps.map(stepChunks).filter((group) => group.length > 0);
}

function ledgerLine(entry: LedgerEntry): string {
  if (/[\t\n]/.test(entry.undo) || /[\t\n]/.test(entry.name)) throw new Error(`ledger entry ${entry.name} has a tab or newline`);
  return `${entry.kind}\t${entry.name}\t${entry.undo}`;
}

/** A sysctl's undo restores the value found on the host, so it is written by the script itself. */
function ledgerWrites(entries: readonly LedgerEntry[], delimiter: string): string[] {
  const lines: string[] = [];
  const plain = entries.filter((entry) => entry.kind !== 'sysctl');
  if (plain.length > 0) lines.push(`cat >> "$ledger" <<'${delimiter}'`, ...plain.map(ledgerLine), delimiter);
  for (const entry of entries.filter((e) => e.kind === 'sysctl')) {
    const key = quoteShellArg(entry.name);
    lines.push(
      `grep -q ${quoteShellArg(`^sysctl\t${entry.name}\t`)} "$ledger" 2>/dev/null || printf 'sysctl\\t%s\\tsysctl -qw %s=%s\\n' ${key} ${key} "$(sysctl -n ${key})" >> "$ledger"`,
    );
  }
  return lines;
}

function commandText(command: StepCommand, delimiter: string): string[] {
  // Detached from the script's pipes, so the SSH session ends when the script does, not when they do.
  if (command.kind === 'shell' && command.background) return [`{ ${command.text}\n} </dev/null >/dev/null 2>&1 &`];
  if (command.kind === 'shell') return [`{ ${command.text}\n} 2>"$err"`];
  const ip = command.netns === null ? 'ip -batch -' : sh`ip -n ${command.netns} -batch -`;
  return [`${ip} 2>"$err" <<'${delimiter}'`, ...command.lines, delimiter];
}

/**
 * Refuses to start when a namespace or link it would create already exists: then everything in the
 * ledger was made by this run, and a rollback can never remove someone else's object.
 */
function precheck(plan: HostPlan, delimiter: string): string[] {
  const names = plan.steps.flatMap((step) => step.creates.filter((entry) => entry.kind === 'netns' || entry.kind === 'link').map((entry) => entry.name));
  if (names.length === 0) return [];
  return [
    `cat > "$lab/planned-names" <<'${delimiter}'`,
    ...names,
    delimiter,
    `taken=$({ ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'; ip netns list 2>/dev/null | awk '{print $1}'; } | grep -Fx -f "$lab/planned-names" | head -n 5 | tr '\n' ' ')`,
    `if [ -n "$taken" ]; then printf 'already exist on this host, not created by this apply: %s\n' "$taken" > "$err"; fail precheck; fi`,
  ];
}

function withInjectedFault(steps: readonly PlanStep[], afterStep: string): PlanStep[] {
  return steps.map((step) =>
    step.id === afterStep ? { ...step, run: [...step.run, { kind: 'shell', text: `echo 'injected fault after step ${afterStep}' >&2; false` }] } : step,
  );
}

/** The apply script and, for each chunk index it may report failing, what it ran (to name the step). */
export function renderApplyScript(names: LabNames, plan: HostPlan, options: ApplyScriptOptions): { script: string; chunks: Chunk[] } {
  const delimiter = `CNLAB_${randomBytes(6).toString('hex')}`;
  const lines: string[] = [
    `# cnlab apply: lab ${names.labId}, host ${plan.host}`,
    'set -u',
    'umask 077',
    `lab=${quoteShellArg(names.ledgerDir)}`,
    'ledger="$lab/ledger"; err="$lab/step.err"',
    `mkdir -p "$lab" || { printf '%s setup\\n' ${quoteShellArg(MARK_FAIL)}; exit 1; }`,
    `printf 'applying %s %s\\n' ${quoteShellArg(options.fingerprint)} "$$" > "$lab/state"`,
    `fail() { printf '%s %s\\n' ${quoteShellArg(MARK_FAIL)} "$1"; sed 's/^/${MARK_ERR} /' "$err"; exit 1; }`,
    'now() { date +%s%N; }',
  ];
  lines.push(...precheck(plan, delimiter));
  const all: Chunk[] = [];
  const steps = options.failAfterStep ? withInjectedFault(plan.steps, options.failAfterStep) : plan.steps;
  for (const group of chunksOf(steps, !options.timings)) {
    const steps = [...new Set(group.flatMap((chunk) => chunk.steps))];
    lines.push(...ledgerWrites(steps.flatMap((step) => step.creates), delimiter));
    if (options.timings) lines.push('t0=$(now)');
    for (const chunk of group) {
      const index = all.push(chunk) - 1;
      const text = commandText(chunk.command, delimiter);
      // The `|| fail` belongs on the command line, before a heredoc body; background work never fails the apply.
      if (!(chunk.command.kind === 'shell' && chunk.command.background)) text[0] = `${text[0]} || fail ${index}`;
      lines.push(...text);
    }
    for (const step of steps) {
      lines.push(options.timings ? `printf '%s %s %s\\n' ${quoteShellArg(MARK_OK)} ${quoteShellArg(step.id)} "$(( $(now) - t0 ))"` : `printf '%s %s\\n' ${quoteShellArg(MARK_OK)} ${quoteShellArg(step.id)}`);
    }
  }
  lines.push(`printf 'applied %s\\n' ${quoteShellArg(options.fingerprint)} > "$lab/state"`, 'rm -f "$err"', 'exit 0');
  return { script: `${lines.join('\n')}\n`, chunks: all };
}

export interface ApplyProgress {
  stepId: string;
  /** Time on the host, when timed. */
  durationMs: number | null;
}

export function parseOkLine(line: string): ApplyProgress | null {
  if (!line.startsWith(`${MARK_OK} `)) return null;
  const [, stepId = '', nanos] = line.split(' ');
  return { stepId, durationMs: nanos ? Number(nanos) / 1e6 : null };
}

export interface ApplyFailure {
  /** The step that failed (best effort: ip names the batch line, the shell the command). */
  stepId: string | null;
  stderr: string;
}

/** Reads the failure markers of an apply script's output. */
export function parseFailure(stdout: string, chunks: readonly Chunk[]): ApplyFailure | null {
  const lines = stdout.split('\n');
  const failLine = lines.find((line) => line.startsWith(`${MARK_FAIL} `));
  if (!failLine) return null;
  const stderr = lines
    .filter((line) => line.startsWith(`${MARK_ERR} `))
    .map((line) => line.slice(MARK_ERR.length + 1))
    .join('\n');
  const where = failLine.slice(MARK_FAIL.length + 1);
  if (where === 'precheck') return { stepId: 'precheck', stderr };
  const index = Number(where);
  const chunk = Number.isInteger(index) ? chunks[index] : undefined;
  if (!chunk) return { stepId: null, stderr };
  const batchLine = /Command failed -:(\d+)/.exec(stderr);
  const stepId = batchLine ? (chunk.lineSteps[Number(batchLine[1]) - 1] ?? chunk.lineSteps[0]) : chunk.lineSteps[0];
  return { stepId: stepId ?? null, stderr };
}
