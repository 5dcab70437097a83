// The page's LabApi clients: the WebSocket one pairs answers with requests, turns error envelopes into
// LabApiErrors, delivers pushed events and fails pending calls when the server closes; the Electron one
// gets its plain-object rejections back as LabApiErrors; the token comes from the URL fragment.
import { describe, expect, it } from 'vitest';
import { LabApiError, type LabApi, type LabApiEvent } from '@contract/lab-api';
import { browserToken, createWebSocketLabApi, withLabApiErrors } from './lab-client';

/** A stand-in for the browser's WebSocket (happy-dom has no server to talk to): records what is sent. */
class FakeSocket extends EventTarget {
  sent: { id: number; method: string; payload: unknown }[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { id: number; method: string; payload: unknown });
  }
  open(): void {
    this.dispatchEvent(new Event('open'));
  }
  receive(data: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(data) }));
  }
  close(code: number): void {
    this.dispatchEvent(Object.assign(new Event('close'), { code }));
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createWebSocketLabApi', () => {
  it('answers each call with its own envelope, errors as LabApiError with code and details', async () => {
    const socket = new FakeSocket();
    const api = createWebSocketLabApi('ws://x/api?token=t', () => socket as unknown as WebSocket);
    socket.open();
    const hosts = api.listHosts();
    const check = api.checkHost({ name: 'h1' });
    await tick();
    expect(socket.sent.map((message) => message.method)).toEqual(['listHosts', 'checkHost']);
    const [first, second] = socket.sent;
    socket.receive({ id: second?.id, envelope: { ok: false, error: { code: 'host-key-unknown', message: 'unknown key', details: { fingerprint: 'SHA256:x' } } } });
    socket.receive({ id: first?.id, envelope: { ok: true, value: [] } });
    await expect(hosts).resolves.toEqual([]);
    const error = await check.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabApiError);
    expect(error).toMatchObject({ code: 'host-key-unknown', details: { fingerprint: 'SHA256:x' } });
  });

  it('delivers pushed events until unsubscribed, and fails pending calls when refused (4401)', async () => {
    const socket = new FakeSocket();
    const api = createWebSocketLabApi('ws://x/api', () => socket as unknown as WebSocket);
    socket.open();
    const seen: LabApiEvent[] = [];
    const unsubscribe = api.onEvent((event) => seen.push(event));
    socket.receive({ events: [{ type: 'hosts-changed' }, { type: 'hosts-changed' }] });
    unsubscribe();
    socket.receive({ events: [{ type: 'hosts-changed' }] });
    expect(seen).toHaveLength(2);
    const pending = api.listHosts();
    await tick();
    socket.close(4401);
    await expect(pending).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/token/) });
  });
});

describe('withLabApiErrors', () => {
  it('turns the preload plain-object rejection back into a LabApiError', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- exactly what the preload does, on purpose
    const preload = { checkHost: () => Promise.reject({ code: 'host-key-changed', message: 'changed' }), onEvent: () => () => undefined } as unknown as LabApi;
    const error = await withLabApiErrors(preload).checkHost({ name: 'h1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabApiError);
    expect(error).toMatchObject({ code: 'host-key-changed' });
  });
});

describe('browserToken', () => {
  it('reads the token from the fragment and remembers it for reloads', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (key: string) => store.get(key) ?? null, setItem: (key: string, value: string) => void store.set(key, value) };
    expect(browserToken({ hash: '#token=abc_DEF-1' }, storage)).toBe('abc_DEF-1');
    expect(browserToken({ hash: '' }, storage)).toBe('abc_DEF-1');
    expect(browserToken({ hash: '' }, null)).toBeNull();
  });
});
