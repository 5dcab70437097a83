// One way for any view to show a failed request: the error's message (and code), never a stack trace.
// Pair it with <ErrorBanner :error="error" @dismiss="clear" />.
import { ref, type Ref } from 'vue';
import { LabApiError } from '@contract/lab-api';

export interface ReportedError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The code and details of an API error. Checked by shape, not class: an error that crossed Electron's
 * contextBridge is a copy made in another world, so `instanceof LabApiError` cannot be relied on.
 */
export function apiErrorOf(error: unknown): { code: string; message: string; details: Record<string, unknown> } | null {
  if (error instanceof LabApiError) return { code: error.code, message: error.message, details: error.details };
  if (typeof error !== 'object' || error === null) return null;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return { code, message, details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {} };
}

/** An API error keeps its code and details; anything else becomes its message alone. */
export function toReportedError(error: unknown): ReportedError {
  const api = apiErrorOf(error);
  if (api) return api;
  if (error instanceof Error && error.message) return { code: 'internal', message: error.message.split('\n')[0] ?? error.message, details: {} };
  return { code: 'internal', message: 'the request failed without a message: see the output of the cnlab process for details', details: {} };
}

export interface ErrorReporter {
  error: Ref<ReportedError | null>;
  report: (error: unknown) => void;
  clear: () => void;
  /** Runs an action, reporting its failure instead of throwing; resolves to undefined when it failed. */
  attempt: <T>(action: () => Promise<T>) => Promise<T | undefined>;
}

export function useErrorReporter(): ErrorReporter {
  const error = ref<ReportedError | null>(null);
  const report = (failure: unknown) => (error.value = toReportedError(failure));
  const clear = () => (error.value = null);
  async function attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    clear();
    try {
      return await action();
    } catch (failure) {
      report(failure);
      return undefined;
    }
  }
  return { error, report, clear, attempt };
}
