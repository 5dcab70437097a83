// Applies, verifies, tears down and sweeps labs on their hosts: one batched script per host over the
// pooled connection, hosts in parallel, and on any failure a rollback of every host from its ledger.
import { CnlabError, toCnlabError } from '../errors';
import type { HostExecutor } from '../exec/executor';
import { parseClockLine, parseFailure, parseOkLine, renderApplyScript } from './apply-script';
import { parseCniChecks, renderCniCheckScript, type CniCheckOutcome } from './cni-check-script';
import { parseLeftovers, parseStatus, parseSwept, renderStatusScript, renderSweepScript, renderTeardownScript, type LabOnHost, type Leftover } from './ledger-scripts';
import { labNames } from './naming';
import type { LabPlan, PlannedContainer, StepPhase } from './plan';
import { parsePings, renderVerifyScript, type VerifyOutcome } from './verify-script';

export type LabEvent =
  | { type: 'host'; host: string; status: 'tearing-down-previous' | 'applying' | 'applied' | 'failed' | 'rolling-back' | 'rolled-back' }
  | { type: 'step'; host: string; stepId: string; container: string | null; phase: StepPhase | null; durationMs: number | null; noReply?: true; startMs?: number };

export interface ApplyOptions {
  /** Time each step on the host (per-container breakdown); costs a little per step. */
  timings?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: LabEvent) => void;
  /** Per-host script time limit. */
  timeoutMs?: number;
  /** Fault injection for rollback tests: this host's script fails right after this step. */
  failAfter?: { host: string; stepId: string };
  /**
   * Apply hosts in ordered groups instead of all at once: each group's hosts in parallel, the next group
   * only once the previous one is applied (launch time applies a peer host before the measured one).
   * Hosts not named form a last group. Rollback on failure still covers every host.
   */
  hostOrder?: readonly (readonly string[])[];
  /** Called (and awaited) right before a group's scripts start; a throw fails the apply like a host failure. */
  beforeGroup?: (index: number, hosts: readonly string[]) => void | Promise<void>;
  /**
   * With hostOrder: the next group starts as soon as this step is reported done on this host of an
   * earlier group, not when that group has finished; its script goes on in parallel. Launch time needs
   * it where every host's apply ends by waiting for the other hosts' routes (etcd, BGP): the peer's host
   * is applied up to its container, then the measured host starts while the peer's host waits.
   */
  startNextAfter?: { host: string; stepId: string };
}

/**
 * One step's time, measured on its host with its monotonic clock (apply-script.ts clockText: ~30 µs
 * per reading). Per container the phases come in order: netns, links, addresses, link-up, shaping
 * (when shaped), first-reply (the time until the first ping reply).
 */
export interface StepTiming {
  host: string;
  stepId: string;
  container: string | null;
  phase: StepPhase | null;
  durationMs: number;
  /** first-reply only: no reply came within the bound; durationMs is how long it tried. */
  noReply?: true;
  /** When the step began, ms after its host's apply script began (same host clock). */
  startMs?: number;
}

export interface ApplyResult {
  status: 'applied' | 'unchanged';
  /** Wall time of each host's apply script as seen from the console. */
  hostDurationsMs: Record<string, number>;
  timings: StepTiming[];
  /** Timed applies: the clock each host timed with ('monotonic', or 'realtime' where it had to fall back). */
  clocks?: Record<string, 'monotonic' | 'realtime'>;
  /** Timed applies: a host's realtime fallback clock was seen to step: discard these timings. */
  clockStepped?: true;
}

export interface HostTeardown {
  host: string;
  undone: number;
  /** Objects still carrying the lab's tag after the undo (should be none). */
  leftovers: Leftover[];
  error?: string;
}

const PRIVILEGED = { privileged: true } as const;

/** The hosts' plans in apply order: the named groups (unknown names ignored), then every host not named. */
export function hostGroups<T extends { host: string }>(hosts: readonly T[], order: readonly (readonly string[])[] | undefined): T[][] {
  if (!order) return [[...hosts]];
  const named = new Set(order.flat());
  const groups = order.map((names) => hosts.filter((hostPlan) => names.includes(hostPlan.host)));
  groups.push(hosts.filter((hostPlan) => !named.has(hostPlan.host)));
  return groups.filter((group) => group.length > 0);
}

/** Resolves `reached` once the step of startNextAfter has been reported done on its host. */
export function stepGate(step: ApplyOptions['startNextAfter']): { step: ApplyOptions['startNextAfter'] | null; reached: Promise<void>; seen: (host: string, stepId: string) => void } {
  let open = (): void => undefined;
  const reached = new Promise<void>((resolve) => (open = resolve));
  return { step: step ?? null, reached, seen: (host, stepId) => (step && host === step.host && stepId === step.stepId ? open() : undefined) };
}

export class LabRuntime {
  constructor(private readonly executorFor: (host: string) => HostExecutor) {}

  async apply(plan: LabPlan, options: ApplyOptions = {}): Promise<ApplyResult> {
    const names = labNames(plan.labId);
    const hosts = plan.hosts.map((hostPlan) => hostPlan.host);
    const present = await this.labStates(plan.labId, hosts);
    const allApplied = hosts.every((host) => present.get(host)?.state === 'applied' && present.get(host)?.fingerprint === plan.fingerprint);
    if (allApplied) return { status: 'unchanged', hostDurationsMs: {}, timings: [] };
    // A changed topology is re-created cleanly: every host that has any of this lab is torn down first.
    const previous = hosts.filter((host) => present.has(host));
    for (const host of previous) options.onEvent?.({ type: 'host', host, status: 'tearing-down-previous' });
    await Promise.all(previous.map((host) => this.teardownHost(plan.labId, host)));

    const stepIndex = new Map(plan.hosts.flatMap((hostPlan) => hostPlan.steps.map((step) => [`${hostPlan.host}\0${step.id}`, step] as const)));
    const timings: StepTiming[] = [];
    const hostDurationsMs: Record<string, number> = {};
    const abort = new AbortController();
    const cancel = (): void => abort.abort();
    options.signal?.addEventListener('abort', cancel, { once: true });
    const failures: CnlabError[] = [];
    const gate = stepGate(options.startNextAfter);
    const clocks: Record<string, 'monotonic' | 'realtime'> = {};
    let clockStepped = false;

    const applyHost = async (hostPlan: LabPlan['hosts'][number]): Promise<void> => {
      const fault = options.failAfter?.host === hostPlan.host ? { failAfterStep: options.failAfter.stepId } : {};
      const { script, chunks } = renderApplyScript(names, hostPlan, { fingerprint: plan.fingerprint, timings: options.timings === true, ...fault });
      options.onEvent?.({ type: 'host', host: hostPlan.host, status: 'applying' });
      try {
        const result = await this.executorFor(hostPlan.host).runScript(script, {
          ...PRIVILEGED,
          signal: abort.signal,
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          onStdoutLine: (line) => {
            const clock = parseClockLine(line);
            if (clock) {
              clocks[hostPlan.host] = clock.clock;
              clockStepped ||= clock.stepped;
            }
            const ok = parseOkLine(line);
            if (!ok) return;
            gate.seen(hostPlan.host, ok.stepId);
            const step = stepIndex.get(`${hostPlan.host}\0${ok.stepId}`);
            const event = {
              host: hostPlan.host,
              stepId: ok.stepId,
              container: step?.container ?? null,
              phase: step?.phase ?? null,
              durationMs: ok.durationMs,
              ...(ok.noReply ? { noReply: true as const } : {}),
              ...(ok.startMs !== undefined ? { startMs: ok.startMs } : {}),
            };
            if (ok.durationMs !== null) timings.push({ ...event, durationMs: ok.durationMs });
            options.onEvent?.({ type: 'step', ...event });
          },
        });
        hostDurationsMs[hostPlan.host] = result.durationMs;
        if (result.code !== 0) {
          const failure = parseFailure(result.stdout, chunks);
          const step = failure?.stepId ? stepIndex.get(`${hostPlan.host}\0${failure.stepId}`) : undefined;
          const stderr = (failure?.stderr || result.stderr).trim();
          throw new CnlabError(
            'command-failed',
            `host ${hostPlan.host}: step ${failure?.stepId ?? '(unknown)'}${step ? ` (${step.description})` : ''} failed: ${stderr || `exit code ${String(result.code)}`}`,
            { host: hostPlan.host, step: failure?.stepId ?? null, stderr },
          );
        }
        options.onEvent?.({ type: 'host', host: hostPlan.host, status: 'applied' });
      } catch (error) {
        failures.push(toCnlabError(error, `host ${hostPlan.host}`));
        options.onEvent?.({ type: 'host', host: hostPlan.host, status: 'failed' });
        // One host failing stops the others: their work is rolled back anyway.
        abort.abort();
      }
    };
    const groups = hostGroups(plan.hosts, options.hostOrder);
    const running: Promise<void>[] = [];
    for (const [index, group] of groups.entries()) {
      if (failures.length > 0) break;
      if (abort.signal.aborted) {
        // Cancelled between groups: the later hosts never start, the earlier ones are rolled back.
        failures.push(new CnlabError('cancelled', `apply of lab ${plan.labId} was cancelled before host ${group.map((hostPlan) => hostPlan.host).join(', ')}`));
        break;
      }
      try {
        await options.beforeGroup?.(index, group.map((hostPlan) => hostPlan.host));
      } catch (error) {
        failures.push(toCnlabError(error));
        // A group started early (startNextAfter) may still run: it is rolled back anyway.
        abort.abort();
        break;
      }
      const applying = Promise.all(group.map(applyHost)).then(() => undefined);
      running.push(applying);
      const gated = gate.step !== null && group.some((hostPlan) => hostPlan.host === gate.step?.host) && index < groups.length - 1;
      await (gated ? Promise.race([applying, gate.reached]) : applying);
    }
    // applyHost never rejects: every host that started has ended (and said how) once these resolve.
    await Promise.all(running);
    options.signal?.removeEventListener('abort', cancel);

    if (failures.length > 0) {
      for (const host of hosts) options.onEvent?.({ type: 'host', host, status: 'rolling-back' });
      const rollback = await Promise.all(hosts.map((host) => this.teardownHost(plan.labId, host)));
      for (const host of hosts) options.onEvent?.({ type: 'host', host, status: 'rolled-back' });
      const first = failures.find((failure) => failure.code !== 'cancelled') ?? failures[0] ?? new CnlabError('internal', 'apply failed');
      const unclean = rollback.filter((host) => host.error || host.leftovers.length > 0);
      const rollbackNote = unclean.length === 0
        ? 'everything applied on every host was rolled back'
        : `rollback left objects behind on ${unclean.map((host) => `${host.host} (${host.error ?? host.leftovers.map((l) => `${l.kind} ${l.name}`).join(', ')})`).join('; ')}: run \`cnlab sweep\``;
      throw new CnlabError(first.code === 'cancelled' ? 'cancelled' : first.code, `${first.message}; ${rollbackNote}`, { ...first.details, rollback });
    }
    return { status: 'applied', hostDurationsMs, timings, ...(Object.keys(clocks).length > 0 ? { clocks } : {}), ...(clockStepped ? { clockStepped: true as const } : {}) };
  }

  /** Tears a lab down on the given hosts from their ledgers; reports leftovers per host. */
  async teardown(labId: string, hosts: readonly string[]): Promise<HostTeardown[]> {
    return Promise.all(hosts.map((host) => this.teardownHost(labId, host)));
  }

  /** The labs each host holds, read from its ledgers. */
  status(hosts: readonly string[]): Promise<Map<string, LabOnHost[] | CnlabError>> {
    return this.onEachHost(hosts, async (executor) => parseStatus((await executor.runScript(renderStatusScript(), { ...PRIVILEGED, timeoutMs: 30_000 })).stdout));
  }

  sweep(hosts: readonly string[], dryRun: boolean): Promise<Map<string, Leftover[] | CnlabError>> {
    return this.onEachHost(hosts, async (executor) => parseSwept((await executor.runScript(renderSweepScript(dryRun), { ...PRIVILEGED, timeoutMs: 120_000 })).stdout));
  }

  /** Runs on every host in parallel; a host's failure is its entry, not everyone's. */
  private async onEachHost<T>(hosts: readonly string[], work: (executor: HostExecutor) => Promise<T>): Promise<Map<string, T | CnlabError>> {
    const results = await Promise.all(
      hosts.map(async (host): Promise<[string, T | CnlabError]> => {
        try {
          return [host, await work(this.executorFor(host))];
        } catch (error) {
          return [host, toCnlabError(error, `host ${host}`)];
        }
      }),
    );
    return new Map(results);
  }

  /** Pings every expectation from its source's namespace on its host; compares with the expectation. */
  async verify(plan: Pick<LabPlan, 'containers' | 'expectations'>): Promise<VerifyOutcome[]> {
    const containers = new Map<string, PlannedContainer>(plan.containers.map((container) => [container.name, container]));
    const byHost = new Map<string, number[]>();
    plan.expectations.forEach((expectation, index) => {
      const host = containers.get(expectation.from)?.host;
      if (!host) return;
      byHost.set(host, [...(byHost.get(host) ?? []), index]);
    });
    const replies = new Map<number, boolean>();
    await Promise.all(
      [...byHost].map(async ([host, indices]) => {
        const result = await this.executorFor(host).runScript(renderVerifyScript(plan.expectations, containers, indices), { ...PRIVILEGED, timeoutMs: 120_000 });
        for (const [index, replied] of parsePings(result.stdout)) replies.set(index, replied);
      }),
    );
    return plan.expectations.map((expectation, index) => {
      const replied = replies.get(index) ?? false;
      return { ...expectation, replied, ok: replied === expectation.reachable };
    });
  }

  /**
   * CNI CHECK (backend cni) on the given hosts: each plugin ADD the apply recorded there is checked by
   * the same plugin with the same config and its result as prevResult. Runs from what is on the host.
   */
  async check(labId: string, hosts: readonly string[]): Promise<CniCheckOutcome[]> {
    const script = renderCniCheckScript(labNames(labId));
    const results = await Promise.all(
      hosts.map(async (host) => parseCniChecks(host, (await this.executorFor(host).runScript(script, { ...PRIVILEGED, timeoutMs: 120_000 })).stdout)),
    );
    return results.flat();
  }

  private async labStates(labId: string, hosts: readonly string[]): Promise<Map<string, LabOnHost>> {
    const status = await this.status(hosts);
    const found = new Map<string, LabOnHost>();
    for (const [host, labs] of status) {
      if (labs instanceof CnlabError) throw labs;
      const lab = labs.find((entry) => entry.labId === labId);
      if (lab) found.set(host, lab);
    }
    return found;
  }

  private async teardownHost(labId: string, host: string): Promise<HostTeardown> {
    try {
      const result = await this.executorFor(host).runScript(renderTeardownScript(labNames(labId)), { ...PRIVILEGED, timeoutMs: 120_000 });
      const undone = result.stdout.split('\n').filter((line) => line.startsWith('@@cnlab-undone ')).length;
      return { host, undone, leftovers: parseLeftovers(result.stdout) };
    } catch (error) {
      return { host, undone: 0, leftovers: [], error: toCnlabError(error).message };
    }
  }
}
