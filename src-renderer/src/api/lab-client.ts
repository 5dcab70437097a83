// The page's one way to the main process: `window.lab` from the Electron preload, or the same LabApi over
// the browser-mode WebSocket. Components and stores get it from useLabApi(), never from window directly.
import { LAB_API_METHODS, LabApiError, toLabApiError, unwrapEnvelope, type LabApi, type LabApiEnvelope, type LabApiEvent } from '@contract/lab-api';

declare global {
  interface Window {
    lab?: LabApi;
  }
}

type ServerMessage = { id: number; envelope: LabApiEnvelope<unknown> } | { events: LabApiEvent[] };

/** The token the server printed in the URL (`#token=…`); kept for reloads of the same tab only. */
export function browserToken(location: Pick<Location, 'hash'>, storage: Pick<Storage, 'getItem' | 'setItem'> | null): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match?.[1]) {
    storage?.setItem('cnlab-token', match[1]);
    return match[1];
  }
  return storage?.getItem('cnlab-token') ?? null;
}

/** LabApi over a WebSocket: one request/answer pair per call, event batches pushed by the server. */
export function createWebSocketLabApi(url: string, createSocket: (url: string) => WebSocket = (target) => new WebSocket(target)): LabApi {
  const socket = createSocket(url);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners = new Set<(event: LabApiEvent) => void>();
  let nextId = 1;
  let closedError: LabApiError | null = null;
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new LabApiError({ code: 'connection-lost', message: 'cannot reach the cnlab server: is `cnlab serve` still running? Start it again and open the URL it prints' })));
  });
  opened.catch(() => undefined);
  socket.addEventListener('message', (message: MessageEvent<string>) => {
    const data = JSON.parse(message.data) as ServerMessage;
    if ('events' in data) {
      for (const event of data.events) for (const listener of listeners) listener(event);
      return;
    }
    const waiter = pending.get(data.id);
    if (!waiter) return;
    pending.delete(data.id);
    try {
      waiter.resolve(unwrapEnvelope(data.envelope));
    } catch (error) {
      waiter.reject(error as Error);
    }
  });
  socket.addEventListener('close', (event: CloseEvent) => {
    closedError = new LabApiError({
      code: event.code === 4401 ? 'unauthorized' : 'connection-lost',
      message: event.code === 4401 ? 'the cnlab server refused this page: open the URL with the token that `cnlab serve` printed' : 'the connection to the cnlab server closed: restart `cnlab serve` and reload the page',
    });
    for (const waiter of pending.values()) waiter.reject(closedError);
    pending.clear();
  });

  const call = async (method: string, payload: unknown): Promise<unknown> => {
    await opened;
    if (closedError) throw closedError;
    const id = nextId++;
    const answer = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
    socket.send(JSON.stringify({ id, method, payload: payload ?? null }));
    return answer;
  };
  const api: Record<string, unknown> = {
    onEvent(listener: (event: LabApiEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  for (const method of LAB_API_METHODS) api[method] = (payload?: unknown) => call(method, payload);
  return api as unknown as LabApi;
}

/** The preload's API with its plain-object rejections turned back into LabApiErrors (code, details kept). */
export function withLabApiErrors(api: LabApi): LabApi {
  const wrapped: Record<string, unknown> = { onEvent: (listener: (event: LabApiEvent) => void) => api.onEvent(listener) };
  for (const method of LAB_API_METHODS) {
    const byName = api as unknown as Record<string, (payload?: unknown) => Promise<unknown>>;
    wrapped[method] = (payload?: unknown) =>
      (byName[method] as (payload?: unknown) => Promise<unknown>)(payload).catch((reason: unknown) => {
        throw toLabApiError(reason);
      });
  }
  return wrapped as unknown as LabApi;
}

let current: LabApi | null = null;

/** The LabApi of this page: the preload's in Electron, else the browser-mode server's. */
export function useLabApi(): LabApi {
  if (current) return current;
  if (window.lab) current = withLabApiErrors(window.lab);
  else {
    const token = browserToken(window.location, window.sessionStorage);
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    current = createWebSocketLabApi(`${scheme}://${window.location.host}/api?token=${encodeURIComponent(token ?? '')}`);
  }
  return current;
}

/** Tests swap the API for a test double (see test-support/fake-lab-api.ts). */
export function setLabApi(api: LabApi | null): void {
  current = api;
}
