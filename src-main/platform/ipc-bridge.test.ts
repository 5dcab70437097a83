// The IPC side of the bridge: every LabApi channel is answered by the dispatcher for the window's own page
// only, event batches reach that page, and closing the window disconnects everything.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabApiDispatcher } from '../api/lab-api-dispatcher';
import type { EventBatchListener } from '../api/event-batcher';
import { LAB_API_METHODS, LAB_EVENTS_CHANNEL, channelOf } from '../contract/lab-api';

// The Electron binary cannot run here, so ipcMain is replaced by this double that keeps the handlers.
const electron = vi.hoisted(() => ({ handlers: new Map<string, (event: unknown, payload: unknown) => unknown>() }));
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, handler: (event: unknown, payload: unknown) => unknown) => electron.handlers.set(channel, handler),
    removeHandler: (channel: string) => electron.handlers.delete(channel),
  },
}));

const { bridgeLabApi } = await import('./ipc-bridge');

const location = { indexFile: '/app/out/renderer/index.html' };
const ownPage = 'file:///app/out/renderer/index.html#/hosts';

function fakeWindow() {
  const sent: { channel: string; batch: unknown }[] = [];
  const closedListeners: (() => void)[] = [];
  const webContents = { send: (channel: string, batch: unknown) => sent.push({ channel, batch }), isDestroyed: () => false };
  const window = { webContents, once: (_name: 'closed', listener: () => void) => closedListeners.push(listener) };
  return { window, webContents, sent, close: () => closedListeners.forEach((listener) => listener()) };
}

function fakeDispatcher() {
  const listeners = new Set<EventBatchListener>();
  const invoke = vi.fn<LabApiDispatcher['invoke']>(() => Promise.resolve({ ok: true, value: 'answered' }));
  const dispatcher: LabApiDispatcher = {
    invoke,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { dispatcher, invoke, listeners };
}

beforeEach(() => electron.handlers.clear());

describe('bridgeLabApi', () => {
  it('registers exactly one handler per LabApi request channel', () => {
    const { window } = fakeWindow();
    bridgeLabApi(window as never, fakeDispatcher().dispatcher, location);
    expect([...electron.handlers.keys()].sort()).toEqual(LAB_API_METHODS.map(channelOf).sort());
  });

  it("answers the window's own page through the dispatcher", async () => {
    const { window, webContents } = fakeWindow();
    const { dispatcher, invoke } = fakeDispatcher();
    bridgeLabApi(window as never, dispatcher, location);
    const answer = await electron.handlers.get('lab:removeHost')?.({ sender: webContents, senderFrame: { url: ownPage } }, { name: 'h1' });
    expect(answer).toEqual({ ok: true, value: 'answered' });
    expect(invoke).toHaveBeenCalledWith('removeHost', { name: 'h1' });
  });

  it('refuses another webContents, or a frame showing another page, without running the request', async () => {
    const { window, webContents } = fakeWindow();
    const { dispatcher, invoke } = fakeDispatcher();
    bridgeLabApi(window as never, dispatcher, location);
    const handler = electron.handlers.get('lab:listHosts');
    const stranger = await handler?.({ sender: {}, senderFrame: { url: ownPage } }, null);
    const navigated = await handler?.({ sender: webContents, senderFrame: { url: 'https://evil.example/' } }, null);
    expect(stranger).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(navigated).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('forwards event batches to the page and disconnects when the window closes', () => {
    const { window, sent, close } = fakeWindow();
    const { dispatcher, listeners } = fakeDispatcher();
    bridgeLabApi(window as never, dispatcher, location);
    listeners.forEach((listener) => listener([{ type: 'hosts-changed' }]));
    expect(sent).toEqual([{ channel: LAB_EVENTS_CHANNEL, batch: [{ type: 'hosts-changed' }] }]);
    close();
    expect(listeners.size).toBe(0);
    expect(electron.handlers.size).toBe(0);
  });
});
