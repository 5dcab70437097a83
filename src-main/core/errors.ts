// The one error type cnlab shows to users: a stable code, a message that names the thing and the fix.
// Everything that crosses to a user (CLI, UI) is a CnlabError; anything else is a bug and is wrapped.

export type ErrorCode =
  | 'usage'
  | 'invalid-input'
  | 'not-found'
  | 'already-exists'
  | 'host-unreachable'
  | 'connection-refused'
  | 'dns-failure'
  | 'connect-timeout'
  | 'auth-failed'
  | 'key-encrypted'
  | 'key-unreadable'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'connection-lost'
  | 'timeout'
  | 'cancelled'
  | 'not-privileged'
  | 'command-failed'
  | 'workload-failed'
  | 'tool-missing'
  | 'io'
  | 'internal';

export class CnlabError extends Error {
  readonly code: ErrorCode;
  /** Structured facts for callers (fingerprints, host name...): never secrets. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CnlabError';
    this.code = code;
    this.details = details;
  }
}

export function isCnlabError(value: unknown): value is CnlabError {
  return value instanceof CnlabError;
}

/** Turns anything thrown into a CnlabError, keeping a known one as it is. */
export function toCnlabError(value: unknown, context?: string): CnlabError {
  if (value instanceof CnlabError) return value;
  const text = value instanceof Error ? value.message : String(value);
  return new CnlabError('internal', context ? `${context}: ${text}` : text, {}, { cause: value });
}
