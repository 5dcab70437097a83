// Preload: exposes exactly one frozen object, `window.lab`, implementing the LabApi over IPC; nothing of
// Electron itself (no ipcRenderer, no event objects) reaches the page. Imports no zod, to stay small.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { LAB_API_METHODS, LAB_CHANNEL_PREFIX, LAB_EVENTS_CHANNEL, channelOf, type LabApi, type LabApiEnvelope, type LabApiEvent } from '../contract/lab-api';

const KNOWN_CHANNELS = new Set<string>(LAB_API_METHODS.map(channelOf));

/** Every call is checked here too, so even a bug in this file cannot reach a channel outside the API. */
async function invoke(channel: string, payload: unknown): Promise<unknown> {
  if (!channel.startsWith(LAB_CHANNEL_PREFIX) || !KNOWN_CHANNELS.has(channel)) throw new Error(`cnlab preload: ${channel} is not a LabApi channel`);
  const envelope = (await ipcRenderer.invoke(channel, payload ?? null)) as LabApiEnvelope<unknown>;
  if (envelope.ok) return envelope.value;
  // A plain object, not an Error: contextBridge would drop an Error's code and details (see toLabApiError).
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw { code: envelope.error.code, message: envelope.error.message, ...(envelope.error.details ? { details: envelope.error.details } : {}) };
}

function onEvent(listener: (event: LabApiEvent) => void): () => void {
  // One ipcRenderer listener per subscription, so unsubscribing removes exactly this one.
  const forward = (_event: IpcRendererEvent, batch: LabApiEvent[]): void => {
    for (const event of batch) listener(event);
  };
  ipcRenderer.on(LAB_EVENTS_CHANNEL, forward);
  return () => {
    ipcRenderer.removeListener(LAB_EVENTS_CHANNEL, forward);
  };
}

export function createPreloadLabApi(): LabApi {
  const api: Record<string, unknown> = { onEvent };
  for (const method of LAB_API_METHODS) api[method] = (payload?: unknown) => invoke(channelOf(method), payload);
  return Object.freeze(api) as unknown as LabApi;
}

contextBridge.exposeInMainWorld('lab', createPreloadLabApi());
