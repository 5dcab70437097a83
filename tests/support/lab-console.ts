// The console's real backend for integration tests, driven through the dispatcher both transports use:
// a throwaway workspace, every event batch recorded, and helpers to call requests and wait for jobs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoLabController } from '../../src-main/api/demo-area';
import { openLabConsole, type LabConsole } from '../../src-main/api/lab-console';
import type { LabApiEnvelope, LabApiEvent } from '../../src-main/contract/lab-api';

// The demo lab has its own tests (demo-lab.test.ts); elsewhere it must never start, so this double refuses.
const noDemoLab: DemoLabController = {
  availability: () => Promise.resolve({ available: false, reason: 'not in this test' }),
  current: () => Promise.resolve(null),
  start: () => Promise.reject(new Error('not in this test')),
  stop: () => Promise.resolve(),
};

export type JobFinished = Extract<LabApiEvent, { type: 'job-finished' }>;

export interface TestConsole {
  console: LabConsole;
  scratch: string;
  workspaceDir: string;
  /** HOME and CNLAB_CONFIG_DIR of this console, for running the CLI on the same workspace. */
  env: { HOME: string; CNLAB_CONFIG_DIR: string };
  /** Every batch as it arrived, with its arrival time. */
  batches: { at: number; events: LabApiEvent[] }[];
  events(): LabApiEvent[];
  call<T>(method: string, payload?: unknown): Promise<LabApiEnvelope<T>>;
  /** The request's value; throws with the error's code and message when it failed. */
  value<T>(method: string, payload?: unknown): Promise<T>;
  finished(jobId: string, timeoutMs?: number): Promise<JobFinished>;
  dispose(): Promise<void>;
}

/** An empty HOME and config folder: no host key is known, so trust is given explicitly or not at all. */
export async function openTestConsole(prefix: string): Promise<TestConsole> {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const env = { HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config') };
  const workspaceDir = join(scratch, 'ws');
  const lab = await openLabConsole({ workspaceDir, configDir: env.CNLAB_CONFIG_DIR, homeDir: env.HOME, env: {}, shell: 'browser', demoLab: noDemoLab });
  const batches: TestConsole['batches'] = [];
  lab.dispatcher.subscribe((batch) => batches.push({ at: Date.now(), events: batch }));
  const events = (): LabApiEvent[] => batches.flatMap((batch) => batch.events);
  const call = async <T>(method: string, payload?: unknown): Promise<LabApiEnvelope<T>> => (await lab.dispatcher.invoke(method, payload)) as LabApiEnvelope<T>;
  return {
    console: lab,
    scratch,
    workspaceDir,
    env,
    batches,
    events,
    call,
    async value<T>(method: string, payload?: unknown): Promise<T> {
      const envelope = await call<T>(method, payload);
      if (!envelope.ok) throw new Error(`${method} failed: ${envelope.error.code}: ${envelope.error.message}`);
      return envelope.value;
    },
    async finished(jobId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = events().find((event): event is JobFinished => event.type === 'job-finished' && event.jobId === jobId);
        if (done) return done;
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async dispose() {
      await lab.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
