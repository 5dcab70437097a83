// Errors reach the page as LabApiError or as copies without the class (Electron's contextBridge); either
// way the code and message are kept, and nothing else but a message (never a stack) is shown.
import { describe, expect, it } from 'vitest';
import { LabApiError } from '@contract/lab-api';
import { apiErrorOf, toReportedError, useErrorReporter } from './use-error-reporter';

describe('error reporting', () => {
  it('keeps code, message and details of an API error, whatever its class', () => {
    expect(apiErrorOf(new LabApiError({ code: 'not-found', message: 'no host node9', details: { name: 'node9' } }))).toEqual({ code: 'not-found', message: 'no host node9', details: { name: 'node9' } });
    const copied = Object.assign(new Error('unknown key'), { code: 'host-key-unknown', details: { fingerprint: 'SHA256:abc' } });
    expect(apiErrorOf(copied)?.details).toEqual({ fingerprint: 'SHA256:abc' });
    expect(apiErrorOf(new Error('plain'))).toBeNull();
  });

  it('shows only the first line of an unexpected error, never its stack', () => {
    const error = new Error('boom\n    at secret (file.ts:1:1)');
    expect(toReportedError(error)).toEqual({ code: 'internal', message: 'boom', details: {} });
    expect(toReportedError('weird').message).toContain('failed without a message');
  });

  it('attempt reports a failure and resolves undefined', async () => {
    const reporter = useErrorReporter();
    const result = await reporter.attempt(() => Promise.reject(new LabApiError({ code: 'invalid-request', message: 'a port is a number' })));
    expect(result).toBeUndefined();
    expect(reporter.error.value?.message).toBe('a port is a number');
    expect(await reporter.attempt(() => Promise.resolve(7))).toBe(7);
    expect(reporter.error.value).toBeNull();
  });
});
