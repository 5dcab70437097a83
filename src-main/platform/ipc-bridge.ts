// The LabApi over Electron IPC: one handler per request channel, answered by the shared dispatcher, only
// for the main window's own page; event batches forwarded on one channel until the window closes.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import type { LabApiDispatcher } from '../api/lab-api-dispatcher';
import { LAB_API_METHODS, LAB_EVENTS_CHANNEL, channelOf, type LabApiEnvelope } from '../contract/lab-api';
import { isAppUrl, type AppLocation } from './app-url';

function refusal(channel: string): LabApiEnvelope<never> {
  return { ok: false, error: { code: 'unauthorized', message: `${channel} refused: only the cnlab window's own page may use the console API` } };
}

/** Connects `window` to the dispatcher; returns the function that disconnects it (also run when it closes). */
export function bridgeLabApi(window: BrowserWindow, dispatcher: LabApiDispatcher, location: AppLocation): () => void {
  const contents = window.webContents;
  const fromOwnPage = (event: IpcMainInvokeEvent): boolean => event.sender === contents && isAppUrl(event.senderFrame?.url, location);
  const channels = LAB_API_METHODS.map(channelOf);
  for (const [index, channel] of channels.entries()) {
    const method = LAB_API_METHODS[index] ?? '';
    ipcMain.handle(channel, (event, payload: unknown) => (fromOwnPage(event) ? dispatcher.invoke(method, payload) : refusal(channel)));
  }
  const unsubscribe = dispatcher.subscribe((batch) => {
    if (!contents.isDestroyed()) contents.send(LAB_EVENTS_CHANNEL, batch);
  });
  let connected = true;
  const disconnect = (): void => {
    if (!connected) return;
    connected = false;
    unsubscribe();
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
  window.once('closed', disconnect);
  return disconnect;
}
