// The one entry both transports (Electron IPC, browser-mode WebSocket) call: checks the method name,
// validates the payload with the shared schema, runs the request and answers with the plain envelope.
import type { z } from 'zod';
import { CnlabError, toCnlabError } from '../core/errors';
import { LAB_API_METHODS, LAB_CHANNEL_PREFIX, type LabApiEnvelope, type LabApiErrorBody, type LabApiMethod, type LabApiRequests } from '../contract/lab-api';
import { LAB_API_REQUEST_SCHEMAS } from '../contract/lab-api-schemas';
import type { EventBatchListener } from './event-batcher';

export interface LabApiDispatcher {
  /** `method` is a bare name (`listHosts`) or a channel (`lab:listHosts`). */
  invoke(method: string, payload: unknown): Promise<LabApiEnvelope<unknown>>;
  /** Batches of events, at most 10 a second; returns the unsubscribe function. */
  subscribe(listener: EventBatchListener): () => void;
}

const KNOWN = new Set<string>(LAB_API_METHODS);

/** Only string/number/boolean details cross (fingerprints, host names): nothing that could carry a secret or a stack. */
function plainDetails(details: Readonly<Record<string, unknown>>): LabApiErrorBody['details'] {
  const entries = Object.entries(details).filter(
    ([, value]) => ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((item) => typeof item === 'string')),
  );
  return entries.length > 0 ? (Object.fromEntries(entries) as LabApiErrorBody['details']) : undefined;
}

export function errorBody(error: unknown): LabApiErrorBody {
  const known = toCnlabError(error);
  // An internal error is a bug: the user gets one line, never a stack trace.
  const message = known.code === 'internal' ? `internal error: ${known.message.split('\n')[0]}` : known.message;
  const details = plainDetails(known.details);
  return { code: known.code, message, ...(details ? { details } : {}) };
}

function describePayloadIssues(method: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 4).map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`);
  return `${method}: invalid request: ${issues.join('; ')}`;
}

export function createLabApiDispatcher(requests: LabApiRequests, subscribe: LabApiDispatcher['subscribe']): LabApiDispatcher {
  return {
    subscribe,
    async invoke(method, payload) {
      const name = method.startsWith(LAB_CHANNEL_PREFIX) ? method.slice(LAB_CHANNEL_PREFIX.length) : method;
      if (!KNOWN.has(name)) return { ok: false, error: { code: 'invalid-input', message: `unknown request ${JSON.stringify(method)}: this console does not offer it` } };
      const schema = LAB_API_REQUEST_SCHEMAS[name as LabApiMethod] as z.ZodType;
      const parsed = schema.safeParse(payload);
      if (!parsed.success) return { ok: false, error: errorBody(new CnlabError('invalid-input', describePayloadIssues(name, parsed.error))) };
      try {
        const requestsByName = requests as unknown as Record<string, (request: unknown) => Promise<unknown>>;
        const value = await requestsByName[name]?.(parsed.data ?? undefined);
        return { ok: true, value: value === undefined ? null : value };
      } catch (error) {
        return { ok: false, error: errorBody(error) };
      }
    },
  };
}
