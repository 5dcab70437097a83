// Renders one host's plan into one sh script, sent in one round trip: ledger entries are appended
// before each batch runs (write-ahead), ip commands go through `ip -batch`, and progress comes back
// as marker lines. A failure stops the script; the caller rolls back from the ledger.
import { randomBytes } from 'node:crypto';
import { quoteShellArg, shellCommand } from '../shell/quote';
import type { LabNames } from './naming';
import type { HostPlan, LedgerEntry, PlanStep, StepCommand } from './plan';

type BatchCommand = Extract<StepCommand, { kind: 'ip-batch' | 'tc-batch' }>;
type FirstReplyCommand = Extract<StepCommand, { kind: 'first-reply' }>;

/** First-reply measurement: at most this many pings of `ping -c 1 -W 1`, and no new try after this long. */
export const FIRST_REPLY_TRIES = 100;
export const FIRST_REPLY_BOUND_MS = 5000;
/** The marker word after a first-reply step's duration when no reply came within the bound. */
export const NO_REPLY = 'no-reply';

export const MARK_OK = '@@cnlab-ok';
/** Timed applies say which clock timed them (`@@cnlab-clock monotonic|realtime`) and, at the end, `realtime stepped` when it stepped. */
export const MARK_CLOCK = '@@cnlab-clock';
export const MARK_FAIL = '@@cnlab-fail';
export const MARK_ERR = '@@cnlab-err';

export interface ApplyScriptOptions {
  fingerprint: string;
  /** Fault injection for rollback tests: the script fails right after this step's commands. */
  failAfterStep?: string;
  /** Time every step on the host with its monotonic clock (see clockText); costs ~30 µs per step. */
  timings: boolean;
}

/** A unit the script runs at once: one ip or tc -batch, one shell command or one measurement, with the steps it serves. */
interface Chunk {
  command: StepCommand;
  /** For each line of an ip batch, the step it belongs to (ip reports failures by line number). */
  lineSteps: string[];
  steps: PlanStep[];
}

/**
 * Untimed applies run as few processes as possible: every host-namespace `ip` line of the plan goes
 * into one batch (in plan order), then one batch per container namespace, then the `tc` lines the
 * same way (host, then per namespace), then the shell commands in plan order. That keeps every
 * dependency of the plan: namespace, bridge and veth lines all live in the host batch, a namespace's
 * own lines only need what the host batch made, qdiscs only need the links, and shell steps
 * (forwarding, NAT rules, gratuitous ARP) come after the links they use. Measurements (first-reply)
 * belong to timed applies and are left out.
 */
function mergedChunks(steps: readonly PlanStep[]): Chunk[] {
  const batches = new Map<string, Chunk & { command: BatchCommand }>();
  const shells: Chunk[] = [];
  for (const step of steps) {
    for (const command of step.run) {
      if (command.kind === 'first-reply') continue;
      if (command.kind === 'shell') {
        shells.push({ command, lineSteps: [step.id], steps: [step] });
        continue;
      }
      const key = `${command.kind}\0${command.netns ?? ''}`;
      let chunk = batches.get(key);
      if (!chunk) {
        chunk = { command: { kind: command.kind, netns: command.netns, lines: [] }, lineSteps: [], steps: [] };
        batches.set(key, chunk);
      }
      chunk.command.lines.push(...command.lines);
      chunk.lineSteps.push(...command.lines.map(() => step.id));
      if (!chunk.steps.includes(step)) chunk.steps.push(step);
    }
  }
  const ordered = (kind: BatchCommand['kind']): Chunk[] => {
    const of = [...batches.values()].filter((chunk) => chunk.command.kind === kind);
    return [...of.filter((chunk) => chunk.command.netns === null), ...of.filter((chunk) => chunk.command.netns !== null)];
  };
  return [...ordered('ip-batch'), ...ordered('tc-batch'), ...shells];
}

/** Timed applies keep plan order, one chunk per command, so each step's time is its own. */
function stepChunks(step: PlanStep): Chunk[] {
  return step.run.map((command) => ({ command, lineSteps: 'lines' in command ? command.lines.map(() => step.id) : [step.id], steps: [step] }));
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

/**
 * Pings from inside the namespace until the first reply: `ping -c 1 -W 1` in a loop, at most
 * FIRST_REPLY_TRIES tries and no new try once FIRST_REPLY_BOUND_MS have passed since the step began
 * ($t0). nsenter enters only the network namespace (cheaper than `ip netns exec`, which also sets up
 * a mount namespace). Sets $fr to " no-reply" when none came. Never fails the apply.
 */
function firstReplyText(command: FirstReplyCommand): string[] {
  const ping = shellCommand(['nsenter', `--net=/run/netns/${command.netns}`, 'ping', '-n', '-q', '-c', '1', '-W', '1', command.address]);
  return [
    `fr=${quoteShellArg(` ${NO_REPLY}`)}; tries=0; end=$(( t0 + ${FIRST_REPLY_BOUND_MS * 1_000_000} ))`,
    `while [ "$tries" -lt ${FIRST_REPLY_TRIES} ]; do`,
    `  if ${ping} >/dev/null 2>&1; then fr=; break; fi`,
    // A ping that fails at once (no route yet) would spin: a short pause, where sleep takes fractions.
    '  tries=$((tries + 1)); now; [ "$clk" -lt "$end" ] || break; sleep 0.02 2>/dev/null || :',
    'done',
  ];
}

/**
 * The step clock of timed applies: `now` sets $clk to nanoseconds. Measured on Debian 12 (dash, 2
 * cores), per call: `date +%s%N` ~600-950 µs and CLOCK_REALTIME (a step of NTP or an admin lands
 * in the durations); $(cat /proc/uptime) ~1 ms and only 10 ms resolution; perl's clock_gettime ~8 ms;
 * python ~110 ms; the "now at N nsecs" line of /proc/timer_list read with dash's builtin `read` (no
 * process, no subshell) ~27 µs, and that is ktime_get(), i.e. CLOCK_MONOTONIC in ns. So timer_list it
 * is: monotonic and 30x cheaper than date. Where it is unreadable (no root, or masked to /dev/null as
 * container runtimes do) the script falls back to `date` and guards it with /proc/uptime (monotonic):
 * clockCheckText marks the run "stepped" when the two disagree by more than 20 ms, so callers can
 * discard its samples. Sets s0 (script start) either way.
 */
export function clockText(): string[] {
  return [
    'clock=monotonic; clk=; w1=; w2=',
    '{ read -r w1; read -r w1; read -r w1 w2 clk w3; } 2>/dev/null </proc/timer_list',
    'if [ "$w1 $w2" = "now at" ] && [ -n "$clk" ]; then',
    '  now() { { read -r _; read -r _; read -r _ _ clk _; } </proc/timer_list; }',
    'else',
    '  clock=realtime; now() { clk=$(date +%s%N); }; read -r up0 _ </proc/uptime 2>/dev/null || up0=0.00',
    'fi',
    'now; s0=$clk',
    `printf '%s %s\\n' ${quoteShellArg(MARK_CLOCK)} "$clock"`,
  ];
}

/**
 * The realtime fallback only: compares its elapsed time with /proc/uptime's (centiseconds) and says
 * "stepped" when they disagree by more than 20 ms. Printed at the end, after the clock line of the start.
 */
function clockCheckText(): string[] {
  return [
    'if [ "$clock" = realtime ]; then',
    '  now; read -r up1 _ </proc/uptime 2>/dev/null || up1=$up0',
    // "9705.08" → 970508 centiseconds; the "1" prefix keeps "08" from reading as octal.
    '  d=$(( (clk - s0) / 1000000 - ((${up1%.*} - ${up0%.*}) * 100 + 1${up1#*.} - 1${up0#*.}) * 10 ))',
    `  if [ "$d" -gt 20 ] || [ "$d" -lt -20 ]; then printf '%s realtime stepped\\n' ${quoteShellArg(MARK_CLOCK)}; fi`,
    'fi',
  ];
}

function commandText(command: StepCommand, delimiter: string): string[] {
  // Detached from the script's pipes, so the SSH session ends when the script does, not when they do.
  if (command.kind === 'shell' && command.background) return [`{ ${command.text}\n} </dev/null >/dev/null 2>&1 &`];
  if (command.kind === 'shell') return [`{ ${command.text}\n} 2>"$err"`];
  if (command.kind === 'first-reply') return firstReplyText(command);
  const program = command.kind === 'tc-batch' ? 'tc' : 'ip';
  const batch = command.netns === null ? `${program} -batch -` : shellCommand([program, '-n', command.netns, '-batch', '-']);
  return [`${batch} 2>"$err" <<'${delimiter}'`, ...command.lines, delimiter];
}

/** Measurements and background work never fail the apply; everything else does. */
function canFail(command: StepCommand): boolean {
  return !((command.kind === 'shell' && command.background === true) || command.kind === 'first-reply');
}

/**
 * Refuses to start when a namespace or link it would create already exists: then everything in the
 * ledger was made by this run, and a rollback can never remove someone else's object. Likewise for a
 * device that outlives the lab and gets a qdisc (an underlay NIC): its root qdisc must still be the
 * kernel's default (handle 0:), so cnlab never replaces, and its undo never deletes, anyone's qdisc.
 */
/** Fails the precheck when any of `names` is among what `list` prints (one name a line). */
function takenCheck(names: readonly string[], file: string, list: string, what: string, delimiter: string): string[] {
  if (names.length === 0) return [];
  return [
    `cat > "$lab/${file}" <<'${delimiter}'`,
    ...names,
    delimiter,
    `taken=$({ ${list}; } | grep -Fx -f "$lab/${file}" | head -n 5 | tr '\n' ' ')`,
    `if [ -n "$taken" ]; then printf '${what} on this host, not created by this apply: %s\n' "$taken" > "$err"; fail precheck; fi`,
  ];
}

function precheck(plan: HostPlan, delimiter: string): string[] {
  const lines: string[] = [];
  const created = (kinds: readonly LedgerEntry['kind'][]): string[] => plan.steps.flatMap((step) => step.creates.filter((entry) => kinds.includes(entry.kind)).map((entry) => entry.name));
  lines.push(
    ...takenCheck(created(['netns', 'link']), 'planned-names', `ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'; ip netns list 2>/dev/null | awk '{print $1}'`, 'already exist', delimiter),
    ...takenCheck(created(['docker-container', 'docker-network']), 'planned-docker-names', `docker ps -a --format '{{.Names}}' 2>/dev/null; docker network ls --format '{{.Name}}' 2>/dev/null`, 'Docker objects already exist', delimiter),
  );
  const devices = plan.steps.flatMap((step) => step.creates.filter((entry) => entry.kind === 'qdisc').map((entry) => entry.name));
  for (const device of devices) {
    const dev = quoteShellArg(device);
    lines.push(
      `q=$(tc qdisc show dev ${dev} root 2>/dev/null | grep -v '^qdisc [^ ]* 0: ' | head -n 1)`,
      `if [ -n "$q" ]; then printf '%s already has a root qdisc this apply did not set (%s): cnlab does not replace it\n' ${dev} "$q" > "$err"; fail precheck; fi`,
    );
  }
  return lines;
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
    // The pid and its start time (field 22 of its stat) name this very process: a teardown stops it
    // (ledger-scripts.ts stopApplyFunction) rather than undo beside it, and never hits a reused pid.
    `printf 'applying %s %s %s\\n' ${quoteShellArg(options.fingerprint)} "$$" "$(sed 's/.*) //' /proc/$$/stat 2>/dev/null | cut -d ' ' -f 20)" > "$lab/state"`,
    `fail() { printf '%s %s\\n' ${quoteShellArg(MARK_FAIL)} "$1"; sed 's/^/${MARK_ERR} /' "$err"; exit 1; }`,
  ];
  if (options.timings) lines.push(...clockText());
  lines.push(...precheck(plan, delimiter));
  const all: Chunk[] = [];
  const steps = options.failAfterStep ? withInjectedFault(plan.steps, options.failAfterStep) : plan.steps;
  for (const group of chunksOf(steps, !options.timings)) {
    const steps = [...new Set(group.flatMap((chunk) => chunk.steps))];
    lines.push(...ledgerWrites(steps.flatMap((step) => step.creates), delimiter));
    if (options.timings) lines.push('now; t0=$clk');
    for (const chunk of group) {
      const index = all.push(chunk) - 1;
      const text = commandText(chunk.command, delimiter);
      // The `|| fail` belongs on the command line, before a heredoc body.
      if (canFail(chunk.command)) text[0] = `${text[0]} || fail ${index}`;
      lines.push(...text);
    }
    if (options.timings) lines.push('now');
    for (const step of steps) {
      // A first-reply step appends " no-reply" ($fr) when no reply came; "+N" is when the step began,
      // in ns since the script began (same clock), so a peer's time can be related to it.
      const measured = step.run.some((command) => command.kind === 'first-reply');
      lines.push(
        options.timings
          ? `printf '%s %s %s${measured ? '%s' : ''} +%s\\n' ${quoteShellArg(MARK_OK)} ${quoteShellArg(step.id)} "$(( clk - t0 ))"${measured ? ' "$fr"' : ''} "$(( t0 - s0 ))"`
          : `printf '%s %s\\n' ${quoteShellArg(MARK_OK)} ${quoteShellArg(step.id)}`,
      );
    }
  }
  if (options.timings) lines.push(...clockCheckText());
  lines.push(`printf 'applied %s\\n' ${quoteShellArg(options.fingerprint)} > "$lab/state"`, 'rm -f "$err"', 'exit 0');
  return { script: `${lines.join('\n')}\n`, chunks: all };
}

export interface ApplyProgress {
  stepId: string;
  /** Time on the host, when timed. */
  durationMs: number | null;
  /** When the step began, ms after the host's script began (same host clock); timed applies only. */
  startMs?: number;
  /** A first-reply step that got no reply within its bound: durationMs is how long it tried. */
  noReply?: true;
}

export function parseOkLine(line: string): ApplyProgress | null {
  if (!line.startsWith(`${MARK_OK} `)) return null;
  const [, stepId = '', nanos, ...rest] = line.split(' ');
  const start = rest.find((word) => word.startsWith('+'));
  return {
    stepId,
    durationMs: nanos ? Number(nanos) / 1e6 : null,
    ...(start ? { startMs: Number(start.slice(1)) / 1e6 } : {}),
    ...(rest.includes(NO_REPLY) ? { noReply: true as const } : {}),
  };
}

/** The clock line of a timed apply: which clock timed it, and whether realtime was seen to step. */
export function parseClockLine(line: string): { clock: 'monotonic' | 'realtime'; stepped: boolean } | null {
  if (!line.startsWith(`${MARK_CLOCK} `)) return null;
  const [, clock, stepped] = line.split(' ');
  if (clock !== 'monotonic' && clock !== 'realtime') return null;
  return { clock, stepped: stepped === 'stepped' };
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
