// Preload: exposes one small, frozen object to the page and nothing of Electron itself.
// The typed LabApi bridge arrives with the console issue; for now the page learns only what runs it.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('cnlabShell', Object.freeze({ kind: 'electron' as const }));
