// Which page may use the privileged bridge: the app's own index.html (packaged) or the electron-vite dev
// server (development). Pure, so the rule the IPC bridge and navigation guard share is unit-tested.
import { pathToFileURL } from 'node:url';

export interface AppLocation {
  /** Absolute path of the built renderer's index.html. */
  indexFile: string;
  /** ELECTRON_RENDERER_URL in development, else undefined. */
  devServerUrl?: string | undefined;
}

/** The app's own page: same file (any hash or query), or same origin as the dev server. */
export function isAppUrl(url: string | undefined, location: AppLocation): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (location.devServerUrl) {
    try {
      return parsed.origin === new URL(location.devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return parsed.protocol === 'file:' && parsed.pathname === pathToFileURL(location.indexFile).pathname;
}

/** Links the system browser may open: plain web pages only (never file:, javascript: or custom schemes). */
export function isExternalWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
