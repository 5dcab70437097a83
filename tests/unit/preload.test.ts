// The preload's bridge as the page sees it: exactly `window.lab` with the LabApi methods and onEvent,
// calls on `lab:<method>`, error envelopes as rejections, and no Electron event object ever handed out.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LAB_API_METHODS, LAB_EVENTS_CHANNEL, LabApiError, toLabApiError, type LabApi, type LabApiEvent } from '../../src-main/contract/lab-api';

// The Electron binary cannot run here (it is never downloaded), so `electron` is replaced by this double
// that records what the preload exposes and stands in for ipcRenderer.
const electron = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    exposed: new Map<string, unknown>(),
    listeners,
    invoke: vi.fn<(channel: string, payload: unknown) => Promise<unknown>>(),
  };
});

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => electron.exposed.set(key, value) },
  ipcRenderer: {
    invoke: electron.invoke,
    on(channel: string, listener: (...args: unknown[]) => void) {
      if (!electron.listeners.has(channel)) electron.listeners.set(channel, new Set());
      electron.listeners.get(channel)?.add(listener);
    },
    removeListener(channel: string, listener: (...args: unknown[]) => void) {
      electron.listeners.get(channel)?.delete(listener);
    },
  },
}));

await import('../../src-main/preload/index');
const lab = electron.exposed.get('lab') as LabApi;

function sendFromMain(channel: string, batch: LabApiEvent[]): void {
  const ipcEvent = { sender: { send: () => undefined }, senderId: 0, ports: [] };
  for (const listener of electron.listeners.get(channel) ?? []) listener(ipcEvent, batch);
}

beforeEach(() => {
  electron.invoke.mockReset();
});

describe('preload', () => {
  it('exposes only `lab`, frozen', () => {
    expect([...electron.exposed.keys()]).toEqual(['lab']);
    expect(Object.isFrozen(lab)).toBe(true);
  });

  it('offers exactly the LabApi requests plus onEvent', () => {
    expect(Object.keys(lab).sort()).toEqual([...LAB_API_METHODS, 'onEvent'].sort());
  });

  it('sends a request on lab:<method> with its payload and resolves with the value', async () => {
    electron.invoke.mockResolvedValue({ ok: true, value: [{ name: 'h1' }] });
    await expect(lab.removeHost({ name: 'h1' })).resolves.toEqual([{ name: 'h1' }]);
    expect(electron.invoke).toHaveBeenCalledWith('lab:removeHost', { name: 'h1' });
  });

  it('rejects with the plain error body (contextBridge would strip an Error), which the page turns into a LabApiError', async () => {
    electron.invoke.mockResolvedValue({ ok: false, error: { code: 'host-key-unknown', message: 'h1: unknown host key', details: { fingerprint: 'SHA256:abc' } } });
    const reason = await lab.checkHost({ name: 'h1' }).catch((caught: unknown) => caught);
    expect(reason).not.toBeInstanceOf(Error);
    // What crosses the bridge: a structured clone of the plain object keeps every field.
    const crossed = structuredClone(reason);
    const error = toLabApiError(crossed);
    expect(error).toBeInstanceOf(LabApiError);
    expect(error).toMatchObject({ code: 'host-key-unknown', message: 'h1: unknown host key', details: { fingerprint: 'SHA256:abc' } });
  });

  it('hands a listener only the events of a batch, never the Electron event object', () => {
    const received: unknown[][] = [];
    const unsubscribe = lab.onEvent((...args: unknown[]) => received.push(args));
    sendFromMain(LAB_EVENTS_CHANNEL, [{ type: 'hosts-changed' }, { type: 'menu', action: 'toggle-theme' }]);
    unsubscribe();
    expect(received).toEqual([[{ type: 'hosts-changed' }], [{ type: 'menu', action: 'toggle-theme' }]]);
  });

  it('registers one IPC listener per subscription and removes it on unsubscribe', () => {
    const seen: LabApiEvent[] = [];
    const first = lab.onEvent((event) => seen.push(event));
    const second = lab.onEvent(() => undefined);
    expect(electron.listeners.get(LAB_EVENTS_CHANNEL)?.size).toBe(2);
    first();
    expect(electron.listeners.get(LAB_EVENTS_CHANNEL)?.size).toBe(1);
    sendFromMain(LAB_EVENTS_CHANNEL, [{ type: 'hosts-changed' }]);
    expect(seen).toEqual([]);
    second();
    expect(electron.listeners.get(LAB_EVENTS_CHANNEL)?.size).toBe(0);
  });
});
