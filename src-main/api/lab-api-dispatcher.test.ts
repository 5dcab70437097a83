// The dispatcher checks names and payloads before any handler runs and answers plain envelopes: a
// CnlabError keeps its code and safe details, anything else becomes one line without a stack.
import { describe, expect, it, vi } from 'vitest';
import { CnlabError } from '../core/errors';
import type { LabApiRequests } from '../contract/lab-api';
import { createLabApiDispatcher } from './lab-api-dispatcher';

function dispatcherWith(requests: Partial<LabApiRequests>) {
  return createLabApiDispatcher(requests as LabApiRequests, () => () => undefined);
}

describe('createLabApiDispatcher', () => {
  it('runs a valid request by name or by channel', async () => {
    const removeHost = vi.fn(() => Promise.resolve());
    const dispatcher = dispatcherWith({ removeHost });
    expect(await dispatcher.invoke('removeHost', { name: 'h1' })).toEqual({ ok: true, value: null });
    expect(await dispatcher.invoke('lab:removeHost', { name: 'h2' })).toEqual({ ok: true, value: null });
    expect(removeHost).toHaveBeenCalledTimes(2);
  });

  it('refuses unknown names, prototype tricks and bad payloads without calling anything', async () => {
    const removeHost = vi.fn(() => Promise.resolve());
    const dispatcher = dispatcherWith({ removeHost });
    for (const method of ['constructor', '__proto__', 'lab:toString', 'shell']) {
      expect(await dispatcher.invoke(method, {})).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    }
    const bad = await dispatcher.invoke('removeHost', { name: 'h1; rm -rf /' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringMatching(/^removeHost: invalid request: name: /) } });
    expect(await dispatcher.invoke('removeHost', { name: 'h1', extra: true })).toMatchObject({ ok: false });
    expect(removeHost).not.toHaveBeenCalled();
  });

  it('keeps a CnlabError code and plain details; hides everything else behind one line', async () => {
    const dispatcher = dispatcherWith({
      checkHost: () => Promise.reject(new CnlabError('host-key-unknown', 'unknown key', { fingerprint: 'SHA256:abc', port: 22, nested: { secret: 'x' } })),
      probeHost: () => Promise.reject(new TypeError('boom\n    at somewhere (file.ts:1:1)')),
    });
    expect(await dispatcher.invoke('checkHost', { name: 'h1' })).toEqual({ ok: false, error: { code: 'host-key-unknown', message: 'unknown key', details: { fingerprint: 'SHA256:abc', port: 22 } } });
    expect(await dispatcher.invoke('probeHost', { name: 'h1' })).toEqual({ ok: false, error: { code: 'internal', message: 'internal error: boom' } });
  });
});
